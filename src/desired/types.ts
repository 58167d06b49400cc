// The normalised desired state: every field required, defaults applied.
// The written shapes (all optional, snake_case or camelCase) live in
// schemas/*.schema.json; parse*() turns one into the other.
import type { Problem } from '../errors.js';

// The normalised type of each kind lives in its folder (src/desired/kinds/*/types.ts); re-exported here so the
// rest of the code keeps one import for desired state.
import type { Roster } from './kinds/roster/types.js';

export type { AgentSpec, Roster, UpdatePolicy } from './kinds/roster/types.js';

export interface FleetConfig {
  fleet: string;
  /** The fleet's id (its repository's root commit, shortened), or null when not known (pure tests). */
  id: string | null;
  branch: string;
  statusBranch: string;
  paths: { rosters: string; boards: string; huts: string; vault: string };
  author: { name: string; email: string };
  hosts: string[];
  prune: boolean;
  /** Most agents of one socket one plan may delete without confirmation (a count, or a share of those running). */
  maxPrune: { count: number } | { percent: number };
  /** fleet.yaml reconcile.confirm_prune: a revision whose rosters' deletions are confirmed. */
  confirmPrune: string | null;
  /** Paths (globs) in the kinds' folders that are not desired state (notes, drafts). */
  ignore: string[];
  /** fleet.yaml `supervisor`; `auto` picks systemd when the user manager answers. */
  supervisor: SupervisorSetting;
  /** fleet.yaml reconcile.schedule: when `gitfleet run` reconciles fully (a croner pattern). */
  schedule: string;
  /** fleet.yaml reconcile.observe_every: how often `gitfleet run` looks (tmux, heartbeats, units) in between. */
  observeEveryMs: number;
}

export type SupervisorSetting = 'auto' | 'systemd' | 'tmux';

/** One desired-state file as read from git. */
export interface SourceFile {
  path: string;
  /** git blob id; lets a later run find this exact version again. */
  blob: string;
  text: string;
}

export interface FileState {
  path: string;
  /** The blob that is in force: the current one if valid, else the last good one. */
  blob: string | null;
  valid: boolean;
  /** True when the file is invalid and its last-known-good version is used. */
  usingLastKnownGood: boolean;
  problems: Problem[];
}

export interface DesiredState {
  config: FleetConfig;
  /** The roster kind's values in force (the same list as `kinds.rosters`). */
  rosters: Roster[];
  /** Every registered kind's values in force, by kind name; read one with `valuesOf` (desired/kinds/kind.ts). */
  kinds: Readonly<Record<string, readonly unknown[]>>;
  files: FileState[];
  /** Every problem in every file, sorted by file and position. */
  problems: Problem[];
  /**
   * What could not be checked, one per file, positioned after its problems (rules across files skip a file
   * with errors of its own). Not errors: `validate` shows them beside the problems so nothing is skipped silently.
   */
  notes: Problem[];
}
