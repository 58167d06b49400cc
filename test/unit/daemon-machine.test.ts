// The daemon's "what next" state machine, driven by a fake clock: no timers, no processes.
import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  type Effect,
  initialState,
  type MachineEvent,
  type MachineState,
  step,
} from '../../src/daemon/machine.js';

/** A machine and a fake clock; `send` returns the effects of one event. */
function machine() {
  let state: MachineState = initialState();
  const clock = { now: 0 };
  return {
    clock,
    get state() {
      return state;
    },
    send(e: MachineEvent): Effect[] {
      const r = step(state, e, clock.now);
      state = r.state;
      return r.effects;
    },
  };
}

const start = (trigger: string) => [{ type: 'start', job: { kind: 'reconcile', trigger } }];

describe('daemon state machine', () => {
  it('runs one job at a time; triggers during a run fold into one next run, a conditional ref-change last', () => {
    const m = machine();
    expect(m.send({ type: 'trigger', trigger: 'start' })).toEqual(start('start'));
    expect(m.send({ type: 'trigger', trigger: 'schedule' })).toEqual([]);
    expect(m.send({ type: 'trigger', trigger: 'ref-change' })).toEqual([]);
    expect(m.send({ type: 'trigger', trigger: 'observe' })).toEqual([]);
    // A ref-change may end unchanged (a status commit); folded with others, the run must happen regardless.
    expect(m.send({ type: 'done', outcome: 'ok' })).toEqual(start('observe'));
    expect(m.send({ type: 'trigger', trigger: 'ref-change' })).toEqual([]);
    expect(m.send({ type: 'done', outcome: 'ok' })).toEqual(start('ref-change'));
    expect(m.send({ type: 'done', outcome: 'unchanged' })).toEqual([]);
    expect(m.state.running).toBeNull();
  });

  it('transient failures back off 1 s, 2 s, 4 s ... capped at 5 minutes; triggers meanwhile wait', () => {
    expect([1, 2, 3, 4, 9, 10, 30].map((n) => backoffMs(n))).toEqual([
      1000, 2000, 4000, 8000, 256_000, 300_000, 300_000,
    ]);
    const m = machine();
    m.send({ type: 'trigger', trigger: 'schedule' });
    expect(m.send({ type: 'done', outcome: 'transient' })).toEqual([{ type: 'arm', at: 1000 }]);
    expect(m.state.pending).toBe('schedule'); // retried for the same reason
    m.clock.now = 500;
    expect(m.send({ type: 'trigger', trigger: 'webhook' })).toEqual([]); // still backing off
    expect(m.send({ type: 'look' })).toEqual([]);
    m.clock.now = 1000;
    expect(m.send({ type: 'timer' })).toEqual(start('webhook'));
    m.clock.now = 1100;
    expect(m.send({ type: 'done', outcome: 'transient' })).toEqual([{ type: 'arm', at: 3100 }]);
    m.clock.now = 3100;
    expect(m.send({ type: 'timer' })).toEqual(start('webhook'));
    m.clock.now = 3200;
    expect(m.send({ type: 'done', outcome: 'transient' })).toEqual([{ type: 'arm', at: 7200 }]);
    m.clock.now = 7200;
    m.send({ type: 'timer' });
    expect(m.send({ type: 'done', outcome: 'ok' })).toEqual([]);
    expect(m.state).toMatchObject({ failures: 0, retryAt: null });
    // After success the next failure starts from the first step again.
    m.send({ type: 'trigger', trigger: 'schedule' });
    expect(m.send({ type: 'done', outcome: 'transient' })).toEqual([{ type: 'arm', at: 8200 }]);
  });

  it('never a hot loop: a timer that fires early is armed again, not run', () => {
    const m = machine();
    m.send({ type: 'trigger', trigger: 'start' });
    m.send({ type: 'done', outcome: 'transient' });
    m.clock.now = 999;
    expect(m.send({ type: 'timer' })).toEqual([{ type: 'arm', at: 1000 }]);
  });

  it('a terminal failure waits for a change or the schedule; looks stop until then', () => {
    const m = machine();
    m.send({ type: 'trigger', trigger: 'start' });
    expect(m.send({ type: 'done', outcome: 'terminal' })).toEqual([]);
    expect(m.state.stuck).toBe(true);
    m.clock.now = 60_000;
    expect(m.send({ type: 'look' })).toEqual([]);
    expect(m.send({ type: 'trigger', trigger: 'observe' })).toEqual([]);
    expect(m.send({ type: 'trigger', trigger: 'ref-change' })).toEqual(start('ref-change'));
    expect(m.send({ type: 'done', outcome: 'ok' })).toEqual([]);
    expect(m.state.stuck).toBe(false);
    expect(m.send({ type: 'look' })).toEqual([{ type: 'start', job: { kind: 'look' } }]);
  });

  it('a look runs only when idle; an observe trigger it raises runs after it', () => {
    const m = machine();
    expect(m.send({ type: 'look' })).toEqual([{ type: 'start', job: { kind: 'look' } }]);
    expect(m.send({ type: 'look' })).toEqual([]);
    expect(m.send({ type: 'trigger', trigger: 'observe' })).toEqual([]);
    expect(m.send({ type: 'done', outcome: 'look-quiet' })).toEqual(start('observe'));
    expect(m.send({ type: 'look' })).toEqual([]);
  });

  it('a ref-change that turns out unchanged (a status commit) ends quietly', () => {
    const m = machine();
    m.send({ type: 'trigger', trigger: 'ref-change' });
    expect(m.send({ type: 'done', outcome: 'unchanged' })).toEqual([]);
    expect(m.state).toMatchObject({ running: null, pending: null, failures: 0 });
  });

  it('stop: exits at once when idle, else after the job in progress, and starts nothing more', () => {
    const idle = machine();
    expect(idle.send({ type: 'stop' })).toEqual([{ type: 'exit' }]);
    const busy = machine();
    busy.send({ type: 'trigger', trigger: 'start' });
    busy.send({ type: 'trigger', trigger: 'webhook' });
    expect(busy.send({ type: 'stop' })).toEqual([]);
    expect(busy.send({ type: 'trigger', trigger: 'schedule' })).toEqual([]);
    expect(busy.send({ type: 'done', outcome: 'transient' })).toEqual([{ type: 'exit' }]);
  });
});
