// fleet.yaml's parse: YAML, its schema and its rules, to the settings it writes (desired/fleet-config.ts makes the
// config with the defaults). Imported only when the parse memo (desired/parse-memo.ts) does not hold the file's
// parse: with it come the YAML parser, the schema validators and croner.
import type { Problem } from '../errors.js';
import { branchNameProblem } from '../git/refname.js';
import type { Parsed } from './kinds/kind.js';
import { scheduleProblem } from './cron.js';
import { FLEET_FILE, type FleetDefaults, type FleetSettings, fleetConfigOf } from './fleet-config.js';
import { validateAgainst } from './schema.js';
import type { FleetConfig } from './types.js';
import { parseYaml, problemAt, type Path } from './yaml.js';

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

/** fleet.yaml's text (null: there is none) to the config it makes, or every problem it has. */
export function parseFleetConfig(
  text: string | null,
  d: FleetDefaults,
): { config: FleetConfig | null; problems: Problem[] } {
  const { value, problems } = text === null ? { value: {}, problems: [] } : parseFleetSettings(text);
  return { config: value && fleetConfigOf(value, d), problems };
}

/** Pure: fleet.yaml's text to the settings it writes, with every problem positioned. */
export function parseFleetSettings(text: string): Parsed<FleetSettings> {
  const parsed = parseYaml(FLEET_FILE, text, () => false);
  if (!parsed.yaml) return { value: null, problems: parsed.problems };
  const problems = [...parsed.problems, ...validateAgainst('schemas/fleet.schema.json', parsed.yaml)];
  if (problems.length > 0) return { value: null, problems };
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
  if (problems.length > 0) return { value: null, problems };
  const author = raw.git?.author;
  const settings: FleetSettings = {
    fleet: raw.fleet,
    branch: raw.branch,
    statusBranch: raw.status?.branch,
    paths: raw.paths && stripSlashes(raw.paths),
    author: author && written({ name: author.name, email: author.email }),
    hosts: raw.hosts,
    prune: raw.reconcile?.prune,
    maxPrune: maxPrune ?? undefined,
    confirmPrune: raw.reconcile?.confirm_prune,
    supervisor: raw.supervisor,
    ignore: raw.ignore,
    schedule,
    observeEveryMs: observeEveryMs ?? undefined,
  };
  return { value: written(settings), problems };
}

/** The keys of `o` that the file wrote: a remembered parse (JSON) then equals the parse itself. */
function written<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
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

/** observe_every: a number of seconds, or "15s", "500ms", "2min"; at least one second. */
function parseObserveEvery(v: number | string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  const m = typeof v === 'number' ? [String(v), String(v), 's'] : /^(\d+(?:\.\d+)?)(ms|s|min|m|h)?$/.exec(v.trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1000, min: 60_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms'];
  const ms = Number(m[1]) * unit;
  return Number.isFinite(ms) && ms >= 1000 ? ms : null;
}
