// Our loose-object writer against git and isomorphic-git: the same ids for
// blobs, trees (git's entry order) and commits; a damaged object file is
// replaced, a valid one reused. Reads of a damaged repository fail by name.
import { execFileSync } from 'node:child_process';
import fs, { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../../src/errors.js';
import {
  commitContent,
  looseObjectPath,
  looseObjectValid,
  objectId,
  treeContent,
  writeObject,
  type TreeItem,
} from '../../src/git/objects.js';
import { Repo } from '../../src/git/repo.js';
import { evidenceRecorder, PendingEvidence } from '../../src/status/pending.js';

let dir: string;
let gitdir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-objects-'));
  gitdir = path.join(dir, 'repo.git');
  run('git', ['init', '-q', '--bare', '-b', 'main', gitdir]);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], input?: string | Buffer, env: NodeJS.ProcessEnv = {}): string {
  const opts = { input, encoding: 'utf8' as const, env: { ...process.env, ...env }, stdio: 'pipe' as const };
  return execFileSync(cmd, args, opts);
}
const gitIn = (args: string[], input?: string | Buffer, env?: NodeJS.ProcessEnv) =>
  run('git', ['--git-dir', gitdir, ...args], input, env).trim();
const hashBlob = (text: string) => gitIn(['hash-object', '-w', '--stdin'], text);

