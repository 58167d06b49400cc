// The repository stays valid whatever a crash left behind, and a damaged
// repository or a stale ref lock stops apply before it touches a session.
// Real git repositories (checked with the system git) and real tmux on
// private sockets.
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { roster, sh, TestFleet, usePrivateTmux, filesUnder } from '../helpers/fleet.js';

usePrivateTmux();

let fleet: TestFleet;
afterEach(() => {
  vi.useRealTimers();
  fleet?.cleanup();
});

const agent = (name: string, extra = '') => `  - name: ${name}\n    runtime: stub\n${extra}`;

function looseObjects(gitdir: string): Set<string> {
  const out = new Set<string>();
  const objects = path.join(gitdir, 'objects');
  for (const fan of readdirSync(objects).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
    for (const rest of readdirSync(path.join(objects, fan))) if (/^[0-9a-f]{38}$/.test(rest)) out.add(fan + rest);
  }
  return out;
}
const objectFile = (gitdir: string, oid: string) => path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));

/** Files (relative) under a folder, [] when it does not exist. */
/** Pending files under `dir`, relative to it, sorted. */
const pendingFiles = (dir: string): string[] =>
  filesUnder(dir)
    .map((p) => path.relative(dir, p))
    .sort();

function fsckAndClone(f: TestFleet): void {
  // execFileSync throws on a non-zero exit: both must succeed.
  sh('git', ['--git-dir', f.bare, 'fsck', '--full', '--strict', '--no-dangling']);
  const clone = path.join(f.dir, 'clone');
  sh('git', ['clone', '-q', f.bare, clone]);
  sh('git', ['-C', clone, 'log', '-p', '--format=%H', 'HEAD']);
}

describe('crash-safe status commits', () => {
  it('replaces empty object files a kill left where the status commit goes; fsck and clone stay clean', async () => {
    fleet = new TestFleet();
    // Every agent runs elsewhere, so this host's status depends only on the clock:
    // a second run at the same (fake) time writes the same objects.
    fleet.commit({
      'fleet.yaml': 'fleet: demo\nhosts: [testhost, elsewhere]\n',
      'rosters/team.yaml': roster(fleet.socket, agent('alpha', '    host: elsewhere\n')),
    });
    const base = fleet.headOf('main')!;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-29T12:00:00Z'));
    const before = looseObjects(fleet.bare);
    const first = await fleet.gitfleet('apply');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const commit = fleet.headOf('main')!;
    expect(commit).not.toBe(base);
    const written = [...looseObjects(fleet.bare)].filter((o) => !before.has(o));
    expect(written).toContain(commit);
    expect(written.length).toBeGreaterThanOrEqual(5); // 2 status blobs, status/ and root trees, the commit

    // What a SIGKILL leaves after the object files were created, before their bytes were written and the ref moved.
    sh('git', ['--git-dir', fleet.bare, 'update-ref', 'refs/heads/main', base]);
    for (const oid of written) {
      chmodSync(objectFile(fleet.bare, oid), 0o644);
      writeFileSync(objectFile(fleet.bare, oid), '');
    }
    const again = await fleet.gitfleet('apply');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(fleet.headOf('main')).toBe(commit); // the same objects, now whole
    vi.useRealTimers();
    fsckAndClone(fleet);
    expect(fleet.status()).toMatchObject({ fleet: 'demo', host: 'testhost' });
  });
});

describe('a damaged repository is a failed read, never an empty one', () => {
  it('a missing rosters/ tree: validate and apply exit 1 naming the object; no session is pruned', async () => {
    fleet = new TestFleet();
    const team = roster(fleet.socket, agent('alpha') + agent('beta'));
    fleet.commit({ 'fleet.yaml': 'fleet: demo\n', 'rosters/team.yaml': team });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    const panes = fleet.panes();
    expect([...panes.keys()].sort()).toEqual(['_holder', 'alpha', 'beta']);

    fleet.commit({ 'rosters/team.yaml': `${team}# touched\n` });
    const tree = sh('git', ['--git-dir', fleet.bare, 'rev-parse', 'main:rosters']).trim();
    expect(existsSync(objectFile(fleet.bare, tree))).toBe(true);
    rmSync(objectFile(fleet.bare, tree));
    const message = `object ${tree} (rosters/) is missing from ${fleet.bare}: the repository is damaged; run git fsck`;

    const validate = await fleet.gitfleet('validate');
    expect(validate).toMatchObject({ code: 1, stdout: '', stderr: `gitfleet: ${message}\n` });
    const apply = await fleet.gitfleet('apply');
    expect(apply).toMatchObject({ code: 1, stderr: `gitfleet: ${message}\n` });
    const after = fleet.panes();
    expect([...after.keys()].sort()).toEqual(['_holder', 'alpha', 'beta']);
    for (const [name, p] of panes) expect(after.get(name)!.pid).toBe(p.pid);
  });
});

