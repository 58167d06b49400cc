// CrashLoopBackOff, in one place: the planner decides whether a dead pane is
// respawned now or waits; the status records the streak that decision reads
// at the next run. Both sides use these functions, so they cannot disagree.
import type { ActionKind } from './action-kinds.js';

export interface Backoff {
  /** Consecutive respawns so far. */
  streak: number;
  /** When the last respawn happened (ISO time). */
  lastRestart: string;
}

export interface BackoffPolicy {
  baseSeconds: number;
  maxSeconds: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseSeconds: 10, maxSeconds: 300 };

/** A pane alive this long after its last respawn ends the crash streak. */
export const STABLE_AFTER_MS = 10 * 60 * 1000;

/** The n-th consecutive respawn waits base·2^(n-1) seconds (capped) after the previous one. */
export function backoffDelaySeconds(streak: number, b: BackoffPolicy): number {
  if (streak <= 0) return 0;
  return Math.min(b.baseSeconds * 2 ** (streak - 1), b.maxSeconds);
}

/**
 * Whether a dead pane is respawned now: a runtime that dies at once is not
 * restarted in a hot loop. `notBefore` is set while it must wait.
 */
export function respawnDecision(
  previous: Backoff | null | undefined,
  now: Date,
  policy: BackoffPolicy,
): { streak: number; notBefore?: string } {
  const streak = previous?.streak ?? 0;
  const last = previous?.lastRestart ? Date.parse(previous.lastRestart) : Number.NaN;
  if (streak === 0 || Number.isNaN(last)) return { streak };
  const due = last + backoffDelaySeconds(streak, policy) * 1000;
  return now.getTime() >= due ? { streak } : { streak, notBefore: new Date(due).toISOString() };
}

/** What this run did to the agent, as the streak sees it. */
export interface DoneAction {
  kind: ActionKind;
  reason: string;
}

/**
 * The restart count and streak after this run: a respawn extends the streak;
 * a new spec starts both afresh; a session re-created after it was lost
 * counts as a restart (a unit started over a running session adopts it: no
 * restart); a pane alive for STABLE_AFTER_MS ends the streak.
 */
export function nextBackoff(
  previous: { restarts: number; backoff: Backoff | null } | undefined,
  done: DoneAction | undefined,
  paneAlive: boolean,
  now: Date,
): { restarts: number; backoff: Backoff | null } {
  let restarts = previous?.restarts ?? 0;
  let backoff = previous?.backoff ?? null;
  if (done?.kind === 'respawn_pane') {
    restarts++;
    backoff = { streak: (backoff?.streak ?? 0) + 1, lastRestart: now.toISOString() };
  } else if (done?.kind === 'restart_session' || (done?.kind === 'restart_unit' && done.reason === 'spec_changed')) {
    restarts = 0;
    backoff = null;
  } else if (
    done &&
    done.kind !== 'stop_unit' &&
    done.kind !== 'delete_session' &&
    done.reason !== 'unit_inactive' &&
    previous
  ) {
    restarts++;
  }
  if (backoff && paneAlive && now.getTime() - Date.parse(backoff.lastRestart) >= STABLE_AFTER_MS) backoff = null;
  return { restarts, backoff };
}