describe('object ids match git and isomorphic-git', () => {
  it('blobs, including empty and non-UTF-8 bytes', async () => {
    for (const content of [Buffer.from(''), Buffer.from('hello\n'), Buffer.from([0, 255, 10, 13, 0xc3])]) {
      const ours = await writeObject(gitdir, 'blob', content);
      expect(ours).toBe(objectId('blob', content));
      expect(ours).toBe(gitIn(['hash-object', '--stdin'], content));
      expect(ours).toBe((await git.hashBlob({ object: content })).oid);
    }
    expect(gitIn(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });

  it('trees in git order: a folder sorts as if its name ended in "/"', async () => {
    run('git', ['init', '-q', '--bare', path.join(dir, 'iso.git')]);
    const blob = hashBlob('x\n');
    const sub = gitIn(['mktree'], `100644 blob ${blob}\tinner\n`);
    const who = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    const gitlink = gitIn(['commit-tree', sub, '-m', 'sub'], undefined, who);
    const file = (name: string): TreeItem => ({ mode: '100644', path: name, oid: blob });
    const folder = (name: string): TreeItem => ({ mode: '040000', path: name, oid: sub });
    const cases: TreeItem[][] = [
      // file "a" before "a.b"; folder "a" ("a/") after "a-" and "a.b", before "a0"
      [file('a'), file('a.b'), folder('ab')],
      [folder('a'), file('a.b'), file('a-'), file('a0')],
      [
        { mode: '100755', path: 'run', oid: blob },
        { mode: '120000', path: 'link', oid: blob },
        { mode: '160000', path: 'mod', oid: gitlink },
        folder('status'),
      ],
      // UTF-8 byte order, not UTF-16 code units: U+FF5E sorts before U+1F600
      [file('\u{1F600}'), file('\uFF5E'), file('z')],
      [],
    ];
    for (const entries of cases) {
      const ours = await writeObject(gitdir, 'tree', treeContent([...entries].reverse()));
      const type = (m: string) => (m === '040000' ? 'tree' : m === '160000' ? 'commit' : 'blob');
      const mktree = entries.map((e) => `${e.mode} ${type(e.mode)} ${e.oid}\t${e.path}\n`).join('');
      expect(ours).toBe(gitIn(['mktree', '--missing'], mktree));
      if (!entries.some((e) => /[^\x20-\x7e]/.test(e.path))) {
        const tree = entries.map((e) => ({ ...e, type: type(e.mode) as 'blob' }));
        const iso = await git.writeTree({ fs, gitdir: path.join(dir, 'iso.git'), tree });
        expect(ours).toBe(iso);
      }
      expect(gitIn(['cat-file', '-t', ours])).toBe('tree');
    }
  });

  it('commits, as isomorphic-git and git commit-tree write them', async () => {
    run('git', ['init', '-q', '--bare', path.join(dir, 'iso.git')]);
    const tree = await writeObject(gitdir, 'tree', treeContent([{ mode: '100644', path: 'f', oid: hashBlob('f\n') }]));
    const author = { name: 'gitfleet', email: 'gitfleet@host', timestamp: 1_796_000_000, timezoneOffset: 0 };
    const first = { tree, parent: [], author, committer: author, message: 'first' };
    const root = await writeObject(gitdir, 'commit', commitContent(first));
    const env = {
      GIT_AUTHOR_NAME: 'gitfleet',
      GIT_AUTHOR_EMAIL: 'gitfleet@host',
      GIT_AUTHOR_DATE: '@1796000000 +0000',
      GIT_COMMITTER_NAME: 'gitfleet',
      GIT_COMMITTER_EMAIL: 'gitfleet@host',
      GIT_COMMITTER_DATE: '@1796000000 +0000',
    };
    expect(root).toBe(gitIn(['commit-tree', tree, '-m', 'first'], undefined, env));
    const east = { ...author, timezoneOffset: -90 };
    const second = { tree, parent: [root], author: east, committer: author, message: 'two\n\nlines\n' };
    const child = await writeObject(gitdir, 'commit', commitContent(second));
    expect(child).toBe(await git.writeCommit({ fs, gitdir: path.join(dir, 'iso.git'), commit: second }));
    const log = gitIn(['log', '--format=%ai|%s', child]);
    expect(log).toBe('2026-11-30 02:23:20 +0130|two\n2026-11-30 00:53:20 +0000|first');
    expect(gitIn(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });

  it('rejects a tree git would reject', () => {
    const oid = '0'.repeat(40);
    expect(() => treeContent([{ mode: '100644', path: 'a/b', oid }])).toThrow(/single path component/);
    const a = { mode: '100644', path: 'a', oid };
    expect(() => treeContent([a, a])).toThrow(/twice/);
    expect(() => treeContent([{ mode: '100600', path: 'a', oid }])).toThrow(/mode/);
  });
});

describe('writeObject is crash-safe', () => {
  it('replaces an empty or truncated object file, reuses a valid one, leaves no temporary file', async () => {
    const content = Buffer.from('status\n'.repeat(100));
    const oid = objectId('blob', content);
    const file = looseObjectPath(gitdir, oid);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, ''); // what a kill between create and write leaves
    expect(await looseObjectValid(gitdir, oid)).toBe(false);
    expect(await writeObject(gitdir, 'blob', content)).toBe(oid);
    expect(gitIn(['cat-file', '-p', oid])).toBe(content.toString().trim());

    const good = fs.readFileSync(file);
    fs.chmodSync(file, 0o644);
    writeFileSync(file, good.subarray(0, good.length - 4)); // truncated
    expect(await looseObjectValid(gitdir, oid)).toBe(false);
    await writeObject(gitdir, 'blob', content);
    expect(gitIn(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');

    const ino = statSync(file).ino;
    await writeObject(gitdir, 'blob', content);
    expect(statSync(file).ino).toBe(ino); // valid: not written again
    expect(statSync(file).mode & 0o777).toBe(0o444);
    expect(readdirSync(path.dirname(file)).filter((n) => n.startsWith('tmp_'))).toEqual([]);
  });
});

describe('a status commit that changes nothing', () => {
  it('returns null and writes no object: what the branch holds is hashed, not written or read back', async () => {
    const repo = await Repo.open(gitdir);
    const now = new Date('2026-11-29T12:00:00Z');
    const changes = [
      { path: 'status/h.json', content: '{"ready": 3}\n' },
      { path: 'status/h.md', content: '# h\n' },
      { path: 'evidence/h/2026-11-29/a.json', content: '{}\n' },
    ];
    const commit = (base: string) =>
      repo.commitFiles({ branch: 'main', base, changes, message: 'status', author: { name: 't', email: 't@t' }, now });
    const who = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    const root = gitIn(['commit-tree', gitIn(['mktree'], ''), '-m', 'root'], undefined, who);
    const first = await commit(root);
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    // Everything into a pack: a no-op that wrote (or re-read) its blobs and trees would leave loose copies again.
    gitIn(['repack', '-a', '-d', '-q']);
    gitIn(['prune-packed']);
    const loose = () => readdirSync(path.join(gitdir, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d));
    expect(loose()).toEqual([]);
    expect(await commit(first!)).toBeNull();
    expect(loose()).toEqual([]);
    expect(gitIn(['rev-parse', 'main'])).toBe(first);
  });
});

describe("a status commit of many files in one folder (a cold start's evidence)", () => {
  it('writes them a few at a time and commits exactly them, as git reads them', async () => {
    const repo = await Repo.open(gitdir);
    const who = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    const root = gitIn(['commit-tree', gitIn(['mktree'], ''), '-m', 'root'], undefined, who);
    const day = 'evidence/h/2026-11-29';
    // Two files with the same text (the first two, written together): one object, two writers at once.
    const files = Array.from({ length: 40 }, (_, i) => ({
      path: `${day}/120000Z-create_session-a${String(i).padStart(2, '0')}.json`,
      content: i === 1 ? '{"n": 0}\n' : `{"n": ${i}}\n`,
    }));
    const changes = [...files, { path: 'status/h.json', content: '{}\n' }];
    const now = new Date('2026-11-29T12:00:00Z');
    const author = { name: 't', email: 't@t' };
    const head = await repo.commitFiles({ branch: 'main', base: root, changes, message: 'status', author, now });
    expect(gitIn(['rev-parse', 'main'])).toBe(head);
    expect(gitIn(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
    const listed = gitIn(['ls-tree', '-r', '--name-only', 'main']).split('\n');
    expect(listed).toEqual(changes.map((c) => c.path).sort());
    for (const c of [files[0]!, files[1]!, files[39]!])
      expect(`${gitIn(['show', `main:${c.path}`])}\n`).toBe(c.content);
    const tmp = readdirSync(path.join(gitdir, 'objects'), { recursive: true }).filter((p) =>
      String(p).includes('tmp_'),
    );
    expect(tmp).toEqual([]);
  });
});

describe('a file whose text is made only when needed (LazyText)', () => {
  it('stays unmade when the branch holds its blob, and is made and committed when it does not', async () => {
    const repo = await Repo.open(gitdir);
    const now = new Date('2026-11-29T12:00:00Z');
    const who = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    const root = gitIn(['commit-tree', gitIn(['mktree'], ''), '-m', 'root'], undefined, who);
    let made = 0;
    const page = (text: string, blob: string | null) => ({
      blob,
      text: () => {
        made++;
        return text;
      },
    });
    const commit = (base: string, json: string, md: { blob: string | null; text: () => string }) =>
      repo.commitFiles({
        branch: 'main',
        base,
        changes: [
          { path: 'status/h.json', content: json },
          { path: 'status/h.md', content: md },
        ],
        message: 'status',
        author: { name: 't', email: 't@t' },
        now,
      });
    const first = (await commit(root, '{"a":1}\n', page('# one\n', null)))!;
    expect(made).toBe(1);
    expect(gitIn(['show', `${first}:status/h.md`])).toBe('# one');
    const one = objectId('blob', Buffer.from('# one\n'));
    // Known blob, already on the branch: nothing made, nothing committed.
    expect(await commit(first, '{"a":1}\n', page('# one\n', one))).toBeNull();
    expect(made).toBe(1);
    // Known blob, the JSON changed: the page entry is kept as it is, unmade.
    const second = (await commit(first, '{"a":2}\n', page('never made\n', one)))!;
    expect(made).toBe(1);
    expect(gitIn(['show', `${second}:status/h.md`])).toBe('# one');
    // A blob the branch does not hold (a page edited by hand, a stale memo): made and written.
    const third = (await commit(second, '{"a":2}\n', page('# two\n', objectId('blob', Buffer.from('# x\n')))))!;
    expect(made).toBe(2);
    expect(gitIn(['show', `${third}:status/h.md`])).toBe('# two');
    expect(gitIn(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });
});

describe('reading a damaged repository', () => {
  let work: string;
  beforeEach(() => {
    work = path.join(dir, 'work');
    run('git', ['init', '-q', '-b', 'main', work]);
    mkdirSync(path.join(work, 'rosters'));
    writeFileSync(path.join(work, 'rosters', 'team.yaml'), 'version: 1\n');
    writeFileSync(path.join(work, 'fleet.yaml'), 'fleet: demo\n');
    const w = (args: string[]) => run('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args]);
    w(['add', '-A']);
    w(['commit', '-q', '-m', 'one']);
    w(['push', '-q', gitdir, 'HEAD:main']);
  });
  const rm = (oid: string) => rmSync(looseObjectPath(gitdir, oid), { force: true });

  it('a missing folder tree is a TerminalError naming the object and path, an absent path is []', async () => {
    const repo = await Repo.open(gitdir);
    const head = (await repo.resolve('main'))!;
    expect(await repo.listDir(head, 'nothing')).toEqual([]);
    expect(await repo.readFileAt(head, 'nothing.yaml')).toBeNull();
    const rosters = (await repo.entryAt(head, 'rosters'))!;
    expect(rosters).toMatchObject({ type: 'tree', mode: '040000' });
    const listed = (await repo.listDir(head, 'rosters')).map((e) => [e.path, e.type, e.mode]);
    expect(listed).toEqual([['team.yaml', 'blob', '100644']]);
    rm(rosters.oid);
    const fresh = await Repo.open(gitdir);
    const err = await fresh.listDir(head, 'rosters').catch((e) => e);
    expect(err).toBeInstanceOf(TerminalError);
    const damaged = 'the repository is damaged; run git fsck';
    const missing = `object ${rosters.oid} (rosters/) is missing from ${gitdir}: ${damaged}`;
    expect(err.message).toBe(missing);
    await expect(fresh.readFileAt(head, 'rosters/team.yaml')).rejects.toThrow(missing);
  });

  it('a missing or empty blob is a TerminalError, not a crash', async () => {
    const repo = await Repo.open(gitdir);
    const head = (await repo.resolve('main'))!;
    const blob = (await repo.entryAt(head, 'fleet.yaml'))!.oid;
    rm(blob);
    const missing = `object ${blob} (fleet.yaml) is missing from ${gitdir}: the repository is damaged; run git fsck`;
    await expect((await Repo.open(gitdir)).readFileAt(head, 'fleet.yaml')).rejects.toThrow(new TerminalError(missing));
    writeFileSync(looseObjectPath(gitdir, blob), '');
    const err = await (await Repo.open(gitdir)).readBlob(blob, 'fleet.yaml').catch((e) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.message).toMatch(new RegExp(`^object ${blob} \\(fleet.yaml\\) cannot be read from .*run git fsck$`));
  });

  it('a folder where a file belongs, or a file where a folder belongs, is an error, never "absent"', async () => {
    const repo = await Repo.open(gitdir);
    const head = (await repo.resolve('main'))!;
    const notFolder = `fleet.yaml at commit ${head} is a file, not a folder`;
    await expect(repo.listDir(head, 'fleet.yaml')).rejects.toThrow(notFolder);
    await expect(repo.readFileAt(head, 'rosters')).rejects.toThrow(`rosters at commit ${head} is a folder, not a file`);
  });

  it('a ref lock: waits for it to go, else says what it is', async () => {
    const repo = await Repo.open(gitdir);
    const lock = path.join(gitdir, 'refs', 'heads', 'main.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 600_000);
    utimesSync(lock, old, old);
    const started = Date.now();
    const err = await repo.assertRefUnlocked('main', 300).catch((e) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(
      new RegExp(
        `^${lock} exists \\(age (599|600|601) s\\): a git process crashed while updating main, ` +
          'or one is running now; if no git process is running, remove it$',
      ),
    );
    setTimeout(() => rmSync(lock), 150);
    await repo.assertRefUnlocked('main', 2000);
  });
});

describe('pending evidence', () => {
  it('keeps files under unique paths, lists them, forgets them after the commit', async () => {
    const store = new PendingEvidence(path.join(dir, 'state'), 'demo');
    expect(store.root).toBe(path.join(dir, 'state', 'pending', 'demo'));
    const committed = new Set(['evidence/h/2026-11-29/120000Z-create_session-a-2.json']);
    const taken = async (p: string) => committed.has(p);
    const base = 'evidence/h/2026-11-29/120000Z-create_session-a.json';
    const paths = await Promise.all([1, 2, 3].map((n) => store.add({ path: base, content: `${n}\n` }, taken)));
    expect([...paths].sort()).toEqual([base.replace('.json', '-3.json'), base.replace('.json', '-4.json'), base]);
    // a killed writer's temporary file is not evidence
    writeFileSync(path.join(store.root, 'evidence', 'h', '2026-11-29', '.tmp-1-x'), 'partial');
    const listed = await store.list();
    expect(listed.map((f) => f.path)).toEqual([...paths].sort());
    expect(listed.map((f) => f.content).sort()).toEqual(['1\n', '2\n', '3\n']);
    expect(fs.existsSync(path.join(store.root, base))).toBe(true);
    await store.remove(listed.slice(0, 2).map((f) => f.path));
    expect((await store.list()).map((f) => f.path)).toEqual([listed[2]!.path]);
    // A folder another file is still in stays; emptied ones go, up to the store's root, which stays.
    const other = 'evidence/g/2026-11-30/120000Z-create_session-b.json';
    await store.add({ path: other, content: 'b\n' }, taken);
    rmSync(path.join(store.root, 'evidence', 'h', '2026-11-29', '.tmp-1-x'));
    await store.remove([listed[2]!.path]);
    expect(fs.existsSync(path.join(store.root, 'evidence', 'h'))).toBe(false);
    expect((await store.list()).map((f) => f.path)).toEqual([other]);
    await store.remove([other]);
    expect(readdirSync(store.root)).toEqual([]);
    await expect(store.add({ path: '../escape.json', content: '' }, taken)).rejects.toThrow(/not an evidence path/);
  });

  it('an action whose run is killed leaves "interrupted" evidence, once, never beside its final record', async () => {
    const stateDir = path.join(dir, 'state');
    const ctx = { fleet: 'demo', host: 'h', desiredRevision: 'a'.repeat(40) };
    const taken = async () => false;
    const action = (session: string) => ({
      kind: 'create_session' as const,
      target: `s/${session}`,
      reason: 'missing' as const,
      apply: { socket: 's', session },
      detail: {},
    });
    // Run 1: two actions start; one finishes (final record kept), then the run is killed.
    const run1 = evidenceRecorder(new PendingEvidence(stateDir, 'demo'), ctx, taken);
    const [a, b] = [action('a'), action('b')];
    await run1.onStart(a, '2026-11-29T12:00:00.000Z');
    await run1.onStart(b, '2026-11-29T12:00:00.000Z');
    await run1.onResult({
      action: a,
      ok: true,
      error: null,
      startedAt: '2026-11-29T12:00:00.000Z',
      finishedAt: '2026-11-29T12:00:01.000Z',
      command: ['tmux'],
    });
    // Run 2 commits what run 1 left: a's final record, and b as interrupted.
    const run2 = evidenceRecorder(new PendingEvidence(stateDir, 'demo'), ctx, taken);
    const files = await run2.files();
    const records = files.map(
      (f) => JSON.parse(f.content) as { target: string; result: string; finishedAt: string | null },
    );
    expect(records.map((r) => [r.target, r.result]).sort()).toEqual([
      ['s/a', 'ok'],
      ['s/b', 'interrupted'],
    ]);
    expect(records.find((r) => r.target === 's/b')!.finishedAt).toBeNull();
    await run2.remove(files);
    // Nothing is left to commit twice.
    expect(await evidenceRecorder(new PendingEvidence(stateDir, 'demo'), ctx, taken).files()).toEqual([]);
  });
});