describe('a stale git ref lock', () => {
  it('stops apply with what it is, before any session is created or deleted', async () => {
    fleet = new TestFleet();
    const team = roster(fleet.socket, agent('alpha') + agent('beta'));
    fleet.commit({ 'fleet.yaml': 'fleet: demo\n', 'rosters/team.yaml': team });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    const panes = fleet.panes();
    const head = fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('gamma')) });

    const lock = path.join(fleet.bare, 'refs', 'heads', 'main.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    const r = await fleet.gitfleet('apply');
    expect(r.stderr).toMatch(
      new RegExp(
        `^gitfleet: ${lock} exists \\(age 12[0-4] s\\): a git process crashed while updating main, ` +
          'or one is running now; if no git process is running, remove it\n$',
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const after = fleet.panes();
    expect([...after.keys()].sort()).toEqual(['_holder', 'alpha', 'beta']); // beta not pruned, gamma not created
    for (const [name, p] of panes) expect(after.get(name)!.pid).toBe(p.pid);
    expect(fleet.headOf('main')).toBe(head);
    expect(pendingFiles(path.join(fleet.stateDir, 'pending'))).toEqual([]);

    rmSync(lock);
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    expect([...fleet.panes().keys()].sort()).toEqual(['_holder', 'alpha', 'gamma']);
  });

  it('a ref lock this state dir noted taking (killed mid-update) is its own: removed, apply converges', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'fleet.yaml': 'fleet: demo\n', 'rosters/team.yaml': roster(fleet.socket, agent('alpha')) });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('gamma')) });
    const lock = path.join(fleet.bare, 'refs', 'heads', 'main.lock');
    writeFileSync(lock, `${'f'.repeat(40)}\n`);
    // What compareAndSwap notes before it writes the lock: the lock's path and inode.
    writeFileSync(
      path.join(fleet.stateDir, 'ref-lock.json'),
      JSON.stringify({ lock, ino: statSync(lock).ino, pid: 2 ** 22 + 7 }),
    );
    const r = await fleet.gitfleet('apply');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect([...fleet.panes().keys()].sort()).toEqual(['_holder', 'alpha', 'gamma']);
    // A lock with another inode (someone else's) is never taken for ours.
    fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha')) });
    writeFileSync(lock, '');
    writeFileSync(
      path.join(fleet.stateDir, 'ref-lock.json'),
      JSON.stringify({ lock, ino: statSync(lock).ino + 1, pid: 1 }),
    );
    expect((await fleet.gitfleet('apply')).stderr).toContain(`${lock} exists`);
    expect(existsSync(lock)).toBe(true);
  });
});

describe('evidence survives a failed status commit', () => {
  it('is kept in the state dir and committed by the next apply', async () => {
    fleet = new TestFleet();
    // The agent takes the status branch's ref lock as it starts: apply acts, then cannot commit.
    const lock = path.join(fleet.bare, 'refs', 'heads', 'main.lock');
    const runtime = `stub:\n    command: [sh, -c, "touch ${lock}; exec cat"]`;
    fleet.commit({ 'fleet.yaml': 'fleet: demo\n', 'rosters/team.yaml': roster(fleet.socket, agent('alpha'), runtime) });
    const head = fleet.headOf('main');
    const first = await fleet.gitfleet('apply');
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(`gitfleet: ${lock} exists`);
    expect([...fleet.panes().keys()].sort()).toEqual(['_holder', 'alpha']);
    expect(fleet.headOf('main')).toBe(head);
    const pendingDir = path.join(fleet.stateDir, 'pending', 'demo');
    const pending = pendingFiles(pendingDir);
    expect(pending).toHaveLength(2);
    const alphaPath = /^evidence\/testhost\/\d{4}-\d\d-\d\d\/\d{6}Z-create_session-alpha\.json$/;
    expect(pending.some((p) => alphaPath.test(p))).toBe(true);
    expect(pending.some((p) => p.includes('create_session-_holder'))).toBe(true);

    rmSync(lock);
    const second = await fleet.gitfleet('apply');
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const tree = sh('git', ['--git-dir', fleet.bare, 'ls-tree', '-r', '--name-only', 'main']).trim().split('\n');
    for (const p of pending) expect(tree).toContain(p);
    const alpha = JSON.parse(fleet.show(`main:${pending.find((p) => p.includes('alpha'))}`));
    expect(alpha).toMatchObject({ kind: 'create_session', target: expect.stringContaining('alpha'), result: 'ok' });
    expect(pendingFiles(pendingDir)).toEqual([]);

    // Killed after the commit, before the pending files went: the next run finds them committed, and only forgets them.
    const alphaFile = pending.find((p) => p.includes('alpha'))!;
    mkdirSync(path.dirname(path.join(pendingDir, alphaFile)), { recursive: true });
    writeFileSync(path.join(pendingDir, alphaFile), fleet.show(`main:${alphaFile}`));
    const committed = fleet.headOf('main');
    const third = await fleet.gitfleet('apply');
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('Status unchanged: no commit.');
    expect(fleet.headOf('main')).toBe(committed);
    expect(pendingFiles(pendingDir)).toEqual([]);
    fsckAndClone(fleet);
  });
});
