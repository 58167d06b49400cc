// fleet.yaml: fleet-wide settings, every key optional. What a run needs every time lives here: the defaults, and
// the config they make with what the file says (fleetConfigOf). Parsing the file (desired/fleet-parse.ts) brings the
// YAML parser, the schema validators and croner, and is remembered across runs (desired/parse-memo.ts): this module
// must not import it, so a no-op apply never loads it.
import type { FleetConfig } from './types.js';

export const FLEET_FILE = 'fleet.yaml';

/** The memo's kind key for fleet.yaml's parse (desired/parse-memo.ts); the desired-state kinds use their names. */
export const FLEET_KIND = 'fleet';

/**
 * What a valid fleet.yaml says, checked and normalised, before the defaults: the value its parse gives (and the
 * memo keeps). Only keys the file writes are present (JSON keeps it exactly).
 */
export interface FleetSettings {
  fleet?: string;
  branch?: string;
  statusBranch?: string;
  paths?: Partial<FleetConfig['paths']>;
  author?: { name?: string; email?: string };
  hosts?: string[];
  prune?: boolean;
  maxPrune?: FleetConfig['maxPrune'];
  confirmPrune?: string;
  supervisor?: FleetConfig['supervisor'];
  ignore?: string[];
  schedule?: string;
  observeEveryMs?: number;
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

/** The config a fleet.yaml's settings make with the defaults (no settings: no fleet.yaml). */
export function fleetConfigOf(s: FleetSettings, d: FleetDefaults): FleetConfig {
  const base = defaultConfig(d);
  const branch = s.branch ?? base.branch;
  return {
    fleet: s.fleet ?? base.fleet,
    id: base.id,
    branch,
    statusBranch: s.statusBranch ?? d.statusBranch ?? branch,
    paths: { ...base.paths, ...s.paths },
    author: { name: s.author?.name ?? base.author.name, email: s.author?.email ?? base.author.email },
    hosts: s.hosts ?? base.hosts,
    prune: s.prune ?? base.prune,
    maxPrune: s.maxPrune ?? base.maxPrune,
    confirmPrune: s.confirmPrune ?? base.confirmPrune,
    supervisor: s.supervisor ?? base.supervisor,
    ignore: s.ignore ?? base.ignore,
    schedule: s.schedule ?? base.schedule,
    observeEveryMs: s.observeEveryMs ?? base.observeEveryMs,
  };
}
