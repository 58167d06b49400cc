// gitfleet's own object and ref reader (git/odb.ts, git/refs.ts) against
// real repositories made by the system git: loose objects, packs with
// OFS_DELTA and REF_DELTA chains, packed refs, annotated tags. Every object is
// compared with what `git cat-file` prints, and every commit and tree with
// what isomorphic-git (the reader it replaces) made of it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../../src/errors.js';
import { configBoolean } from '../../src/git/config.js';
import { parseCommit } from '../../src/git/object-parse.js';
import { looseObjectPath, objectId, writeObject } from '../../src/git/objects.js';
import { ObjectDb, ObjectNotFound } from '../../src/git/odb.js';
import { applyDelta, findInIndex, offsetAt, parseEntryHeader, parseIndex } from '../../src/git/pack.js';
import { parsePackedRefs, withoutPackedRef } from '../../src/git/refs.js';
import { Repo } from '../../src/git/repo.js';

let dir: string;
let work: string;
let gitdir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitfleet-odb-'));
  work = path.join(dir, 'work');
  gitdir = path.join(work, '.git');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.org',
  GIT_COMMITTER_NAME: 'Bob',
  GIT_COMMITTER_EMAIL: 'bob@example.org',
};
let clock = 1_790_000_000;
function g(args: string[], opts: { input?: string | Buffer; zone?: string } = {}): Buffer {
  const when = `@${clock++} ${opts.zone ?? '+0000'}`;
  const env = { ...ENV, GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when };
  return execFileSync('git', ['-C', work, ...args], { env, input: opts.input, stdio: 'pipe', maxBuffer: 1 << 28 });
}
const gs = (args: string[], opts?: { input?: string | Buffer; zone?: string }) => g(args, opts).toString().trim();

/** A roster big enough, and changed little enough between versions, that git stores versions as deltas. */
function roster(version: number): string {
  const lines = ['version: 1', 'agents:'];
  for (let i = 0; i < 400; i++) lines.push(`  - name: agent-${i}`, `    runtime: ${i % 7 === version % 7 ? 'b' : 'a'}`);
  for (let v = 0; v < version; v++) lines.push(`  - name: added-${v}`, '    runtime: a');
  return `${lines.join('\n')}\n`;
}

