// A first apply of heartbeat agents on real tmux: within the runtime's
// heartbeat_grace a missing first beat is Progressing, not a failure (apply
// exits 0, so a timer's unit stays green), and `apply --wait` waits until
// every agent is Ready, or the time is up (exit 3, naming who is not Ready).
// Runtimes are the example stub (examples/stub-agent.mjs) started late by a
// shell, and `cat`, which never beats.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { named, roster, sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

const STUB = fileURLToPath(new URL('../../examples/stub-agent.mjs', import.meta.url));

usePrivateTmux();
/** Each test waits on real time (a grace, a timeout) besides applies that take seconds on a loaded machine. */
const SLOW = 90_000;
let fleets: TestFleet[] = [];
afterEach(() => {
  for (const f of fleets) f.cleanup();
  fleets = [];
});

/** A runtime that beats every `interval` s, its first beat `delay` s after start (never, for null). */
function runtime(name: string, interval: number, delay: number | null, grace?: number): string {
  const command =
    delay === null ? '[cat]' : `[sh, -c, ${JSON.stringify(`sleep ${delay}; exec node ${JSON.stringify(STUB)} stub`)}]`;
  return [
    `${name}:`,
    `    command: ${command}`,
    `    heartbeat: ${interval}`,
    ...(grace === undefined ? [] : [`    heartbeat_grace: ${grace}`]),
    '    process_names: [node, sh, sleep, cat]',
  ].join('\n');
}

function newFleet(agents: string, runtimes: string[]): TestFleet {
  const f = new TestFleet('wait');
  fleets.push(f);
  f.commit({
    'fleet.yaml': 'fleet: wait\nsupervisor: tmux\n',
    'rosters/team.yaml': roster(f.socket, agents, runtimes.join('\n  ')),
  });
  return f;
}

const conditions = (f: TestFleet, name: string) => named(f.status().agents, name).conditions;

describe('heartbeat start-up grace', () => {
  it(
    'a first apply of a heartbeat agent exits 0 before its first beat: Progressing, and committed so',
    async () => {
      // Its first beat would come after 30 s: well inside the grace of 3 × 20 s.
      const f = newFleet('  - name: late\n    runtime: slow\n', [runtime('slow', 20, 30)]);
      const r = await f.gitfleet('apply');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^late\s+\S+\s+AwaitingFirstHeartbeat\b/m);
      expect(r.stdout).toContain('Progressing (agents starting): 0/1 ready');
      const status = f.status();
      expect(status).toMatchObject({ converged: false, progressing: true });
      expect(conditions(f, 'late')).toEqual([
        expect.objectContaining({ type: 'Ready', status: 'Unknown', reason: 'AwaitingFirstHeartbeat' }),
        expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'AwaitingFirstHeartbeat' }),
      ]);
      expect(f.show(`main:status/${f.host}.md`).split('\n')[0]).toBe('# ⏳ wait on testhost: progressing');
      // Still within the grace: nothing changed, so no commit, and still exit 0.
      const head = f.headOf('main');
      const again = await f.gitfleet('apply');
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('Status unchanged: no commit.');
      expect(f.headOf('main')).toBe(head);
      // gitfleet status says the same.
      expect((await f.gitfleet('status')).code).toBe(0);
    },
    SLOW,
  );
});

