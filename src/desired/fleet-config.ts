// fleet.yaml: fleet-wide settings, every key optional.
import type { Problem } from '../errors.js';
import { branchNameProblem } from '../git/refname.js';
import { validateAgainst } from './schema.js';
import type { FleetConfig } from './types.js';
import { parseYaml, problemAt, type Path } from './yaml.js';
import { Cron } from 'croner';

export const FLEET_FILE = 'fleet.yaml';

interface RawFleet {
  fleet?: string;
  branch?: string;
  paths?: Partial<FleetConfig['paths']>;
  status?: { branch?: string };
  git?: { author?: { name?: string; email?: string } };
  hosts?: string[];
  reconcile?: {
    prune?: boolean;
    max_prune?: number | string;
    confirm_prune?: string;
    schedule?: string;
    observe_every?: number | string;
  };
  supervisor?: FleetConfig['supervisor'];
  ignore?: string[];
}

/** Without reconcile.max_prune: a plan that deletes more than half of a socket's agents waits for confirmation. */
export const DEFAULT_MAX_PRUNE: FleetConfig['maxPrune'] = { percent: 50 };

/** `gitfleet run`: a full reconcile every 5 minutes (croner syntax; a 6th leading field counts seconds). */
export const DEFAULT_SCHEDULE = '*/5 * * * *';
/** `gitfleet run`: a cheap look (tmux, heartbeats, units; no fetch) between full reconciles. */
export const DEFAULT_OBSERVE_EVERY_MS = 15_000;

export interface FleetDefaults {
  /** Default fleet name: derived from the repository's root commit, never from where it sits. */
  fleet: string;
  /** Branch given on the command line, if any (wins over the default, not over fleet.yaml's status.branch). */
  branch: string;
  host: string;
  /** The fleet id (src/fleet-identity.ts); sessions are tagged with it. */
  id?: string | null;
  /** Where status goes without status.branch: the fleet branch, or for a remote repository its own branch. */
  statusBranch?: string;
}

/** Where each desired-state kind lives unless fleet.yaml `paths` says otherwise. */
export const DEFAULT_PATHS: FleetConfig['paths'] = {
  rosters: 'rosters',
  boards: 'boards',
  huts: 'huts',
  vault: 'vault',
};

export function defaultConfig(d: FleetDefaults): FleetConfig {
  return {
    fleet: d.fleet,
    id: d.id ?? null,
    branch: d.branch,
    statusBranch: d.statusBranch ?? d.branch,
    paths: { ...DEFAULT_PATHS },
    author: { name: 'gitfleet', email: `gitfleet@${d.host}` },
    hosts: [],
    prune: true,
    maxPrune: DEFAULT_MAX_PRUNE,
    confirmPrune: null,
    supervisor: 'auto',
    ignore: [],
    schedule: DEFAULT_SCHEDULE,
    observeEveryMs: DEFAULT_OBSERVE_EVERY_MS,
  };
}

