// Two tenants (users) reconciling one host from one repository: each acts on its own agents and writes its own
// status file and evidence folder, never the other's. The tests run as one user, so each tenant is the built CLI
// with GITFLEET_TENANT, its own state dir and its own TMUX_TMPDIR, as two users would have (tmux keeps each user's
// sockets in a folder of their own): one roster, one socket name, a server per tenant. The last case is two
// tenants of ONE user (service accounts reconciling for named tenants): one TMUX_TMPDIR, so one server for both.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const TENANTS = ['alice', 'bob'];
let fleet: TestFleet;
/** Both tenants under one user: one tmux folder, so one server of the socket name (set by a test). */
let shared = false;
afterEach(() => {
  for (const t of TENANTS) tmuxAs(t, 'kill-server');
  shared = false;
  fleet?.cleanup();
});

/** The tenant's own tmux folder, as a user of their own has (or the one both share). */
function envOf(tenant: string): NodeJS.ProcessEnv {
  const dir = path.join(fleet.dir, shared ? 'tmux-shared' : `tmux-${tenant}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { ...process.env, TMUX_TMPDIR: dir, GITFLEET_TENANT: tenant };
}

/** tmux on the fleet's socket in the tenant's tmux folder: exit status and stdout. */
function tmuxAs(tenant: string, ...args: string[]): { code: number | null; out: string } {
  const r = spawnSync('tmux', ['-L', fleet.socket, ...args], { env: envOf(tenant), encoding: 'utf8' });
  return { code: r.status, out: r.stdout };
}

/** One roster: an agent of each tenant, on one socket name (each user's server of that name is their own). */
const ROSTER = () =>
  `version: 1\ntransport: tmux\ntmux:\n  socket_name: ${fleet.socket}\nruntimes:\n  stub:\n    command: [cat]\n` +
  'agents:\n' +
  TENANTS.map((t) => `  - name: ${t}-1\n    runtime: stub\n    tenant: ${t}\n`).join('');

interface Applied {
  code: number;
  converged: boolean;
  out: string;
  /** `kind target` of every action planned (done now or deferred). */
  planned: string[];
}

/** `gitfleet apply --json` as `tenant`: its exit code, the status it reports and what it planned. */
function applyAs(tenant: string): Promise<Applied> {
  const state = path.join(fleet.dir, `state-${tenant}`);
  const argv = [CLI, 'apply', '--json', '--repo', fleet.bare, '--state-dir', state, '--host', fleet.host];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, argv, { env: envOf(tenant) });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => {
      let converged = false;
      let planned: string[] = [];
      try {
        const doc = JSON.parse(out);
        converged = doc.status.converged === true;
        const all: { kind: string; target: string }[] = [...doc.plan.actions, ...doc.plan.deferred];
        planned = all.map((a) => `${a.kind} ${a.target}`);
      } catch {}
      resolve({ code: code ?? -1, converged, out, planned });
    });
  });
}

/** Every committed version of a file on main: the tenant that wrote it. */
function writers(file: string): string[] {
  const log = sh('git', ['--git-dir', fleet.bare, 'log', '--format=%H', 'main', '--', file]).trim();
  return log
    .split('\n')
    .filter(Boolean)
    .map((c) => {
      const r = sh('git', ['--git-dir', fleet.bare, 'show', `${c}:${file}`]);
      return (JSON.parse(r) as { tenant_id: string }).tenant_id;
    });
}

const files = (dir: string) =>
  sh('git', ['--git-dir', fleet.bare, 'ls-tree', '-r', '--name-only', 'main', dir]).trim().split('\n');

describe('two tenants on one host', { timeout: 120_000 }, () => {
  it('each writes only its own status file and evidence; the first keeps the plain name', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'fleet.yaml': 'fleet: shared\n', 'rosters/team.yaml': ROSTER() });
    const a = await applyAs('alice');
    expect(a.converged, a.out).toBe(true);
    const b = await applyAs('bob');
    expect(b.converged, b.out).toBe(true);
    expect(files('status')).toEqual(
      [`status/${fleet.host}.json`, `status/${fleet.host}.md`]
        .concat([`status/${fleet.host}@bob.json`, `status/${fleet.host}@bob.md`])
        .sort(),
    );
    // Each agent runs on its tenant's server only, and each status names only its tenant's agent.
    expect(tmuxAs('alice', 'has-session', '-t', '=alice-1').code).toBe(0);
    expect(tmuxAs('bob', 'has-session', '-t', '=bob-1').code).toBe(0);
    expect(tmuxAs('alice', 'has-session', '-t', '=bob-1').code).not.toBe(0);
    expect(fleet.status().agents.map((r) => r.name)).toEqual(['alice-1']);
    const bob = JSON.parse(fleet.show(`main:status/${fleet.host}@bob.json`));
    expect(bob.agents.map((r: { name: string }) => r.name)).toEqual(['bob-1']);
    expect(files('evidence').every((f) => f.startsWith(`evidence/${fleet.host}/`) || f.includes('@bob/'))).toBe(true);
    expect(files('evidence').some((f) => f.startsWith(`evidence/${fleet.host}@bob/`))).toBe(true);
    // Again, in the other order: nothing moves.
    await applyAs('bob');
    await applyAs('alice');
    expect(writers(`status/${fleet.host}.json`).every((t) => t === 'alice')).toBe(true);
    expect(writers(`status/${fleet.host}@bob.json`).every((t) => t === 'bob')).toBe(true);
  });

  it('both at once on a new host: no file ever has two writers, and both land', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'fleet.yaml': 'fleet: shared\n', 'rosters/team.yaml': ROSTER() });
    for (let round = 0; round < 3; round++) await Promise.allSettled([applyAs('alice'), applyAs('bob')]);
    const plain = writers(`status/${fleet.host}.json`);
    expect(plain.length).toBeGreaterThan(0);
    expect(new Set(plain).size).toBe(1);
    const other = plain[0] === 'alice' ? 'bob' : 'alice';
    const second = writers(`status/${fleet.host}@${other}.json`);
    expect(second.length).toBeGreaterThan(0);
    expect(new Set(second)).toEqual(new Set([other]));
    sh('git', ['--git-dir', fleet.bare, 'fsck', '--strict']);
  });

  it('sharing one tmux server (one user, two tenants): neither prunes nor restarts the other (#12)', async () => {
    fleet = new TestFleet();
    shared = true;
    fleet.commit({ 'fleet.yaml': 'fleet: shared\n', 'rosters/team.yaml': ROSTER() });
    /** Session name -> pane pid on the one server, as either tenant sees it. */
    const pids = () => {
      const r = tmuxAs('alice', 'list-panes', '-a', '-F', '#{session_name} #{pane_pid}');
      return Object.fromEntries(
        r.out
          .trim()
          .split('\n')
          .map((l) => l.split(' ')),
      );
    };
    const a1 = await applyAs('alice');
    expect(a1.converged, a1.out).toBe(true);
    const b1 = await applyAs('bob');
    expect(b1.converged, b1.out).toBe(true);
    const before = pids();
    expect(before['alice-1'], JSON.stringify(before)).toBeTruthy();
    expect(before['bob-1'], JSON.stringify(before)).toBeTruthy();
    const a2 = await applyAs('alice');
    expect(a2.converged, a2.out).toBe(true);
    const b2 = await applyAs('bob');
    expect(b2.converged, b2.out).toBe(true);
    for (const r of [a1, b1, a2, b2]) expect(r.planned.filter((x) => x.startsWith('delete_session'))).toEqual([]);
    // The second round does nothing at all: each finds its own agent running and leaves the other's be.
    expect(a2.planned).toEqual([]);
    expect(b2.planned).toEqual([]);
    const after = pids();
    expect(after['alice-1']).toBe(before['alice-1']);
    expect(after['bob-1']).toBe(before['bob-1']);
    // Each session carries its tenant; each status lists only its own agent, and reports no other's as unmanaged.
    const tag = (s: string) => tmuxAs('alice', 'show-options', '-v', '-t', `=${s}:`, '@gitfleet-tenant').out.trim();
    expect([tag('alice-1'), tag('bob-1')]).toEqual(['alice', 'bob']);
    const alice = fleet.status();
    expect(alice.agents.map((r) => r.name)).toEqual(['alice-1']);
    expect(alice.unmanaged).toEqual([]);
    const bob = JSON.parse(fleet.show(`main:status/${fleet.host}@bob.json`));
    expect(bob.agents.map((r: { name: string }) => r.name)).toEqual(['bob-1']);
    expect(bob.unmanaged).toEqual([]);
  });
});
