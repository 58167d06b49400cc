// Issue #8, against real git and real tmux: nothing in the repository may
// make gitfleet prune the fleet, write outside refs, or take an agent over.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { roster, sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();

const fleets: TestFleet[] = [];
const newFleet = (name?: string) => {
  const f = new TestFleet(name);
  fleets.push(f);
  return f;
};
afterEach(() => {
  for (const f of fleets.splice(0)) f.cleanup();
});

const agent = (name: string, extra = '') => `  - name: ${name}\n    runtime: stub\n${extra}`;
const pids = (f: TestFleet) => new Map([...f.panes()].map(([k, v]) => [k, v.pid]));

async function converged(f: TestFleet, files: Record<string, string>) {
  f.commit(files);
  const r = await f.gitfleet('apply');
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return pids(f);
}

describe('a desired state gitfleet cannot read never prunes', () => {
  const layouts: [string, (f: TestFleet) => void, RegExp][] = [
    [
      'roster moved into a subfolder',
      (f) => {
        mkdirSync(path.join(f.work, 'rosters', 'sub'));
        f.git('mv', 'rosters/team.yaml', 'rosters/sub/team.yaml');
      },
      /^rosters\/sub:1:1: is a directory in the rosters folder/m,
    ],
    [
      'roster renamed .YAML',
      (f) => f.git('mv', 'rosters/team.yaml', 'rosters/team.YAML'),
      /^rosters\/team\.YAML:1:1: is a file without the \.yaml or \.yml extension/m,
    ],
    [
      'roster renamed .bak',
      (f) => f.git('mv', 'rosters/team.yaml', 'rosters/team.bak'),
      /^rosters\/team\.bak:1:1: is a file without/m,
    ],
    [
      'roster replaced by a symlink',
      (f) => {
        f.git('mv', 'rosters/team.yaml', 'team.yaml');
        sh('ln', ['-s', '../team.yaml', path.join(f.work, 'rosters', 'team.yaml')]);
      },
      /^rosters\/team\.yaml:1:1: is a symbolic link/m,
    ],
    [
      'rosters committed as a file',
      (f) => {
        f.git('rm', '-q', '-r', 'rosters');
        writeFileSync(path.join(f.work, 'rosters'), 'oops\n');
      },
      /^rosters:1:1: is a file but fleet\.yaml paths name it as a desired-state folder/m,
    ],
    [
      'a typo in paths.rosters',
      (f) => writeFileSync(path.join(f.work, 'fleet.yaml'), 'paths:\n  rosters: rosterz\n'),
      /^fleet\.yaml:1:1: paths\.rosters: "rosterz" does not exist/m,
    ],
  ];
  it.each(layouts)('%s: validate names it and exits 1; apply keeps every session', async (_what, change, error) => {
    const f = newFleet();
    const before = await converged(f, { 'rosters/team.yaml': roster(f.socket, agent('a0') + agent('a1')) });
    f.git('pull', '-q', '--rebase', 'origin', 'main');
    change(f);
    f.git('add', '-A');
    f.git('commit', '-q', '-m', 'reorganise');
    f.git('push', '-q', 'origin', 'HEAD:main');
    const v = await f.gitfleet('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(error);
    await f.gitfleet('apply');
    expect(pids(f)).toEqual(before);
  });

  it('deleting every agent waits for confirmation of that revision (PruneHeld), then goes ahead', async () => {
    const f = newFleet();
    const before = await converged(f, {
      'rosters/team.yaml': roster(f.socket, agent('a0') + agent('a1') + agent('a2')),
    });
    const rev = f.commit({ 'rosters/team.yaml': null, 'rosters/NOTES.md': '# notes only\n' });
    const p = await f.gitfleet('plan');
    expect(p.code).toBe(2);
    expect(p.stdout).toContain(
      `PruneHeld: 3 of 3 agents on socket ${f.socket} would be deleted (all of them); ` +
        `held until revision ${rev.slice(0, 12)} is confirmed`,
    );
    const held = await f.gitfleet('apply');
    expect(held.code).toBe(3);
    expect(pids(f)).toEqual(before);
    expect(f.status().pruneHeld?.[0]).toMatchObject({
      socket: f.socket,
      deletes: 3,
      running: 3,
      agents: ['a0', 'a1', 'a2'],
    });
    expect(f.show(`main:status/${f.host}.md`)).toContain(`gitfleet apply --confirm-prune ${rev.slice(0, 12)}`);
    // A revision that does not exist confirms nothing; this one lets the deletes go ahead.
    expect((await f.gitfleet('apply', '--confirm-prune', 'deadbeef')).stderr).toMatch(
      /--confirm-prune deadbeef: no such commit/,
    );
    expect(pids(f)).toEqual(before);
    const ok = await f.gitfleet('apply', '--confirm-prune', rev.slice(0, 12));
    expect(ok.code, ok.stdout).toBe(0);
    expect([...f.panes().keys()]).toEqual([]);
  });

  it('reconcile.confirm_prune in fleet.yaml confirms a revision too, rosters staying as they were then', async () => {
    const f = newFleet();
    await converged(f, { 'rosters/team.yaml': roster(f.socket, agent('a0') + agent('a1')) });
    const rev = f.commit({ 'rosters/team.yaml': roster(f.socket, '').replace('agents:\n', 'agents: []\n') });
    expect((await f.gitfleet('apply')).code).toBe(3);
    expect(f.panes().has('a0')).toBe(true);
    // Confirmed, but the rosters changed again since: still held.
    f.commit({
      'fleet.yaml': `reconcile:\n  confirm_prune: "${rev.slice(0, 10)}"\n`,
      'rosters/other.yaml': roster(f.socket, '').replace('agents:\n', 'agents: []\n'),
    });
    expect((await f.gitfleet('apply')).code).toBe(3);
    expect([...f.panes().keys()].sort()).toEqual(['_holder', 'a0', 'a1']);
    // Rosters back as they were at the confirmed revision: the deletes go ahead.
    f.commit({ 'rosters/other.yaml': null });
    const r = await f.gitfleet('apply');
    expect(r.code, r.stdout).toBe(0);
    expect([...f.panes().keys()]).toEqual([]);
  });
});

describe('names from the repository are never paths', () => {
  it('status.branch "../../config" is refused before anything runs; the repository stays intact', async () => {
    const f = newFleet();
    f.commit({
      'fleet.yaml': 'status:\n  branch: "../../config"\n',
      'rosters/team.yaml': roster(f.socket, agent('a0')),
    });
    const config = readFileSync(path.join(f.bare, 'config'), 'utf8');
    const v = await f.gitfleet('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^fleet\.yaml:2:11: status\.branch: branch "\.\.\/\.\.\/config" contains "\.\."/m);
    await f.gitfleet('apply');
    expect(readFileSync(path.join(f.bare, 'config'), 'utf8')).toBe(config);
    // No ref named after the bad branch: main, and the liveness ref every apply keeps (README, Stale hosts).
    expect(sh('git', ['--git-dir', f.bare, 'for-each-ref', '--format=%(refname)']).trim().split('\n')).toEqual([
      'refs/gitfleet/alive/testhost',
      'refs/heads/main',
    ]);
    expect(existsSync(path.join(f.dir, 'x'))).toBe(false);
  });

  it('--branch is checked like a ref name (usage error)', async () => {
    const f = newFleet();
    f.commit({ 'rosters/team.yaml': roster(f.socket, agent('a0')) });
    const r = await f.gitfleet('plan', '--branch', '../../HEAD');
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--branch: branch "\.\.\/\.\.\/HEAD" contains "\.\."/);
  });

  it('a missing fleet.yaml branch names fleet.yaml in the error', async () => {
    const f = newFleet();
    f.commit({ 'fleet.yaml': 'branch: trunk\n', 'rosters/team.yaml': roster(f.socket, agent('a0')) });
    const r = await f.gitfleet('validate');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fleet\.yaml on main names branch "trunk" \(key branch\), but it is not found/);
  });

  it('fleet.yaml committed as a directory is an error, not ignored', async () => {
    const f = newFleet();
    f.commit({ 'fleet.yaml/x': 'fleet: a\n', 'rosters/team.yaml': roster(f.socket, agent('a0')) });
    const r = await f.gitfleet('validate');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^fleet\.yaml:1:1: is a directory; allowed: a YAML file/m);
  });
});

