// How often fleet.yaml reconcile.schedule runs, as the liveness ref states it (status/liveness.ts), without
// croner when it can: a cron pattern's upcoming runs are remembered in the state dir (desired/parse-memo.ts), so a
// no-op apply answers from them and loads neither croner nor anything else that parses (desired/cron.ts).
import type { ParseMemo } from './parse-memo.js';
import { GAP_RUNS, shortestGap } from './schedule-gap.js';

/**
 * A pattern's runs after `from`, all of them up to the last one listed: so the runs after any later time that
 * the list still reaches are exactly croner's runs after that time. `complete`: the pattern has no runs beyond.
 */
export interface UpcomingRuns {
  from: number;
  runs: number[];
  complete: boolean;
}

/**
 * Runs remembered per pattern: an every-5-minutes schedule's last about a day, so once a day a run loads croner.
 * Fewer would load it more often; more would make the memo bigger to read on every run.
 */
export const REMEMBERED_RUNS = 300;

/** The runs of `known` the gap is taken over at `now`; null when the list no longer reaches that far. */
function runsAt(known: UpcomingRuns, now: number, count: number): number[] | null {
  if (now < known.from) return null;
  const ahead = known.runs.filter((r) => r > now).slice(0, count);
  return ahead.length === count || known.complete ? ahead : null;
}

/**
 * desired/cron.ts scheduleIntervalMs(pattern, now), from the runs the memo remembers while they reach far enough;
 * else croner works them out again (and the memo keeps them for the next runs).
 */
export async function scheduleInterval(pattern: string, memo: ParseMemo | null, now = new Date()): Promise<number> {
  const cron = () => import('./cron.js');
  if (!memo) return (await cron()).scheduleIntervalMs(pattern, now);
  const known = await memo.recall<UpcomingRuns>(
    'schedule',
    pattern,
    (k) => runsAt(k, now.getTime(), GAP_RUNS) !== null,
    async () => {
      const runs = (await cron()).nextRuns(pattern, now, REMEMBERED_RUNS);
      return { from: now.getTime(), runs, complete: runs.length < REMEMBERED_RUNS };
    },
  );
  return shortestGap(runsAt(known, now.getTime(), GAP_RUNS) ?? []);
}