describe('apply --wait', () => {
  it(
    'returns 0 once the stub beats, and the status it commits last says Ready and converged',
    async () => {
      // The stub starts 6 s late (after apply has looked), then beats every 2 s; its grace is 30 s.
      const f = newFleet('  - name: w\n    runtime: stub\n', [runtime('stub', 2, 6, 30)]);
      const r = await f.gitfleet('apply', '--wait', '--timeout', '40s');
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^apply --wait: 0\/1 ready; waiting for w \(AwaitingFirstHeartbeat\)$/m);
      expect(r.stderr).toMatch(/^apply --wait: 1\/1 ready after \d+(\.\d)? s$/m);
      // First the status as applied (progressing), then the converged one.
      expect(r.stdout).toContain('Progressing (agents starting): 0/1 ready');
      expect(r.stdout).toMatch(/Converged: 1\/1 ready[^\n]*\n(Committed status [0-9a-f]{12} to main\.)\n$/);
      const status = f.status();
      expect(status.converged).toBe(true);
      expect(status).not.toHaveProperty('progressing');
      expect(conditions(f, 'w')).toEqual([
        expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Running' }),
      ]);
      // Two status commits: as applied, then Ready.
      const statusCommits = () =>
        sh('git', ['--git-dir', f.bare, 'log', '--format=%s', 'main'])
          .split('\n')
          .filter((l) => l.startsWith('gitfleet(')).length;
      expect(statusCommits()).toBe(2);
      // An apply --wait with nothing to do waits for nothing and commits nothing.
      const head = f.headOf('main');
      const again = await f.gitfleet('apply', '--wait');
      expect(again).toMatchObject({ code: 0, stderr: '' });
      expect(again.stdout).toContain('Status unchanged: no commit.');
      expect(f.headOf('main')).toBe(head);
      expect(statusCommits()).toBe(2);
    },
    SLOW,
  );

  it(
    'exits 3 when the time is up, saying which agents are not Ready; --json says so as data',
    async () => {
      // cat never beats: its grace (5 s) ends while apply waits.
      const f = newFleet('  - name: mute\n    runtime: silent\n  - name: fine\n    runtime: plain\n', [
        runtime('silent', 1, null, 5),
        'plain:\n    command: [cat]',
      ]);
      const started = Date.now();
      const r = await f.gitfleet('apply', '--wait', '--timeout', '12');
      expect(r.code).toBe(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(12_000);
      // (Still in its grace when apply first looked, unless the machine is slow enough to take 5 s for that.)
      expect(r.stderr).toMatch(
        /^apply --wait: 1\/2 ready; waiting for mute \((AwaitingFirstHeartbeat|HeartbeatMissing)\)$/m,
      );
      expect(r.stderr).toMatch(
        /^apply --wait: timed out after 12 s: 1\/2 ready; not Ready: mute \(HeartbeatMissing\)$/m,
      );
      // What it saw changed (the grace ended): the status committed last says so.
      expect(conditions(f, 'mute')[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'HeartbeatMissing' });
      expect(f.status()).toMatchObject({ converged: false });
      expect(f.status()).not.toHaveProperty('progressing');

      const j = await f.gitfleet('apply', '--wait', '--timeout', '500ms', '--json');
      expect(j.code).toBe(3);
      expect(j.stderr).toBe('');
      const out = JSON.parse(j.stdout);
      expect(out.wait).toEqual({
        outcome: 'timeout',
        timeoutMs: 500,
        waitedMs: expect.any(Number),
        notReady: [{ name: 'mute', socket: f.socket, state: 'HeartbeatMissing' }],
      });
      expect(out.converged).toBe(false);
    },
    SLOW,
  );

  it(
    '--timeout belongs to --wait: alone, or malformed, it is a usage error that changes nothing',
    async () => {
      const f = newFleet('  - name: a\n    runtime: plain\n', ['plain:\n    command: [cat]']);
      const head = f.headOf('main');
      const alone = await f.gitfleet('apply', '--timeout', '2m');
      expect(alone).toMatchObject({ code: 64, stdout: '' });
      expect(alone.stderr).toBe(
        'gitfleet: --timeout: apply takes it only with --wait (how long to wait for every agent to be Ready)\n',
      );
      const bad = await f.gitfleet('apply', '--wait', '--timeout', 'soon');
      expect(bad.code).toBe(64);
      expect(bad.stderr).toContain('--timeout "soon": a duration, e.g. 10 or 2.5 (seconds), 90s, 500ms, 2m or 1h');
      expect((await f.gitfleet('plan', '--wait')).stderr).toContain('--wait is an option of apply only');
      expect(f.headOf('main')).toBe(head);
      expect(f.panes().size).toBe(0);
    },
    SLOW,
  );
});
