// fleet.yaml reconcile.schedule through croner: whether a pattern is usable, and when it runs. croner is loaded
// only with this module: by fleet.yaml's parser (desired/fleet-parse.ts), by the daemon (daemon/triggers.ts), and by
// desired/schedule.ts when the runs it remembers are used up; a no-op apply never loads it.
import { Cron } from 'croner';
import { GAP_RUNS, shortestGap } from './schedule-gap.js';

/** Why croner refuses a pattern, or null when it takes it (and it ever fires). */
export function scheduleProblem(pattern: string): string | null {
  try {
    const next = new Cron(pattern, { paused: true }).nextRuns(2);
    return next.length === 2 ? null : 'it never fires (twice)';
  } catch (e) {
    return `not a cron pattern (${(e as Error).message.replace(/^CronPattern: /, '')})`;
  }
}

/** The next `count` runs of a pattern after `from` (fewer when it has no more), in ms since the epoch. */
export function nextRuns(pattern: string, from: Date, count: number): number[] {
  return new Cron(pattern, { paused: true }).nextRuns(count, from).map((d) => d.getTime());
}

/**
 * The shortest gap between two runs of a pattern (over its next few runs): `/healthz` and liveness
 * (status/liveness.ts) count in these.
 */
export function scheduleIntervalMs(pattern: string, from = new Date()): number {
  return shortestGap(nextRuns(pattern, from, GAP_RUNS));
}