describe('ownership', () => {
  it('two repositories called fleet.git on one socket: the second is refused there and touches nothing', async () => {
    const a = newFleet('fleet');
    const b = newFleet('fleet');
    const before = await converged(a, { 'rosters/team.yaml': roster(a.socket, agent('a0') + agent('a1')) });
    b.commit({ 'rosters/team.yaml': roster(a.socket, agent('b0')) });
    for (let round = 0; round < 2; round++) {
      const rb = await b.gitfleet('apply');
      expect(rb.code).toBe(3);
      expect(rb.stdout).toMatch(
        new RegExp(
          `Socket ${a.socket} could not be observed, nothing planned there: ` +
            `socket ${a.socket} is used by another fleet: fleet-[0-9a-f]{8}`,
        ),
      );
      const ra = await a.gitfleet('apply');
      expect(ra.code).toBe(0);
      expect(pids(a)).toEqual(before);
    }
  });

  it('a renamed copy of the repository still owns its agents (no conflict, no restart)', async () => {
    const a = newFleet('fleet');
    const before = await converged(a, { 'rosters/team.yaml': roster(a.socket, agent('a0')) });
    const copy = path.join(a.dir, 'renamed-copy.git');
    cpSync(a.bare, copy, { recursive: true });
    let out = '';
    const code = await main(['apply', '--repo', copy, '--state-dir', path.join(a.dir, 'state2'), '--host', a.host], {
      stdout: (s) => (out += s),
      stderr: (s) => (out += s),
      env: process.env,
    });
    expect(code, out).toBe(0);
    expect(out).toContain('no changes');
    expect(pids(a)).toEqual(before);
  });

  it('a new roster file redeclaring an agent is an error in both; the agent keeps its spec, no restart', async () => {
    const f = newFleet();
    const before = await converged(f, { 'rosters/team.yaml': roster(f.socket, agent('a0') + agent('t1')) });
    f.commit({
      'rosters/aa.yaml': roster(f.socket, agent('a0', '    update: recreate\n    command: [sleep, "1000"]\n')),
    });
    const r = await f.gitfleet('apply');
    expect(r.code).toBe(1);
    expect(pids(f)).toEqual(before);
    const st = f.status();
    expect(st.errors.map((e: { file: string }) => e.file)).toEqual(['rosters/aa.yaml', 'rosters/team.yaml']);
    expect(st.files.find((x: { path: string }) => x.path === 'rosters/team.yaml')).toMatchObject({
      valid: false,
      usingLastKnownGood: true,
    });
    expect(st.agents.find((x) => x.name === 'a0')?.source).toMatch(/^rosters\/team\.yaml:/);
  });
});
