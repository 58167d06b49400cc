// apply --wait's loop (src/wait.ts) with a clock, a sleep and looks given by
// the test: it stops when every agent is Ready, when the time is up, or when
// an action failed; it looks at most POLL_MS apart and tells progress only
// when who is not Ready changes.
import { describe, expect, it } from 'vitest';
import type { Condition, ConditionReason } from '../../src/status/condition-kinds.js';
import type { StatusDoc } from '../../src/status/types.js';
import { notReadyList, POLL_MS, readiness, sameButTimes, waitUntilReady, type Readiness } from '../../src/wait.js';
import { agentRecord, desired, previousStatus, spec } from './builders.js';

const d = desired(['a', 'b', { name: 'off', enabled: false }]);
const T = '2026-03-01T12:00:00.000Z';
const ready = (reason: ConditionReason, status: Condition['status']): Condition => ({
  type: 'Ready',
  status,
  reason,
  message: reason,
  lastTransitionTime: T,
});
/** A status where `a` and `b` have these Ready reasons (Running is Ready). */
function doc(a: ConditionReason, b: ConditionReason): StatusDoc {
  const rec = (n: string, reason: ConditionReason) =>
    agentRecord(spec(d, n), {
      conditions: [
        ready(reason, reason === 'Running' ? 'True' : reason === 'AwaitingFirstHeartbeat' ? 'Unknown' : 'False'),
      ],
    });
  return previousStatus([rec('a', a), rec('b', b), agentRecord(spec(d, 'off'), { enabled: false })], []);
}

/** A fake clock the sleeps move, and looks that return the given statuses in turn (the last one again). */
function scripted(looks: StatusDoc[]) {
  let t = 0;
  const sleeps: number[] = [];
  const progress: Readiness[] = [];
  let n = 0;
  return {
    sleeps,
    progress,
    looks: () => n,
    opts: (timeoutMs: number) => ({
      timeoutMs,
      now: () => t,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
      look: async () => looks[Math.min(n++, looks.length - 1)]!,
      progress: (r: Readiness) => progress.push(r),
    }),
  };
}

describe('readiness', () => {
  it('counts enabled agents only, and names each one not Ready with its state', () => {
    const r = readiness(doc('Running', 'AwaitingFirstHeartbeat'));
    expect(r).toEqual({
      ready: 1,
      total: 2,
      notReady: [{ name: 'b', socket: 'mosaic-factory', state: 'AwaitingFirstHeartbeat' }],
    });
    expect(notReadyList(r)).toBe('b (AwaitingFirstHeartbeat)');
    expect(notReadyList(readiness(doc('SessionMissing', 'PaneDead')), 1)).toBe('a (SessionMissing), and 1 more');
  });
});

describe('waitUntilReady', () => {
  it('returns at once, without a look, when every agent is already Ready', async () => {
    const s = scripted([]);
    const w = await waitUntilReady(doc('Running', 'Running'), s.opts(10_000));
    expect(w).toMatchObject({ outcome: 'ready', waitedMs: 0 });
    expect(s.looks()).toBe(0);
    expect(s.progress).toEqual([]);
  });

  it('looks again once a POLL_MS until all are Ready; progress only when who is not Ready changes', async () => {
    const starting = doc('AwaitingFirstHeartbeat', 'AwaitingFirstHeartbeat');
    const s = scripted([starting, starting, doc('Running', 'AwaitingFirstHeartbeat'), doc('Running', 'Running')]);
    const w = await waitUntilReady(starting, s.opts(20_000));
    expect(w.outcome).toBe('ready');
    expect(w.readiness).toMatchObject({ ready: 2, total: 2 });
    expect(s.looks()).toBe(4);
    expect(s.sleeps).toEqual([POLL_MS, POLL_MS, POLL_MS, POLL_MS]);
    expect(w.waitedMs).toBe(4 * POLL_MS);
    expect(s.progress.map((p) => p.ready)).toEqual([0, 1]);
  });

  it('gives up when the time is up, with who is not Ready then; the last sleep is cut to the time left', async () => {
    const s = scripted([doc('Running', 'HeartbeatMissing')]);
    const w = await waitUntilReady(doc('AwaitingFirstHeartbeat', 'AwaitingFirstHeartbeat'), s.opts(2500));
    expect(w.outcome).toBe('timeout');
    expect(w.waitedMs).toBe(2500);
    expect(s.sleeps).toEqual([1000, 1000, 500]);
    expect(w.readiness.notReady).toEqual([{ name: 'b', socket: 'mosaic-factory', state: 'HeartbeatMissing' }]);
    // A state that changes (b: AwaitingFirstHeartbeat, then HeartbeatMissing) is told, a repeat is not.
    expect(s.progress.map((p) => notReadyList(p))).toEqual([
      'a (AwaitingFirstHeartbeat), b (AwaitingFirstHeartbeat)',
      'b (HeartbeatMissing)',
    ]);
  });

  it('does not wait on an action that failed: only another apply changes that', async () => {
    const s = scripted([]);
    const w = await waitUntilReady(doc('ApplyFailed', 'AwaitingFirstHeartbeat'), s.opts(60_000));
    expect(w.outcome).toBe('failed');
    expect(s.looks()).toBe(0);
  });
});

describe('sameButTimes', () => {
  it('tells a status that changed from one only re-stamped by a later look', () => {
    const first = doc('Running', 'AwaitingFirstHeartbeat');
    const restamped: StatusDoc = {
      ...first,
      agents: first.agents.map((a) => ({
        ...a,
        backoff: { streak: 1, lastRestart: '2026-03-01T12:00:09.000Z' },
        conditions: a.conditions.map((c) => ({ ...c, lastTransitionTime: '2026-03-01T12:00:09.000Z' })),
      })),
    };
    const stamped: StatusDoc = {
      ...first,
      agents: first.agents.map((a) => ({ ...a, backoff: { streak: 1, lastRestart: T } })),
    };
    expect(sameButTimes(stamped, restamped)).toBe(true);
    expect(sameButTimes(first, doc('Running', 'Running'))).toBe(false);
    expect(sameButTimes(first, doc('Running', 'HeartbeatMissing'))).toBe(false);
    expect(sameButTimes(first, { ...first, converged: true })).toBe(false);
  });
});
