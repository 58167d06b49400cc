// Liveness on real tmux with the example stub runtime (examples/stub-agent.mjs),
// which writes heartbeat protocol v1 to $GITFLEET_HEARTBEAT_FILE: healthy
// while it answers, stale once it stops (killed or hung), update: on-idle
// restarts an idle agent and waits for a busy one, and `gitfleet ps` costs
// the same processes for 5 agents as for 100.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { PsResult } from '../../src/ps.js';
import { named, roster, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';

const STUB = fileURLToPath(new URL('../../examples/stub-agent.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

const privateTmux = usePrivateTmux();
let fleets: TestFleet[] = [];
afterEach(() => {
  for (const f of fleets) f.cleanup();
  fleets = [];
});

/** The stub as a runtime that beats every `interval` seconds and counts as idle after `idle` quiet seconds. */
function stubRuntime(interval: number, idle: number, extraEnv = ''): string {
  return [
    'stub:',
    `    command: [node, ${JSON.stringify(STUB)}, stub]`,
    `    heartbeat: ${interval}`,
    `    idle_after: ${idle}`,
    `    env: {GITFLEET_HEARTBEAT_INTERVAL: '${interval}'${extraEnv}}`,
  ].join('\n');
}

function newFleet(agents: string, runtimes: string): TestFleet {
  const f = new TestFleet('live');
  fleets.push(f);
  f.commit({
    'fleet.yaml': 'fleet: live\nsupervisor: tmux\n',
    'rosters/team.yaml': roster(f.socket, agents, runtimes),
  });
  return f;
}

async function ps(f: TestFleet): Promise<PsResult> {
  const r = await f.gitfleet('ps', '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}
const row = (p: PsResult, name: string) => named(p.agents, name);
const condition = (f: TestFleet, name: string, type: string) =>
  named(f.status().agents, name).conditions.find((c) => c.type === type);
const ready = (f: TestFleet, name: string) => condition(f, name, 'Ready');

describe('heartbeats', () => {
  it('the stub keeps its agent healthy; a hung agent turns stale and not Ready while its pane lives', async () => {
    const f = newFleet('  - name: w\n    runtime: stub\n', stubRuntime(0.5, 1));
    await f.gitfleet('apply');
    await waitFor(
      () => readFileSyncSafe(path.join(f.stateDir, 'run', 'live', f.socket, 'w.hb')).startsWith('ts='),
      5000,
    );
    expect((await f.gitfleet('apply')).code).toBe(0);
    expect(ready(f, 'w')).toMatchObject({ status: 'True', message: expect.stringContaining('heartbeat healthy') });
    expect(row(await ps(f), 'w').heartbeat).toMatchObject({ health: 'healthy', status: 'ok' });

    // Hung: the process and its pane live on, but it no longer answers. (SIGSTOP
    // would not do: tmux sends SIGCONT to a pane process that stops.)
    const pid = f.panes().get('w')!.pid;
    expect(f.tmux('send-keys', '-t', '=w:', 'hang', 'Enter').code).toBe(0);
    await new Promise((r) => setTimeout(r, 2000)); // > 3 × 0.5 s after the last beat
    const p = await ps(f);
    expect(row(p, 'w')).toMatchObject({
      ready: 'False',
      reason: 'HeartbeatStale',
      pane: { alive: true, pid },
      heartbeat: { health: 'stale' },
    });
    expect((await f.gitfleet('apply')).code).toBe(3);
    expect(ready(f, 'w')).toMatchObject({ status: 'False', reason: 'HeartbeatStale' });
    expect(f.status().agents[0]?.session).toMatchObject({ alive: true, pid });
  });

  it('a killed agent turns stale within one interval past the limit, and is not Ready', async () => {
    const f = newFleet('  - name: k\n    runtime: stub\n', stubRuntime(1, 1));
    await f.gitfleet('apply');
    const hb = path.join(f.stateDir, 'run', 'live', f.socket, 'k.hb');
    await waitFor(() => readFileSyncSafe(hb).startsWith('ts='), 5000);
    process.kill(f.panes().get('k')!.pid, 'SIGKILL');
    const last = Date.parse(/ts=(\S+)/.exec(readFileSync(hb, 'utf8'))![1]!);
    // Stale once now - ts > 3 × 1 s; look again one interval after that.
    await new Promise((r) => setTimeout(r, Math.max(0, last + 4000 - Date.now())));
    const p = await ps(f);
    expect(row(p, 'k')).toMatchObject({ ready: 'False', heartbeat: { health: 'stale' } });
  });
});

describe('update: on-idle', () => {
  it('restarts a changed idle agent at once and leaves a busy one alone until it is idle', async () => {
    const agents = '  - name: calm\n    runtime: stub\n  - name: busy\n    runtime: stub\n';
    const f = newFleet(agents, stubRuntime(0.5, 1));
    await f.gitfleet('apply');
    const hb = (n: string) => path.join(f.stateDir, 'run', 'live', f.socket, `${n}.hb`);
    await waitFor(
      () => readFileSyncSafe(hb('calm')).includes('status=ok') && readFileSyncSafe(hb('busy')).includes('status=ok'),
      5000,
    );
    const before = f.panes();
    // busy works for 8 s (long enough for apply and ps on a loaded machine); calm has nothing to do.
    expect(f.tmux('send-keys', '-t', '=busy:', 'work 8', 'Enter').code).toBe(0);
    await waitFor(() => readFileSyncSafe(hb('busy')).includes('status=busy'), 3000);
    await new Promise((r) => setTimeout(r, 1200)); // calm: quiet for longer than idle_after
    // A spec change for both (a new variable in the runtime's environment).
    f.commit({ 'rosters/team.yaml': roster(f.socket, agents, stubRuntime(0.5, 1, ", MODE: 'v2'")) });
    const r = await f.gitfleet('apply');
    expect(r.stdout).toMatch(/restart_session .*\/calm \(spec_changed\).*idle: no pane output/);
    expect(r.stdout).toMatch(/restart_session .*\/busy \(update_on_idle\).*waits: busy \(heartbeat\)/);
    expect(r.code).toBe(3);
    const mid = f.panes();
    expect(mid.get('calm')!.pid).not.toBe(before.get('calm')!.pid);
    expect(mid.get('busy')!.pid).toBe(before.get('busy')!.pid);
    expect(condition(f, 'busy', 'PendingRestart')).toMatchObject({ status: 'True', reason: 'UpdateOnIdle' });
    expect(row(await ps(f), 'busy').flags).toContain('PendingRestart');
    // Once the work is done and the pane has been quiet, the next apply restarts it.
    await waitFor(() => readFileSyncSafe(hb('busy')).includes('status=ok'), 12000);
    await new Promise((r) => setTimeout(r, 1500));
    const done = await f.gitfleet('apply');
    expect(done.stdout).toMatch(/restart_session .*\/busy \(spec_changed\)/);
    expect(f.panes().get('busy')!.pid).not.toBe(before.get('busy')!.pid);
  });
});

describe('gitfleet ps', () => {
  it('joins tmux, process, idle time and heartbeat per agent, lists unmanaged sessions; --all-hosts too', async () => {
    // --all-hosts adds other hosts, from their committed status.
    const f = newFleet(
      '  - name: w\n    runtime: stub\n  - name: c\n    runtime: cat\n',
      `${stubRuntime(0.5, 1)}\n  cat:\n    command: [cat]`,
    );
    await f.gitfleet('apply');
    await waitFor(
      () => readFileSyncSafe(path.join(f.stateDir, 'run', 'live', f.socket, 'w.hb')).startsWith('ts='),
      5000,
    );
    f.tmux('new-session', '-d', '-s', 'by-hand', 'sleep', '300');
    const p = await ps(f);
    expect(p).toMatchObject({ fleet: 'live', host: 'testhost', supervisor: { mode: 'tmux' } });
    expect(row(p, 'w')).toMatchObject({
      host: 'testhost',
      tenant_id: expect.any(String),
      source: { kind: 'live' },
      ready: 'True',
      pane: { alive: true, command: 'node' },
      heartbeat: { health: 'healthy', status: 'ok' },
      flags: [],
    });
    expect(row(p, 'w').idleSeconds).toEqual(expect.any(Number));
    expect(row(p, 'c')).toMatchObject({ heartbeat: null, ready: 'True', pane: { command: 'cat' } });
    expect(p.unmanaged).toEqual([
      {
        host: 'testhost',
        tenant_id: expect.any(String),
        socket: f.socket,
        session: 'by-hand',
        command: 'sleep',
        flags: ['unmanaged'],
      },
    ]);
    const text = await f.gitfleet('ps');
    expect(text.stdout).toMatch(/^AGENT +HOST +TENANT +RUNTIME +UNIT +PANE +PID +IDLE +HEARTBEAT +READY +FLAGS/);
    expect(text.stdout).toMatch(/by-hand .*unmanaged \(sleep on /);

    // Another host's committed status, as its own gitfleet would write it.
    const other = { ...f.status(), host: 'far', agents: f.status().agents.map((a) => ({ ...a, host: 'far' })) };
    const written = f.commit({ 'status/far.json': `${JSON.stringify(other, null, 2)}\n` }, 'gitfleet(far): status');
    const all: PsResult = JSON.parse((await f.gitfleet('ps', '--all-hosts', '--json')).stdout);
    const far = all.agents.filter((a) => a.host === 'far');
    expect(far.map((a) => a.name).sort()).toEqual(['c', 'w']);
    expect(far[0]).toMatchObject({
      source: { kind: 'status', commit: written },
      idleSeconds: null,
      tenant_id: expect.any(String),
    });
    expect(all.agents.filter((a) => a.host === 'testhost')).toHaveLength(2);
    expect((await f.gitfleet('ps', '--all-hosts')).stdout).toContain(`far@${written.slice(0, 8)}`);
  });

  /** Run the built CLI with wrappers first on PATH; count the processes it started itself. */
  function countedPs(f: TestFleet, bin: string): { processes: string[]; agents: number } {
    const log = path.join(f.dir, `spawns-${Math.random().toString(36).slice(2)}.log`);
    const r = spawnSync(
      process.execPath,
      [CLI, 'ps', '--json', '--repo', f.bare, '--state-dir', f.stateDir, '--host', f.host],
      {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, GITFLEET_SPAWN_LOG: log },
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = readFileSyncSafe(log).split('\n').filter(Boolean);
    // Only the CLI's own children count (the tmux server starts panes through the same PATH).
    const own = lines.filter((l) => l.split('\t')[0] === String(r.pid)).map((l) => l.split('\t')[1]!);
    return { processes: own.sort(), agents: JSON.parse(r.stdout).agents.length };
  }

  it('spawns the same processes for 5 agents as for 100', async () => {
    const bin = path.join(privateTmux.dir, 'wrappers');
    mkdirSync(bin, { recursive: true });
    for (const name of ['tmux', 'systemctl', 'git', 'sh']) {
      const real = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
      if (!real) continue;
      const w = path.join(bin, name);
      writeFileSync(
        w,
        '#!/bin/sh\n' +
          `[ -n "$GITFLEET_SPAWN_LOG" ] && printf '%s\\t%s\\n' "$PPID" ${name} >>"$GITFLEET_SPAWN_LOG"\n` +
          `exec ${real} "$@"\n`,
      );
      chmodSync(w, 0o755);
    }
    const sizes = [5, 100].map((n) => {
      const agents = Array.from({ length: n }, (_, i) => `  - name: a${i}\n    runtime: cat\n`).join('');
      const f = newFleet(agents, 'cat:\n    command: [cat]');
      return f;
    });
    for (const f of sizes) expect((await f.gitfleet('apply')).code).toBe(0);
    const [small, big] = sizes.map((f) => countedPs(f, bin));
    expect(small!.agents).toBe(5);
    expect(big!.agents).toBe(100);
    expect(small!.processes.length).toBeGreaterThan(0);
    expect(big!.processes).toEqual(small!.processes);
  }, 60_000);
});

function readFileSyncSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
