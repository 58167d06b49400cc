// A first apply of heartbeat agents on real tmux: within the runtime's
// heartbeat_grace a missing first beat is Progressing, not a failure (apply
// exits 0, so a timer's unit stays green), and `apply --wait` waits until
// every agent is Ready, or the time is up (exit 3, naming who is not Ready).
// Runtimes are the example stub (examples/stub-agent.mjs) started late by a
// shell, and `cat`, which never beats.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { named, roster, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

const STUB = fileURLToPath(new URL('../../examples/stub-agent.mjs', import.meta.url));

usePrivateTmux();
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
  it('a first apply of a heartbeat agent exits 0 before its first beat: Progressing, and committed so', async () => {
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
  });
});
