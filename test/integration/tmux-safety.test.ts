// What reaches tmux from a roster arrives verbatim and runs nothing; a tmux
// whose list-panes output cannot be read never reads as "nothing runs"; the
// pane wrapper records every exit status; pane logs are capped. Real tmux on
// private sockets (test/helpers/fleet.ts).
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLogTail } from '../../src/agent/logs.js';
import { rotateLogs } from '../../src/apply/log-rotate.js';
import { agentLogPath, exitStatusPath } from '../../src/paths.js';
import { sh, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';

usePrivateTmux();

let fleet: TestFleet;
afterEach(() => fleet?.cleanup());

const NODE = process.execPath;
/** A runtime that writes what it received (cwd, argv, env) as JSON to $OUT, then waits. */
const PROBE =
  'const seen = { cwd: process.cwd(), argv: process.argv.slice(1), env: process.env }; ' +
  "require('fs').writeFileSync(process.env.OUT, JSON.stringify(seen)); setInterval(() => {}, 1e6)";

/** A roster in YAML flow style: JSON strings are valid YAML double-quoted scalars, so any value is written exactly. */
function rosterYaml(socket: string, agents: object[]): string {
  const runtimes = { probe: { command: [NODE, '-e', PROBE] } };
  return JSON.stringify({ version: 1, transport: 'tmux', tmux: { socket_name: socket }, runtimes, agents });
}

describe('values that reach tmux', () => {
  it('arrive verbatim through new-session -s/-c/-e and the argv, and run nothing', async () => {
    fleet = new TestFleet();
    const canary = (n: number) => path.join(fleet.dir, `CANARY${n}`);
    const hostile = (n: number) => [
      `#(touch ${canary(n)})`,
      '#{session_name}',
      `$(touch ${canary(n + 1)})`,
      '`touch x`',
      '%Y %%',
      '../..',
    ];
    const base = path.join(fleet.dir, 'wd');
    const cwds = {
      // '../' stays in the path tmux gets; the pane's cwd is where it leads.
      fmt: `${base}/a/../w #(touch ${canary(1)}) #{session_name} #{pane_id} $(touch ${canary(2)}) ## %Y`,
      semi: `${base}/s;`,
      inject: base,
    };
    const out = (name: string) => path.join(fleet.dir, `${name}.json`);
    const fmtEnv = {
      V_HASH: `#(touch ${canary(3)})`,
      V_FMT: '#{session_name}#{pane_id}',
      V_SUB: `$(touch ${canary(4)})`,
      V_NL: 'line1\nline2',
      V_DOTS: '../../etc',
    };
    // Kept apart: before the fix, a final ';' made tmux refuse the whole command list, and so hid the rest.
    const semiEnv = { ...fmtEnv, V_SEMI: 'a;', V_ESC: 'b\\;' };
    const env = { fmt: fmtEnv, semi: semiEnv, inject: fmtEnv };
    const argv = {
      fmt: [...hostile(5), 'line1\nline2', 'x\\'],
      semi: [';', '\\;', 'x\\', 'y;'],
      inject: ['x;', 'run-shell', `touch ${canary(7)}`],
    };
    fleet.commit({
      'fleet.yaml': 'fleet: safety\n',
      'rosters/a.yaml': rosterYaml(fleet.socket, [
        // An argument ending in ';' ends a tmux command: unescaped, 'inject' would run `run-shell touch ...` in tmux.
        ...(['fmt', 'semi', 'inject'] as const).map((name) => ({
          name,
          runtime: 'probe',
          working_directory: cwds[name],
          env: { ...env[name], OUT: out(name) },
          command: [NODE, '-e', PROBE, ...argv[name]],
        })),
      ]),
    });
    const r = await fleet.gitfleet('apply');
    await waitFor(() => ['fmt', 'semi', 'inject'].every((n) => existsSync(out(n))), 5000).catch(() => undefined);
    await new Promise((res) => setTimeout(res, 300)); // a #(...) job would have run by now

    expect(readdirSync(fleet.dir).filter((f) => f.startsWith('CANARY'))).toEqual([]);
    expect(existsSync(path.join(fleet.dir, 'x'))).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect([...fleet.panes().keys()].sort()).toEqual(['_holder', 'fmt', 'inject', 'semi']);
    for (const name of ['fmt', 'semi', 'inject'] as const) {
      const seen = JSON.parse(readFileSync(out(name), 'utf8'));
      const cwd = path.resolve(cwds[name]);
      expect(seen.cwd).toBe(cwd);
      expect(fleet.tmux('display-message', '-p', '-t', `=${name}:`, '#{pane_current_path}').out).toBe(`${cwd}\n`);
      expect(seen.argv).toEqual(argv[name]);
      for (const [k, v] of Object.entries(env[name])) expect(seen.env[k]).toBe(v);
      expect(fleet.tmux('show-environment', '-t', `=${name}`, 'V_FMT').out).toBe(`V_FMT=${fmtEnv.V_FMT}\n`);
    }
  });

  it('agent and socket names that tmux would expand or split are refused before anything runs', async () => {
    fleet = new TestFleet();
    const canary = path.join(fleet.dir, 'CANARY');
    for (const [socket, name] of [
      [fleet.socket, `a#(touch ${canary})`],
      [fleet.socket, 'b;'],
      [fleet.socket, '../c'],
      [fleet.socket, 'd\ne'],
      [`${fleet.socket}#(touch ${canary})`, 'e'],
      [`${fleet.socket};`, 'f'],
    ] as [string, string][]) {
      const agents = [{ name, runtime: 'probe', env: { OUT: path.join(fleet.dir, 'out.json') } }];
      fleet.commit({ 'rosters/a.yaml': rosterYaml(socket, agents) });
      const v = await fleet.gitfleet('validate');
      expect(v.code, `${socket} ${name}`).toBe(1);
      expect(v.stdout + v.stderr).toMatch(/rosters\/a\.yaml:\d+:\d+: /);
      const r = await fleet.gitfleet('apply');
      expect(r.stdout).not.toMatch(/create_session/);
    }
    expect(existsSync(canary)).toBe(false);
    expect(fleet.tmux('list-sessions').code).not.toBe(0);
  });
});

describe('a tmux whose list-panes output cannot be read', () => {
  it('is an unobserved socket: nothing created, nothing deleted', async () => {
    fleet = new TestFleet();
    const agents = ['a', 'b'].map((name) => ({ name, runtime: 'probe', command: ['cat'] }));
    fleet.commit({ 'fleet.yaml': 'fleet: safety\n', 'rosters/a.yaml': rosterYaml(fleet.socket, agents) });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    const before = fleet.panes();
    expect(before.size).toBe(3);

    const real = sh('sh', ['-c', 'command -v tmux']).trim();
    const bin = path.join(fleet.dir, 'bin');
    mkdirSync(bin);
    const F = '[^\\x1f]*\\x1f'; // one field and its separator, for sed
    const outputs: Record<string, string> = {
      garbage: `printf 'garbage\\n'`,
      // cut short: the real output without its last bytes (no final newline)
      truncated: `"${real}" "$@" | head -c 150`,
      // one line with a field missing, the others intact
      partial: `"${real}" "$@" | sed '2s/\\x1f[^\\x1f]*$//'`,
      'bad pid': `"${real}" "$@" | sed '1s/^\\(${F}${F}${F}${F}\\)[0-9]*/\\1x/'`,
      'bad pane id': `"${real}" "$@" | sed '1s/^\\(${F}${F}${F}\\)%/\\1/'`,
      empty: 'exit 0',
    };
    const path0 = process.env.PATH;
    try {
      for (const [kind, list] of Object.entries(outputs)) {
        const fake = path.join(bin, 'tmux');
        const intercept = `for a; do [ "$a" = list-panes ] && { ${list}; exit 0; }; done`;
        writeFileSync(fake, `#!/bin/sh\n${intercept}\nexec "${real}" "$@"\n`);
        chmodSync(fake, 0o755);
        process.env.PATH = `${bin}:${path0}`;
        const plan = JSON.parse((await fleet.gitfleet('plan', '--json')).stdout);
        const r = await fleet.gitfleet('apply');
        process.env.PATH = path0;
        expect(plan.actions, kind).toEqual([]);
        const error = expect.stringContaining('tmux list-panes printed what gitfleet cannot read');
        expect(plan.unobserved, kind).toEqual([{ socket: fleet.socket, error }]);
        expect(r.stdout, kind).not.toMatch(/create_session|delete_session|restart_session/);
        expect(r.stdout, kind).toContain(`Socket ${fleet.socket} could not be observed`);
        expect(fleet.panes(), kind).toEqual(before);
      }
    } finally {
      process.env.PATH = path0;
    }
    // The real tmux again: all is well, nothing to do.
    const again = JSON.parse((await fleet.gitfleet('plan', '--json')).stdout);
    expect(again.actions).toEqual([]);
  }, 60_000);
});

describe('the pane wrapper', () => {
  const exitOf = (f: TestFleet, session: string) =>
    readFileSync(exitStatusPath(f.stateDir, { fleet: 'safety', socket: f.socket, session }), 'utf8');

  it('records every exit status, signals included; the pane shows the runtime; kill-session ends it', async () => {
    fleet = new TestFleet();
    const crash = Array.from({ length: 8 }, (_, i) => ({
      name: `crash${i}`,
      runtime: 'probe',
      command: ['sh', '-c', `exit ${i + 1}`],
    }));
    fleet.commit({
      'fleet.yaml': 'fleet: safety\n',
      'rosters/a.yaml': rosterYaml(fleet.socket, [
        ...crash,
        { name: 'sleeper', runtime: 'probe', command: ['sleep', '1000'] },
        { name: 'talker', runtime: 'probe', command: ['cat'] },
        { name: 'missing', runtime: 'probe', command: ['/nonexistent/runtime'] },
      ]),
    });
    await fleet.gitfleet('apply');
    const dead = (names: string[]) => () => names.every((n) => fleet.panes().get(n)?.dead === true);
    await waitFor(dead([...crash.map((c) => c.name), 'missing']), 5000);
    const panes = fleet.panes();
    // The runtime, not the wrapper, is what tmux shows (the planner compares it with process_names).
    expect(panes.get('sleeper')).toMatchObject({ dead: false, cmd: 'sleep' });
    expect(panes.get('talker')).toMatchObject({ dead: false, cmd: 'cat' });

    // Killed by a signal: tmux records no status for that (not WIFEXITED); the wrapper records 128+n.
    const sleeperPid = childOf(panes.get('sleeper')!.pid);
    process.kill(sleeperPid, 'SIGTERM');
    // A stop does not end the pane (sh would go on and exit): the wrapper resumes the runtime.
    const talkerPid = childOf(panes.get('talker')!.pid);
    process.kill(talkerPid, 'SIGSTOP');
    fleet.tmux('send-keys', '-t', '=talker:', 'C-z');
    await new Promise((res) => setTimeout(res, 300));
    expect(fleet.panes().get('talker')).toMatchObject({ dead: false, cmd: 'cat' });
    expect(readFileSync(`/proc/${talkerPid}/stat`, 'utf8')).toMatch(/^\d+ \(cat\) [RS] /);
    // Ctrl-C reaches the runtime only; the wrapper lives to record it.
    fleet.tmux('send-keys', '-t', '=talker:', 'C-c');
    await waitFor(dead(['sleeper', 'talker']), 5000);

    // The plan respawns each dead pane and says how its runtime ended.
    const plan: { actions: { kind: string; detail: { agent: string; exitStatus: number | null } }[] } = JSON.parse(
      (await fleet.gitfleet('plan', '--json')).stdout,
    );
    const respawns = plan.actions.filter((a) => a.kind === 'respawn_pane');
    const byAgent = Object.fromEntries(respawns.map((a) => [a.detail.agent, a.detail.exitStatus]));
    const crashed = Object.fromEntries(crash.map((c, i) => [c.name, i + 1]));
    expect(byAgent).toEqual({ ...crashed, missing: 127, sleeper: 143, talker: 130 });
    for (let i = 0; i < 8; i++) {
      expect(exitOf(fleet, `crash${i}`)).toBe(`${fleet.panes().get(`crash${i}`)!.pid} ${i + 1}\n`);
    }
    // Respawned, the pane runs the wrapper again, and again shows the runtime.
    expect((await fleet.gitfleet('apply')).stderr).toBe('');
    await waitFor(() => fleet.panes().get('sleeper')?.cmd === 'sleep' && !fleet.panes().get('sleeper')!.dead, 5000);

    // kill-session hangs up the wrapper; the kernel then hangs up the runtime's process group.
    const talkerNow = fleet.panes().get('talker')!;
    if (talkerNow.dead) fleet.tmux('respawn-pane', '-t', '=talker:');
    await waitFor(() => fleet.panes().get('talker')?.cmd === 'cat', 5000);
    const runtime = childOf(fleet.panes().get('talker')!.pid);
    expect(fleet.tmux('kill-session', '-t', '=talker').code).toBe(0);
    await waitFor(() => !alive(runtime), 5000);
  }, 60_000);
});

describe('pane logs', () => {
  it('are capped by copytruncate while pipe-pane appends, and agent logs reads across the rotation', async () => {
    fleet = new TestFleet();
    const pause = path.join(fleet.dir, 'pause');
    const talk =
      `i=0; while :; do [ -e ${pause} ] && { sleep 0.05; continue; }; ` +
      'echo "line $i"; i=$((i+1)); sleep 0.002; done';
    const agents = [{ name: 'chatty', runtime: 'probe', command: ['sh', '-c', talk] }];
    fleet.commit({ 'fleet.yaml': 'fleet: safety\n', 'rosters/a.yaml': rosterYaml(fleet.socket, agents) });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    const log = agentLogPath(fleet.stateDir, { fleet: 'safety', socket: fleet.socket, session: 'chatty' });
    await waitFor(() => existsSync(log) && statSync(log).size > 4000, 10_000);

    // Hold the writer while rotating: the one instant copytruncate can lose is not what this test is about.
    writeFileSync(pause, '');
    await new Promise((res) => setTimeout(res, 300));
    const cap = 2000;
    const both = ['chatty', 'absent'].map((session) => ({ socket: fleet.socket, session }));
    const r = await rotateLogs(fleet.stateDir, 'safety', both, cap);
    expect(r).toEqual({ rotated: [log], errors: [] });
    const aside = readFileSync(`${log}.1`, 'utf8');
    expect(aside.length).toBeLessThanOrEqual(cap);
    expect(aside).toMatch(/^line \d+\r?\n/); // starts on a whole line
    expect(statSync(log).size).toBe(0);
    rmSync(pause);
    // pipe-pane's cat appends at the new end: no hole of NUL bytes where the old content was.
    await waitFor(() => statSync(log).size > 300, 5000);
    const fresh = readFileSync(log);
    expect(fresh.includes(0)).toBe(false);
    expect(fresh.length).toBeLessThan(cap + 4000);
    // agent logs: the last lines of <log>.1 come first, then <log>, numbered without a gap.
    const n = fresh.toString().split('\n').length + 10;
    const tail = await readLogTail(log, n);
    expect(tail.lines).toHaveLength(n);
    const nums = tail.lines.map((l) => Number(/^line (\d+)$/.exec(l)?.[1]));
    expect(nums.every((x, i) => i === 0 || x === nums[i - 1]! + 1)).toBe(true);
  }, 30_000);
});

/** The runtime of a pane: the child of its wrapper (a pane that exec'd its runtime has none: the pane's own pid). */
function childOf(pid: number): number {
  const kids = sh('sh', ['-c', `pgrep -P ${pid} || true`])
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  expect(kids.length).toBeLessThanOrEqual(1);
  return kids[0] ?? pid;
}

/** Running (a zombie reparented to a pid 1 that does not reap counts as ended). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
