// The normalised desired state: every field required, defaults applied.
// The written shapes (all optional, snake_case or camelCase) live in
// schemas/*.schema.json; parse*() turns one into the other.
import type { Problem } from '../errors.js';

export type UpdatePolicy = 'on-idle' | 'recreate' | 'manual';

export interface AgentSpec {
  name: string;
  /** tmux session name: the agent name with '.' replaced (tmux forbids it). */
  session: string;
  socket: string;
  /** The file that declares this agent, and the position of its entry. */
  source: { file: string; line: number; col: number };
  runtime: string;
  /** What the pane execs. */
  argv: string[];
  /** Working directory, '~' already expanded. */
  cwd: string;
  /** Declared environment (roster), not including what gitfleet adds. */
  env: Record<string, string>;
  host: string | null;
  tenant: string | null;
  enabled: boolean;
  update: UpdatePolicy;
  class: string | null;
  resetCommand: string | null;
  resetBetweenTasks: boolean;
  /** Seconds between heartbeats the runtime writes; null when it writes none. */
  heartbeatInterval: number | null;
  /** What the pane's current command may be while the runtime runs (else: drift). */
  processNames: string[];
  /** Seconds without pane output after which the agent counts as idle. */
  idleAfter: number;
  /** Flags and env names whose values are never shown (runtime `redact:`; see src/redact.ts). */
  redact: string[];
  /** Hash of everything that changes what runs in the pane. */
  specHash: string;
}

export interface Roster {
  file: string;
  socket: string;
  holder: string;
  /** Where tmux.holder_session is written; null when the default holder applies. */
  holderAt: { line: number; col: number } | null;
  transport: 'tmux';
  agents: AgentSpec[];
}

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
  rosters: Roster[];
  files: FileState[];
  /** Every problem in every file, sorted by file and position. */
  problems: Problem[];
}
