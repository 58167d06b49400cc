// apply --wait: look again until every enabled agent in scope is Ready, or the
// time is up (kubectl rollout status, flux --wait). A look is what
// reconcile.ts#lookAgain makes: one tmux call per socket and the heartbeat
// files, no process per agent, no lock; looks are at most POLL_MS apart.
// Pure but for the look and the sleep it is given.
import { agentState } from './report/agent-state.js';
import { isTrue, READY } from './status/condition-kinds.js';
import type { StatusDoc } from './status/types.js';

/** How long apply --wait waits without --timeout. */
export const DEFAULT_WAIT_MS = 5 * 60_000;
/** The longest time between two looks. */
export const POLL_MS = 1000;

export interface NotReady {
  name: string;
  socket: string;
  /** The agent's state, in the words of gitfleet ps (report/agent-state.ts). */
  state: string;
}

export interface Readiness {
  ready: number;
  /** Enabled agents in scope. */
  total: number;
  notReady: NotReady[];
}

export function readiness(s: StatusDoc): Readiness {
  const enabled = s.agents.filter((a) => a.enabled);
  const notReady = enabled
    .filter((a) => !isTrue(a.conditions, READY))
    .map((a) => ({ name: a.name, socket: a.socket, state: agentState(a) }));
  return { ready: enabled.length - notReady.length, total: enabled.length, notReady };
}

/**
 * ready: every agent is Ready. timeout: the time is up first. failed: an
 * action of this apply failed (ApplyFailed): no look can change that, only
 * another apply, so waiting on would only burn the timeout.
 */
export type WaitOutcome = 'ready' | 'timeout' | 'failed';

export interface WaitResult {
  outcome: WaitOutcome;
  /** The status of the last look (the first one when there was nothing to wait for). */
  status: StatusDoc;
  readiness: Readiness;
  waitedMs: number;
}

export interface WaitOptions {
  /** Builds the status from a fresh look. */
  look: () => Promise<StatusDoc>;
  timeoutMs: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told the readiness first and whenever it changes (who is not Ready, and why). */
  progress?: (r: Readiness) => void;
}

export async function waitUntilReady(first: StatusDoc, o: WaitOptions): Promise<WaitResult> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const start = now();
  const end = start + o.timeoutMs;
  let status = first;
  let shown = '';
  for (;;) {
    const r = readiness(status);
    const done = (outcome: WaitOutcome): WaitResult => ({ outcome, status, readiness: r, waitedMs: now() - start });
    if (r.ready === r.total) return done('ready');
    if (status.agents.some((a) => a.enabled && a.conditions.some((c) => c.reason === 'ApplyFailed')))
      return done('failed');
    const seen = JSON.stringify(r);
    if (seen !== shown) o.progress?.(r);
    shown = seen;
    const left = end - now();
    if (left <= 0) return done('timeout');
    await sleep(Math.min(o.pollMs ?? POLL_MS, left));
    status = await o.look();
  }
}

/** "a (AwaitingFirstHeartbeat), b (SessionMissing)", at most `max` named. */
export function notReadyList(r: Readiness, max = 10): string {
  const shown = r.notReady.slice(0, max).map((n) => `${n.name} (${n.state})`);
  const more = r.notReady.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
}

/**
 * Whether two statuses of one run say the same, times aside. A look rebuilds
 * the status against the status before the run (reconcile.ts#lookAgain), so
 * the times this run stamps (a condition's first lastTransitionTime, a
 * respawn's lastRestart) are those of the look: they say nothing changed.
 */
export function sameButTimes(a: StatusDoc, b: StatusDoc): boolean {
  const timeless = (s: StatusDoc) =>
    JSON.stringify({
      ...s,
      agents: s.agents.map((r) => ({
        ...r,
        backoff: r.backoff && { ...r.backoff, lastRestart: '' },
        conditions: r.conditions.map((c) => ({ ...c, lastTransitionTime: '' })),
      })),
    });
  return timeless(a) === timeless(b);
}