/** A repository with history: versions of a roster, an executable, a link, a nested folder, an annotated tag. */
function makeRepo(): void {
  execFileSync('git', ['init', '-q', '-b', 'main', work], { env: ENV });
  fs.mkdirSync(path.join(work, 'rosters', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(work, 'fleet.yaml'), 'fleet: demo\n');
  fs.writeFileSync(path.join(work, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  fs.symlinkSync('fleet.yaml', path.join(work, 'link'));
  fs.writeFileSync(path.join(work, 'rosters', 'deep', 'notes.md'), 'ünïcödé\n');
  for (let v = 0; v < 12; v++) {
    fs.writeFileSync(path.join(work, 'rosters', 'team.yaml'), roster(v));
    g(['add', '-A']);
    // Zones both sides of UTC: isomorphic-git's sign (minutes, -60 is +0100) must come out the same.
    g(['commit', '-q', '-m', `version ${v}\n\nbody of ${v}\r\n\n`], { zone: v % 2 ? '+0530' : '-0800' });
  }
  g(['tag', '-a', 'v1', '-m', 'release one']);
}

/** Every object git has, by id: type and bytes (`git cat-file --batch-all-objects --batch`). */
function allObjects(): Map<string, { type: string; content: Buffer }> {
  const out = g(['cat-file', '--batch-all-objects', '--batch']);
  const objects = new Map<string, { type: string; content: Buffer }>();
  let p = 0;
  while (p < out.length) {
    const nl = out.indexOf(10, p);
    const [oid, type, size] = out.toString('latin1', p, nl).split(' ');
    const content = out.subarray(nl + 1, nl + 1 + Number(size));
    objects.set(oid!, { type: type!, content: Buffer.from(content) });
    p = nl + 1 + Number(size) + 1;
  }
  return objects;
}

/** Each object read by a fresh ObjectDb equals git's; each commit and tree equals isomorphic-git's reading. */
async function expectSameAsGit(): Promise<number> {
  const db = new ObjectDb(gitdir);
  const objects = allObjects();
  expect(objects.size).toBeGreaterThan(40);
  for (const [oid, want] of objects) {
    const got = db.read(oid);
    expect(got.type, oid).toBe(want.type);
    expect(got.content.equals(want.content), oid).toBe(true);
    if (want.type === 'commit') {
      const iso = (await git.readCommit({ fs, gitdir, oid })).commit;
      const ours = db.commit(oid);
      expect(ours).toEqual({
        tree: iso.tree,
        parent: iso.parent,
        author: iso.author,
        committer: iso.committer,
        message: iso.message,
      });
    }
    if (want.type === 'tree') expect(db.tree(oid)).toEqual((await git.readTree({ fs, gitdir, oid })).tree);
  }
  return objects.size;
}

/** The pack's entries as git lists them, each with the type its header has (ofs-delta, ref-delta, ...). */
function packEntries(): { oid: string; depth: number; kind: string }[] {
  const packDir = path.join(gitdir, 'objects', 'pack');
  const idx = fs.readdirSync(packDir).filter((f) => f.endsWith('.idx'));
  expect(idx).toHaveLength(1);
  const pack = fs.readFileSync(path.join(packDir, idx[0]!.replace(/idx$/, 'pack')));
  const listing = gs(['verify-pack', '-v', path.join(packDir, idx[0]!)]).split('\n');
  return listing
    .map((l) => l.split(/\s+/))
    .filter((f) => /^[0-9a-f]{40}$/.test(f[0]!) && f.length >= 5)
    .map((f) => ({
      oid: f[0]!,
      depth: Number(f[5] ?? 0),
      kind: parseEntryHeader(pack.subarray(Number(f[4])), Number(f[4])).type,
    }));
}

const looseCount = () => fs.readdirSync(path.join(gitdir, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d)).length;

describe('reading objects as git stores them', () => {
  it('loose objects: each as git cat-file prints it, trees and commits as isomorphic-git read them', async () => {
    makeRepo();
    expect(fs.existsSync(path.join(gitdir, 'objects', 'pack')) && packCount()).toBeFalsy();
    await expectSameAsGit();
  });

  it('a pack with OFS_DELTA chains (git repack -adf): every object, deltas applied', async () => {
    makeRepo();
    g(['repack', '-adf', '-q', '--depth=50', '--window=50']);
    expect(looseCount()).toBe(0);
    const entries = packEntries();
    expect(entries.filter((e) => e.kind === 'ofs-delta').length).toBeGreaterThan(5);
    expect(Math.max(...entries.map((e) => e.depth))).toBeGreaterThan(1);
    await expectSameAsGit();
  });

  it('a pack with REF_DELTA entries (repack.useDeltaBaseOffset=false): every object, bases found by id', async () => {
    makeRepo();
    g(['-c', 'repack.useDeltaBaseOffset=false', 'repack', '-adf', '-q', '--depth=50']);
    const entries = packEntries();
    expect(entries.filter((e) => e.kind === 'ref-delta').length).toBeGreaterThan(5);
    expect(entries.some((e) => e.kind === 'ofs-delta')).toBe(false);
    await expectSameAsGit();
  });

  it('a thin pack as isomorphic-git keeps a fetched one: REF_DELTA bases are loose objects outside it', async () => {
    makeRepo();
    const fresh = path.join(dir, 'fresh.git');
    execFileSync('git', ['init', '-q', '--bare', fresh], { env: ENV });
    fs.cpSync(path.join(gitdir, 'objects'), path.join(fresh, 'objects'), { recursive: true });
    // What HEAD adds to HEAD~1, as deltas against HEAD~1's objects, which the pack leaves out (--thin).
    const added = gs(['rev-list', '--objects', 'HEAD', '^HEAD~1'])
      .split('\n')
      .map((l) => l.slice(0, 40));
    const pack = g(['pack-objects', '--stdout', '--thin', '--revs', '--no-reuse-delta'], { input: 'HEAD\n^HEAD~1\n' });
    for (const oid of added) fs.rmSync(looseObjectPath(fresh, oid));
    fs.writeFileSync(path.join(fresh, 'objects', 'pack', 'pack-thin.pack'), pack);
    await git.indexPack({ fs, dir: fresh, gitdir: fresh, filepath: 'objects/pack/pack-thin.pack' });
    const roster = gs(['rev-parse', 'HEAD:rosters/team.yaml']);
    const db = new ObjectDb(fresh);
    const mine = new ObjectDb(gitdir);
    for (const oid of added) expect(db.read(oid).content.equals(mine.read(oid).content), oid).toBe(true);
    // The roster really was a delta on a base outside the pack.
    const idx = parseIndex(fs.readFileSync(path.join(fresh, 'objects', 'pack', 'pack-thin.idx')));
    const at = offsetAt(idx, findInIndex(idx, Buffer.from(roster, 'hex')));
    const entry = parseEntryHeader(pack.subarray(at), at);
    expect(entry.type).toBe('ref-delta');
    expect(added).not.toContain(entry.baseId);
  });

  it('an annotated tag reads as the tag object, and peels to its commit for commit and tree reads', async () => {
    makeRepo();
    const tag = gs(['rev-parse', 'refs/tags/v1']);
    const head = gs(['rev-parse', 'HEAD']);
    const db = new ObjectDb(gitdir);
    expect(db.read(tag).type).toBe('tag');
    expect(db.read(tag).content.toString()).toBe(`${gs(['cat-file', 'tag', tag])}\n`);
    expect(db.commit(tag)).toEqual(db.commit(head));
    expect(db.tree(tag)).toEqual(db.tree(head));
    const repo = await Repo.open(work);
    expect(await repo.resolve('refs/tags/v1')).toBe(tag);
    expect((await repo.entryAt(tag, 'fleet.yaml'))?.oid).toBe(gs(['rev-parse', 'HEAD:fleet.yaml']));
  });

  it('a pack added while the process runs (git gc between two reads) is found; a removed one is dropped', () => {
    makeRepo();
    g(['repack', '-adq']);
    const db = new ObjectDb(gitdir);
    const first = gs(['rev-parse', 'HEAD']);
    expect(db.read(first).type).toBe('commit');
    fs.writeFileSync(path.join(work, 'later.yaml'), 'x: 1\n');
    g(['add', '-A']);
    g(['commit', '-q', '-m', 'later']);
    const later = gs(['rev-parse', 'HEAD']);
    // The new commit and every older object move to one new pack; the pack this db listed is deleted.
    g(['repack', '-adfq']);
    expect(looseCount()).toBe(0);
    expect(db.read(later).type).toBe('commit');
    const older = gs(['rev-parse', 'HEAD~5']);
    expect(db.read(older).type).toBe('commit');
    expect(() => db.read('0'.repeat(40))).toThrow(ObjectNotFound);
  });

  it('a pack whose .pack went but whose .idx is still there (git gc mid-way): a TransientError, not "missing"', () => {
    makeRepo();
    g(['repack', '-adq']);
    const db = new ObjectDb(gitdir);
    expect(db.read(gs(['rev-parse', 'HEAD'])).type).toBe('commit');
    const older = gs(['rev-parse', 'HEAD~3']);
    // git deletes a pack's .pack before its .idx: caught between the two.
    const pack = fs.readdirSync(path.join(gitdir, 'objects', 'pack')).find((n) => n.endsWith('.pack'))!;
    fs.rmSync(path.join(gitdir, 'objects', 'pack', pack));
    const err = (() => {
      try {
        db.read(older);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/its pack was removed while gitfleet read it/);
  });

  it("a pack rewritten under the same name is not read at its old index's offsets", () => {
    makeRepo();
    g(['repack', '-adq']);
    const db = new ObjectDb(gitdir);
    const head = gs(['rev-parse', 'HEAD']);
    const older = gs(['rev-parse', 'HEAD~2']);
    expect(db.read(head).type).toBe('commit');
    const packDir = path.join(gitdir, 'objects', 'pack');
    const name = fs.readdirSync(packDir).find((n) => n.endsWith('.pack'))!;
    // Same name, other bytes: as a writer that names packs by their objects would leave it (a new inode).
    const bytes = fs.readFileSync(path.join(packDir, name));
    fs.rmSync(path.join(packDir, name));
    fs.writeFileSync(
      path.join(packDir, name),
      Buffer.concat([bytes.subarray(0, 12), Buffer.alloc(7), bytes.subarray(12)]),
    );
    expect(() => db.read(older)).toThrow(TransientError);
    // The next read lists the folder anew and reads the index again, which no longer fits the pack: an error
    // naming the pack and the entry, never other content (each object is checked against its id).
    expect(() => db.read(older)).toThrow(/objects\/pack\/pack-[0-9a-f]+\.pack, entry of [0-9a-f]{40} at \d+: /);
  });
});

describe('a pack entry whose zlib stream is longer than its window', () => {
  /** A pack of one blob whose deflate stream starts with `padding` empty stored blocks (valid, wasteful). */
  function craftPack(content: Buffer, padding: number, cut = 0): string {
    const oid = objectId('blob', content);
    const adler = (() => {
      let a = 1;
      let b = 0;
      for (const byte of content) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
      }
      return Buffer.from([b >> 8, b & 255, a >> 8, a & 255]);
    })();
    const empty = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
    const len = Buffer.from([
      content.length & 255,
      content.length >> 8,
      ~content.length & 255,
      (~content.length >> 8) & 255,
    ]);
    let stream = Buffer.concat([
      Buffer.from([0x78, 0x01]),
      ...Array(padding).fill(empty),
      Buffer.from([0x01]),
      len,
      content,
      adler,
    ]);
    stream = stream.subarray(0, stream.length - cut);
    const size = content.length;
    const header = Buffer.from([0x30 | (size & 15) | 0x80, size >> 4]);
    const body = Buffer.concat([Buffer.from('PACK'), u32(2), u32(1), header, stream]);
    const pack = Buffer.concat([body, sha1(body)]);
    const fanout = Buffer.concat(
      Array.from({ length: 256 }, (_, i) => u32(i >= parseInt(oid.slice(0, 2), 16) ? 1 : 0)),
    );
    const crc = u32(0);
    const idxBody = Buffer.concat([
      Buffer.from([0xff, 0x74, 0x4f, 0x63]),
      u32(2),
      fanout,
      Buffer.from(oid, 'hex'),
      crc,
      u32(12),
      sha1(body),
    ]);
    const idx = Buffer.concat([idxBody, sha1(idxBody)]);
    execFileSync('git', ['init', '-q', '--bare', path.join(dir, 'crafted.git')], { env: ENV });
    const packDir = path.join(dir, 'crafted.git', 'objects', 'pack');
    fs.writeFileSync(path.join(packDir, 'pack-crafted.pack'), pack);
    fs.writeFileSync(path.join(packDir, 'pack-crafted.idx'), idx);
    return oid;
  }

  it('is read up to the next entry, and git reads the same pack the same', () => {
    const content = Buffer.from('name: crafted\n');
    const oid = craftPack(content, 2000);
    const db = new ObjectDb(path.join(dir, 'crafted.git'));
    expect(db.read(oid).content.equals(content)).toBe(true);
    const catFile = execFileSync('git', ['--git-dir', path.join(dir, 'crafted.git'), 'cat-file', 'blob', oid]);
    expect(catFile.equals(content)).toBe(true);
  });

  it('cut short, it is an error, never shorter content', () => {
    const oid = craftPack(Buffer.from('name: crafted\n'), 2000, 3);
    const db = new ObjectDb(path.join(dir, 'crafted.git'));
    expect(() => db.read(oid)).toThrow(/does not inflate/);
  });
});

describe('a damaged or missing object is a TerminalError naming it', () => {
  it('missing, damaged loose, damaged packed', async () => {
    makeRepo();
    const head = gs(['rev-parse', 'HEAD']);
    const blob = gs(['rev-parse', 'HEAD:fleet.yaml']);
    fs.rmSync(looseObjectPath(gitdir, blob));
    const missing = `object ${blob} (fleet.yaml) is missing from ${gitdir}: the repository is damaged; run git fsck`;
    await expect((await Repo.open(work)).readFileAt(head, 'fleet.yaml')).rejects.toThrow(new TerminalError(missing));
    // A valid zlib stream of another object under this id.
    const other = Buffer.from('blob 6\0other\n');
    fs.writeFileSync(looseObjectPath(gitdir, blob), deflateSync(other));
    const err = await (await Repo.open(work)).readBlob(blob, 'fleet.yaml').catch((e) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.message).toMatch(/^object [0-9a-f]{40} \(fleet\.yaml\) cannot be read from .*hashes to .*run git fsck$/);

    fs.rmSync(looseObjectPath(gitdir, blob));
    expect(gs(['hash-object', '-w', 'fleet.yaml'])).toBe(blob);
    g(['repack', '-adfq']);
    const packDir = path.join(gitdir, 'objects', 'pack');
    const packFile = path.join(packDir, fs.readdirSync(packDir).find((f) => f.endsWith('.pack'))!);
    const roster = gs(['rev-parse', 'HEAD:rosters/team.yaml']);
    const entry = packEntries().find((e) => e.oid === roster)!;
    expect(entry).toBeDefined();
    const offsets = gs(['verify-pack', '-v', packFile.replace(/pack$/, 'idx')]);
    const at = Number(
      offsets
        .split('\n')
        .find((l) => l.startsWith(roster))!
        .split(/\s+/)[4],
    );
    const bytes = fs.readFileSync(packFile);
    bytes.writeUInt8(bytes.readUInt8(at + 12) ^ 0x55, at + 12); // inside its zlib data
    fs.chmodSync(packFile, 0o644);
    fs.writeFileSync(packFile, bytes);
    const damaged = await (await Repo.open(work)).readBlob(roster, 'rosters/team.yaml').catch((e) => e);
    expect(damaged).toBeInstanceOf(TerminalError);
    expect(damaged.message).toMatch(/^object [0-9a-f]{40} \(rosters\/team\.yaml\) cannot be read from .*run git fsck$/);
  });
});

describe('refs', () => {
  it('HEAD, loose and packed refs (loose wins), peeled lines skipped, listing and deleting as git does', async () => {
    makeRepo();
    const head = gs(['rev-parse', 'HEAD']);
    const parent = gs(['rev-parse', 'HEAD~1']);
    g(['update-ref', 'refs/gitfleet/alive/a', head]);
    g(['update-ref', 'refs/gitfleet/alive/sub/b', parent]);
    g(['pack-refs', '--all']);
    expect(fs.readFileSync(path.join(gitdir, 'packed-refs'), 'utf8')).toMatch(/\n\^[0-9a-f]{40}\n/);
    expect(fs.existsSync(path.join(gitdir, 'refs', 'heads', 'main'))).toBe(false);
    g(['update-ref', 'refs/gitfleet/alive/c', parent]);
    // Loose wins over packed: moved after packing.
    g(['update-ref', 'refs/gitfleet/alive/a', parent]);
    fs.writeFileSync(path.join(gitdir, 'refs', 'gitfleet', 'alive', 'c.lock'), head);
    const repo = await Repo.open(work);
    expect(await repo.resolve('main')).toBe(head);
    expect(await repo.resolve('HEAD')).toBe(head);
    expect(await repo.resolve('refs/tags/v1')).toBe(gs(['rev-parse', 'refs/tags/v1']));
    expect(await repo.resolve('nope')).toBeNull();
    expect(await repo.resolve(parent)).toBe(parent); // an id given as a branch, as before
    expect(Object.fromEntries(await repo.refsUnder('refs/gitfleet/alive/'))).toEqual({
      a: parent,
      c: parent,
      'sub/b': parent,
    });
    g(['branch', 'feature']);
    expect(await repo.branches()).toEqual(['feature', 'main']);

    // Deleting a ref that is packed and loose: gone from both, other packed refs kept.
    await repo.setRef('refs/gitfleet/alive/a', null);
    await repo.setRef('refs/tags/v1', null);
    expect(gs(['for-each-ref', '--format=%(refname)'])).toBe(
      ['refs/gitfleet/alive/c', 'refs/gitfleet/alive/sub/b', 'refs/heads/feature', 'refs/heads/main'].join('\n'),
    );
    expect(fs.readFileSync(path.join(gitdir, 'packed-refs'), 'utf8')).not.toMatch(/\^/);
    expect(await repo.resolve('refs/gitfleet/alive/a')).toBeNull();
    expect(gs(['fsck', '--no-dangling'])).toBe('');
    // Deleting a ref that does not exist: nothing done, no lock taken, no folder made for it.
    await repo.setRef('refs/gitfleet/nowhere/x', null);
    expect(fs.existsSync(path.join(gitdir, 'refs', 'gitfleet', 'nowhere'))).toBe(false);
  });

  it('packed-refs with CRLF line ends: the line read as the ref is the line a delete removes', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const text = `${a} refs/heads/main\r\n${b} refs/tags/v1\r\n^${a}\r\n`;
    expect(parsePackedRefs(text).has('refs/tags/v1')).toBe(true);
    expect(withoutPackedRef(text, 'refs/tags/v1')).toBe(`${a} refs/heads/main\r\n`);
  });

  it('a ref holding neither an id nor a symbolic ref is a TerminalError, not a missing branch', async () => {
    makeRepo();
    fs.writeFileSync(path.join(gitdir, 'refs', 'heads', 'main'), 'garbage\n');
    const err = await (await Repo.open(work)).resolve('main').catch((e) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.message).toMatch(/refs\/heads\/main holds "garbage", not an object id/);
  });

  it('packed-refs: comments and peeled lines are not refs', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const text = `# pack-refs with: peeled fully-peeled sorted \n${a} refs/heads/main\n${b} refs/tags/v1\n^${a}\n`;
    expect([...parsePackedRefs(text)]).toEqual([
      ['refs/heads/main', a],
      ['refs/tags/v1', b],
    ]);
  });
});

describe('expandOid', () => {
  it('a unique prefix, loose or packed; none or several is null', async () => {
    makeRepo();
    const head = gs(['rev-parse', 'HEAD']);
    // Two blobs whose ids share 5 hex digits (found by hashing in this process), written loose.
    const seen = new Map<string, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; !pair; i++) {
      const text = `blob ${i}\n`;
      const key = objectId('blob', Buffer.from(text)).slice(0, 5);
      const other = seen.get(key);
      if (other !== undefined) pair = [other, text];
      else seen.set(key, text);
    }
    const ids = await Promise.all(pair.map((t) => writeObject(gitdir, 'blob', Buffer.from(t))));
    const repo = await Repo.open(work);
    expect(await repo.expandOid(head.slice(0, 8))).toBe(head);
    expect(await repo.expandOid(head.slice(0, 8).toUpperCase())).toBe(head);
    expect(await repo.expandOid(ids[0]!.slice(0, 5))).toBeNull();
    expect(await repo.expandOid(ids[0]!.slice(0, 12))).toBe(ids[0]);
    expect(await repo.expandOid('xyz1234')).toBeNull();
    g(['repack', '-adq']);
    // Unreachable, the two blobs stay loose after repack -a: a pack of their own, then no loose copies.
    g(['pack-objects', '-q', path.join(gitdir, 'objects', 'pack', 'pack')], { input: `${ids.join('\n')}\n` });
    g(['prune-packed']);
    expect(looseCount()).toBe(0);
    const packed = await Repo.open(work);
    expect(await packed.expandOid(head.slice(0, 7))).toBe(head);
    expect(await packed.expandOid(ids[1]!.slice(0, 5))).toBeNull();
    expect(await packed.expandOid('0000000')).toBeNull();
    // A full id is its own prefix (--confirm-prune $(git rev-parse HEAD)): found in a pack as it is loose.
    expect(await packed.expandOid(head)).toBe(head);
    expect(await packed.expandOid(ids[1]!)).toBe(ids[1]);
  });
});

describe('parsing', () => {
  it('a commit with gpgsig and mergetag headers: continuation lines are not parents or the message', () => {
    const t = 'a'.repeat(40);
    const p = 'b'.repeat(40);
    const text = [
      `tree ${t}`,
      `parent ${p}`,
      'author A U <a@x> 1700000000 +0100',
      'committer C <c@x> 1700000001 -0230',
      'mergetag object cccccccccccccccccccccccccccccccccccccccc',
      ' type commit',
      ' ',
      ' tag message',
      'gpgsig -----BEGIN PGP SIGNATURE-----',
      ' ',
      ' iQEzBAABCAAdFiEE',
      ' -----END PGP SIGNATURE-----',
      'parent dddddddddddddddddddddddddddddddddddddddd',
      '',
      '',
      'subject',
      '',
      'body\r',
      '',
      '',
    ].join('\n');
    expect(parseCommit(Buffer.from(text))).toEqual({
      tree: t,
      parent: [p],
      author: { name: 'A U', email: 'a@x', timestamp: 1_700_000_000, timezoneOffset: -60 },
      committer: { name: 'C', email: 'c@x', timestamp: 1_700_000_001, timezoneOffset: 150 },
      message: 'subject\n\nbody\n',
    });
  });

  it('odd file modes read as git reads them; names git refuses make the tree unreadable', async () => {
    execFileSync('git', ['init', '-q', '--bare', gitdir], { env: ENV });
    const blob = objectId('blob', Buffer.from('x\n'));
    const entry = (mode: string, name: string) =>
      Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(blob, 'hex')]);
    const odd = await writeObject(gitdir, 'tree', Buffer.concat([entry('100664', 'a'), entry('100775', 'b')]));
    const db = new ObjectDb(gitdir);
    expect(db.tree(odd).map((e) => [e.path, e.mode, e.type])).toEqual([
      ['a', '100644', 'blob'],
      ['b', '100755', 'blob'],
    ]);
    const bad = await writeObject(gitdir, 'tree', Buffer.concat([entry('100644', '.GIT')]));
    expect(() => db.tree(bad)).toThrow(/not a name git allows/);
  });

  it('core.bare: git spellings, last one wins, subsections are other sections', () => {
    expect(configBoolean('[core]\n\tbare = true\n', 'core', 'bare')).toBe(true);
    expect(configBoolean('[Core]\n\tBare = No ; comment\n', 'core', 'bare')).toBe(false);
    expect(configBoolean('[core]\n\tbare\n', 'core', 'bare')).toBe(true);
    expect(configBoolean('[core]\n\tbare = 1\n[core]\nbare = off\n', 'core', 'bare')).toBe(false);
    expect(configBoolean('[core "x"]\n\tbare = true\n[other]\nbare = true\n', 'core', 'bare')).toBeUndefined();
    expect(configBoolean('[core]\n\tbare = maybe\n', 'core', 'bare')).toBeUndefined();
  });

  it('Repo.open: a .git folder whose config says bare = false has a work tree beside it', async () => {
    const plain = path.join(dir, 'x', '.git');
    execFileSync('git', ['init', '-q', '--bare', plain], { env: ENV });
    expect((await Repo.open(plain)).workTree).toBeNull();
    fs.writeFileSync(path.join(plain, 'config'), '[core]\n\tBARE = off\n');
    expect((await Repo.open(plain)).workTree).toBe(path.join(dir, 'x'));
  });

  it('a 64-bit offset (a pack over 2 GiB) and a delta copying across its base', () => {
    const oid = Buffer.alloc(20, 0xab);
    const fanout = Buffer.concat(Array.from({ length: 256 }, (_, i) => u32(i >= 0xab ? 1 : 0)));
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(5_000_000_000n);
    const body = Buffer.concat([
      Buffer.from([0xff, 0x74, 0x4f, 0x63]),
      u32(2),
      fanout,
      oid,
      u32(0),
      u32(0x80000000),
      big,
    ]);
    const idx = parseIndex(Buffer.concat([body, Buffer.alloc(40)]));
    expect(offsetAt(idx, 0)).toBe(5_000_000_000);
    // base 10 bytes; result: copy 4 at 2, insert "XY", copy 3 at 0 -> 9 bytes
    const delta = Buffer.from([10, 9, 0x91, 2, 4, 2, 0x58, 0x59, 0x90, 3]);
    expect(applyDelta(Buffer.from('0123456789'), delta).toString()).toBe('2345XY012');
    expect(() => applyDelta(Buffer.from('012345678'), delta)).toThrow(/base of 10/);
    expect(() => applyDelta(Buffer.from('0123456789'), Buffer.from([10, 9, 0x91, 8, 4]))).toThrow(/outside/);
  });
});

describe('the cache', () => {
  it('stays within its bounds however many objects a walk reads', async () => {
    makeRepo();
    const db = new ObjectDb(gitdir, { bytes: 64 * 1024, entries: 8 });
    for (const oid of allObjects().keys()) db.read(oid);
    expect(db.cached.entries).toBeGreaterThan(0);
    expect(db.cached.entries).toBeLessThanOrEqual(8);
    expect(db.cached.bytes).toBeLessThanOrEqual(64 * 1024);
  });
});

function packCount(): number {
  return fs.readdirSync(path.join(gitdir, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
function sha1(b: Buffer): Buffer {
  return createHash('sha1').update(b).digest();
}
