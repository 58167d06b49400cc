// Whether a reconciler still runs, judged from its liveness ref (README, "Stale hosts"). Pure.
//
// Each reconciler moves `refs/gitfleet/alive/<status name>` to an orphan commit
// (no parent, empty tree) whose committer time is when it last reconciled and
// whose message says who it is and how often it runs. A ref, not a commit on a
// branch: the fleet's history gains nothing while every host is alive. One is
// stale when it has not been seen for three of its own schedule intervals;
// `staleSince` is fixed by its last sighting, so a status that lists it changes
// only when it goes stale and when it comes back.

/** Where liveness refs live; one per host and tenant, named like its status files (status/read.ts statusName). */
export const ALIVE_PREFIX = 'refs/gitfleet/alive/';
export const aliveRef = (statusName: string) => `${ALIVE_PREFIX}${statusName}`;

/** Missed runs before a reconciler counts as stopped (the issue: "within three schedule intervals"). */
export const STALE_INTERVALS = 3;

/** What the liveness commit's message holds (JSON). */
export interface AliveMessage {
  host: string;
  tenant: string;
  intervalSeconds: number;
  /** The desired revision it last reconciled. */
  revision: string;
}

/** One reconciler's last sighting: its liveness commit read back. */
export interface AliveRecord extends AliveMessage {
  /** Its status name (`<host>` or `<host>@<tenant>`), the ref's last component. */
  name: string;
  /** The commit's committer time. */
  lastSeen: Date;
}

/** A reconciler judged. (One with no liveness ref at all is unknown: older gitfleet, or not seen yet.) */
export interface Liveness {
  state: 'alive' | 'stale';
  lastSeen: Date;
  staleSince: Date;
}

/** A reconciler listed in another's status as stale. */
export interface StaleReconciler {
  host: string;
  tenant: string;
  lastSeen: string;
  staleSince: string;
}

export function aliveMessageText(m: AliveMessage): string {
  const { host, tenant, intervalSeconds, revision } = m;
  return `${JSON.stringify({ host, tenant, intervalSeconds, revision })}\n`;
}

/** The record a liveness commit holds, or null when its message is not one (a ref someone else wrote there). */
export function parseAlive(name: string, message: string, committedAt: Date): AliveRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(message);
  } catch {
    return null;
  }
  const o = v as Partial<Record<keyof AliveMessage, unknown>> | null;
  if (!o || typeof o !== 'object') return null;
  const { host, tenant, intervalSeconds, revision } = o;
  if (typeof host !== 'string' || typeof tenant !== 'string' || typeof revision !== 'string') return null;
  if (typeof intervalSeconds !== 'number' || !(intervalSeconds > 0)) return null;
  return { name, host, tenant, intervalSeconds, revision, lastSeen: committedAt };
}

/** Stale once `now` is more than three of its intervals after it was last seen. */
export function judge(r: AliveRecord, now: Date): Liveness {
  const staleSince = new Date(r.lastSeen.getTime() + STALE_INTERVALS * r.intervalSeconds * 1000);
  return { state: now > staleSince ? 'stale' : 'alive', lastSeen: r.lastSeen, staleSince };
}

/** The other reconcilers that are stale at `now`, sorted by name, in the status's words. */
export function staleOthers(records: readonly AliveRecord[], self: string, now: Date): StaleReconciler[] {
  return records
    .filter((r) => r.name !== self)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((r) => {
      const j = judge(r, now);
      return j.state === 'stale'
        ? [{ host: r.host, tenant: r.tenant, lastSeen: iso(j.lastSeen), staleSince: iso(j.staleSince) }]
        : [];
    });
}

/**
 * Whether this reconciler's ref should move now. Only when the last one is older than half an interval (or there
 * is none, or it says something else): back-to-back runs write nothing, a run every interval keeps it fresh.
 */
export function refreshDue(last: AliveRecord | null, next: AliveMessage, now: Date): boolean {
  if (!last) return true;
  const same = last.host === next.host && last.tenant === next.tenant && last.intervalSeconds === next.intervalSeconds;
  return !same || now.getTime() - last.lastSeen.getTime() > (next.intervalSeconds * 1000) / 2;
}

/**
 * Set by `gitfleet install` in the timer's service and the cron line: seconds between runs there. Between
 * `gitfleet run`'s full reconciles the schedule is the interval; a timer may run less often than the schedule says.
 */
export const RUN_EVERY_ENV = 'GITFLEET_RUN_EVERY';

/**
 * The interval a liveness record announces: the schedule's, or the timer's when that is longer (a host judged by a
 * shorter one would read as stale between its runs). A value that is not a whole number of seconds is ignored.
 */
export function aliveIntervalSeconds(scheduleMs: number, runEvery: string | undefined): number {
  const schedule = Math.max(1, Math.round(scheduleMs / 1000));
  const every = runEvery !== undefined && /^[1-9][0-9]{0,6}$/.test(runEvery) ? Number(runEvery) : 0;
  return Math.max(schedule, every);
}

/** Committer times have whole seconds. */
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