export function parseFleetConfig(
  text: string | null,
  d: FleetDefaults,
): { config: FleetConfig | null; problems: Problem[] } {
  const base = defaultConfig(d);
  if (text === null) return { config: base, problems: [] };
  const parsed = parseYaml(FLEET_FILE, text, () => false);
  if (!parsed.yaml) return { config: null, problems: parsed.problems };
  const problems = [...parsed.problems, ...validateAgainst('schemas/fleet.schema.json', parsed.yaml)];
  if (problems.length > 0) return { config: null, problems };
  const raw = (parsed.yaml.value ?? {}) as RawFleet;
  const yaml = parsed.yaml;
  const at = (path: Path, message: string) => problems.push(problemAt(yaml, path, message));
  // Branch names become ref paths: git's rules, before anything uses them.
  for (const path of [['branch'], ['status', 'branch']] as const) {
    const value = path.length === 1 ? raw.branch : raw.status?.branch;
    const why = value === undefined ? null : branchNameProblem(value);
    if (why) at(path, `${path.join('.')}: ${why}`);
  }
  const maxPrune = parseMaxPrune(raw.reconcile?.max_prune);
  if (maxPrune === null)
    at(
      ['reconcile', 'max_prune'],
      'reconcile.max_prune: allowed: a number of agents (e.g. 3) or a share of a socket\'s agents (e.g. "50%")',
    );
  const schedule = raw.reconcile?.schedule;
  const badSchedule = schedule === undefined ? null : scheduleProblem(schedule);
  if (badSchedule)
    at(
      ['reconcile', 'schedule'],
      `reconcile.schedule: ${badSchedule}; allowed: a cron pattern, e.g. "*/5 * * * *" (every 5 minutes) ` +
        'or "*/30 * * * * *" (a sixth, leading field counts seconds)',
    );
  const observeEveryMs = parseObserveEvery(raw.reconcile?.observe_every);
  if (observeEveryMs === null)
    at(
      ['reconcile', 'observe_every'],
      'reconcile.observe_every: allowed: seconds (15), or a duration of at least 1s ("15s", "500ms", "2min")',
    );
  if (problems.length > 0) return { config: null, problems };
  const branch = raw.branch ?? base.branch;
  return {
    config: {
      fleet: raw.fleet ?? base.fleet,
      id: base.id,
      branch,
      statusBranch: raw.status?.branch ?? d.statusBranch ?? branch,
      paths: { ...base.paths, ...stripSlashes(raw.paths ?? {}) },
      author: { name: raw.git?.author?.name ?? base.author.name, email: raw.git?.author?.email ?? base.author.email },
      hosts: raw.hosts ?? [],
      prune: raw.reconcile?.prune ?? true,
      maxPrune: maxPrune ?? DEFAULT_MAX_PRUNE,
      confirmPrune: raw.reconcile?.confirm_prune ?? null,
      supervisor: raw.supervisor ?? 'auto',
      ignore: raw.ignore ?? [],
      schedule: schedule ?? base.schedule,
      observeEveryMs: observeEveryMs ?? base.observeEveryMs,
    },
    problems,
  };
}

function stripSlashes(paths: Partial<FleetConfig['paths']>): Partial<FleetConfig['paths']> {
  const out: Partial<FleetConfig['paths']> = {};
  for (const [k, v] of Object.entries(paths)) if (v) out[k as keyof FleetConfig['paths']] = v.replace(/\/+$/, '');
  return out;
}

function parseMaxPrune(v: number | string | undefined): FleetConfig['maxPrune'] | null | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? { count: v } : null;
  const m = /^(\d{1,3})%$/.exec(v);
  return m && Number(m[1]) <= 100 ? { percent: Number(m[1]) } : null;
}

/** Why croner refuses a pattern, or null when it takes it (and it ever fires). */
export function scheduleProblem(pattern: string): string | null {
  try {
    const next = new Cron(pattern, { paused: true }).nextRuns(2);
    return next.length === 2 ? null : 'it never fires (twice)';
  } catch (e) {
    return `not a cron pattern (${(e as Error).message.replace(/^CronPattern: /, '')})`;
  }
}

/**
 * The shortest gap between two runs of a pattern (over its next few runs): `/healthz` and liveness
 * (status/liveness.ts) count in these.
 */
export function scheduleIntervalMs(pattern: string, from = new Date()): number {
  const runs = new Cron(pattern, { paused: true }).nextRuns(6, from);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i++) gap = Math.min(gap, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return Number.isFinite(gap) ? gap : 0;
}

/** observe_every: a number of seconds, or "15s", "500ms", "2min"; at least one second. */
function parseObserveEvery(v: number | string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  const m = typeof v === 'number' ? [String(v), String(v), 's'] : /^(\d+(?:\.\d+)?)(ms|s|min|m|h)?$/.exec(v.trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1000, min: 60_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms'];
  const ms = Number(m[1]) * unit;
  return Number.isFinite(ms) && ms >= 1000 ? ms : null;
}
