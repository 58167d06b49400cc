// What the daemon does next, as a pure state machine: events in (a trigger, a
// job finished, a retry timer, a stop), the new state and effects out (start a
// reconcile, start a look, arm a timer, exit). No clock of its own: `now` is
// passed in, so tests drive it with a fake clock. run.ts carries the effects out.

/** Why a reconcile runs; named in its log line and in /metrics. */
export type Trigger = 'start' | 'ref-change' | 'schedule' | 'observe' | 'webhook';

/**
 * How a job ended. A reconcile: ok, or the error kinds of errors.ts. `unchanged`: a ref-change whose desired
 * state was the one already reconciled (gitfleet's own status commit), nothing done. A look: `look-quiet`
 * (nothing to act on), or it raised an `observe` trigger itself.
 */
export type Outcome = 'ok' | 'unchanged' | 'transient' | 'terminal' | 'look-quiet';

export type Job = { kind: 'reconcile'; trigger: Trigger } | { kind: 'look' };

export interface Backoff {
  firstMs: number;
  maxMs: number;
}

/** Transient errors (lock held, git busy, network): 1 s, 2 s, 4 s ... at most 5 minutes apart. */
export const DAEMON_BACKOFF: Backoff = { firstMs: 1000, maxMs: 300_000 };

export interface MachineState {
  /** The job in progress, if any: one at a time. */
  running: Job | null;
  /** A trigger that came while busy or backing off: runs next (later ones fold into it). */
  pending: Trigger | null;
  /** Transient failures in a row. */
  failures: number;
  /** While backing off: no job starts before this time (ms). */
  retryAt: number | null;
  /**
   * The last reconcile failed in a way retrying will not mend (a repository or branch gone): wait for a change
   * (ref-change, webhook) or the schedule; cheap looks stop until then.
   */
  stuck: boolean;
  stopping: boolean;
}

export type MachineEvent =
  | { type: 'trigger'; trigger: Trigger }
  | { type: 'look' }
  | { type: 'done'; outcome: Outcome }
  | { type: 'timer' }
  | { type: 'stop' };

export type Effect = { type: 'start'; job: Job } | { type: 'arm'; at: number } | { type: 'exit' };

export function initialState(): MachineState {
  return { running: null, pending: null, failures: 0, retryAt: null, stuck: false, stopping: false };
}

export function backoffMs(failures: number, b: Backoff = DAEMON_BACKOFF): number {
  return Math.min(b.maxMs, b.firstMs * 2 ** Math.max(0, failures - 1));
}

/**
 * Which of two triggers a folded run names. A ref-change ranks last: it is the one conditional trigger (skipped
 * when the desired state did not change), so folded with any other the run must happen. Folding is what keeps
 * a burst of events to one reconcile.
 */
const RANK: Record<Trigger, number> = { start: 5, webhook: 4, observe: 3, schedule: 2, 'ref-change': 1 };
const fold = (a: Trigger | null, b: Trigger): Trigger => (a !== null && RANK[a] >= RANK[b] ? a : b);

export function step(
  s: MachineState,
  e: MachineEvent,
  now: number,
  b: Backoff = DAEMON_BACKOFF,
): { state: MachineState; effects: Effect[] } {
  const next: MachineState = { ...s };
  const effects: Effect[] = [];
  switch (e.type) {
    case 'stop':
      next.stopping = true;
      next.pending = null;
      if (!s.running) effects.push({ type: 'exit' });
      return { state: next, effects };
    case 'trigger':
      if (s.stopping) return { state: s, effects };
      next.pending = fold(s.pending, e.trigger);
      break;
    case 'look':
      // A look is the cheapest thing there is: skipped whenever anything else is going on or waiting.
      if (s.stopping || s.running || s.pending || s.stuck || (s.retryAt !== null && now < s.retryAt))
        return { state: s, effects };
      next.running = { kind: 'look' };
      effects.push({ type: 'start', job: next.running });
      return { state: next, effects };
    case 'timer':
      break;
    case 'done': {
      const job = s.running;
      next.running = null;
      if (s.stopping) return { state: next, effects: [{ type: 'exit' }] };
      if (job?.kind === 'reconcile') {
        if (e.outcome === 'transient') {
          next.failures = s.failures + 1;
          next.retryAt = now + backoffMs(next.failures, b);
          // Retried: the same reason, unless something newer came meanwhile.
          next.pending = fold(job.trigger, s.pending ?? job.trigger);
        } else {
          next.failures = 0;
          next.retryAt = null;
          next.stuck = e.outcome === 'terminal';
          // Stuck: only a desired-state change (or the schedule) is worth another try.
          if (next.stuck && s.pending === 'observe') next.pending = null;
        }
      }
      break;
    }
  }
  if (next.stuck && e.type === 'trigger' && e.trigger !== 'observe') next.stuck = false;
  if (next.stuck && next.pending === 'observe') next.pending = null;
  if (!next.running && next.pending) {
    if (next.retryAt !== null && now < next.retryAt) {
      if (e.type === 'done' || e.type === 'timer') effects.push({ type: 'arm', at: next.retryAt });
    } else {
      next.running = { kind: 'reconcile', trigger: next.pending };
      next.pending = null;
      effects.push({ type: 'start', job: next.running });
    }
  }
  return { state: next, effects };
}
