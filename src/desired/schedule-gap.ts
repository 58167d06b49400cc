// The interval of a cron schedule as liveness states it: the shortest gap over its next few runs. Shared by
// desired/cron.ts (croner's runs) and desired/schedule.ts (remembered runs), which must agree exactly.

/** How many of a pattern's next runs its shortest gap is taken over. */
export const GAP_RUNS = 6;

/** The shortest gap between consecutive runs (ms); 0 with fewer than two. */
export function shortestGap(runs: readonly number[]): number {
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i++) gap = Math.min(gap, runs[i]! - runs[i - 1]!);
  return Number.isFinite(gap) ? gap : 0;
}
