// A plan is plain, sorted, serialisable data (DESIGN §5). Views in report/
// render it; apply/ executes it. Nothing here does I/O.
import type { AgentSpec } from '../desired/types.js';
import type { Problem } from '../errors.js';
import type { FieldChange } from './spec-diff.js';

// The kinds and what each means to apply, status and the supervisor: plan/action-kinds.ts.
export { ACTION_KINDS, type ActionKind } from './action-kinds.js';
import type { ActionKind } from './action-kinds.js';

/** Why an action is (or is not yet) taken: snake_case constants. */
export const REASONS = [
  'missing', // desired, not running
  'holder_missing', // the socket's holder session is gone
  'not_in_roster', // tagged with this fleet, no longer declared
  'not_on_this_host', // declared for another host
  'disabled', // enabled: false
  'spec_changed', // running an older spec
  'pane_dead', // the runtime exited; pane kept by remain-on-exit
  'crash_loop_backoff', // pane dead again; waiting before the next respawn
  'update_on_idle', // spec changed, update: on-idle, waits for idle
  'update_manual', // spec changed, update: manual
  'prune_blocked_by_invalid_files', // never prune while a desired file is invalid
  'prune_disabled', // reconcile.prune: false
  'prune_held', // would delete every agent of a socket, or more than reconcile.max_prune: waits for confirmation
  'file_missing', // a unit or spec file gitfleet keeps is not there
  'file_changed', // ... or differs from what gitfleet would write
  'units_changed', // unit files were written or removed: the manager reloads once
  'unit_disabled', // not enabled, so it would not come back after a reboot
  'unit_inactive', // the session runs but its unit is not active
  'session_missing', // the unit is active but its session is gone
  'unmanaged_sessions', // stopping the server unit would kill sessions this fleet does not own
  'supervisor_unobserved', // the systemd user manager could not be observed
] as const;
export type Reason = (typeof REASONS)[number];

/**
 * Why a session or unit of an agent not wanted here goes: disabled, declared for another host, or gone from the
 * rosters.
 */
export function pruneReason(
  agent: AgentSpec | undefined,
  declaredAnywhere: boolean,
): 'disabled' | 'not_on_this_host' | 'not_in_roster' {
  return agent && !agent.enabled ? 'disabled' : declaredAnywhere ? 'not_on_this_host' : 'not_in_roster';
}

/** What apply reads to carry an action out (apply/tmux.ts, apply/systemd.ts): nothing else of a plan is executed. */
export interface ApplyDetail {
  /** Absent for unit-file actions that belong to no one session (templates, reload). */
  socket?: string;
  session?: string;
  /** Absent for deferred restarts and respawns, which apply never runs as planned. */
  role?: 'agent' | 'holder';
  /** systemd mode: the unit acted on. */
  unit?: string;
  /** install_unit: the file written, and the sha256 of its content (apply checks it). */
  file?: string;
  sha256?: string;
  /** stop_unit: the session under this name is the fleet's own, so it may be killed. */
  killSession?: boolean;
  /** Watch views of this session (gitfleet agent watch), ended with it. */
  watchers?: string[];
  /** stop_unit: the files removed once the unit is stopped and disabled. */
  removeFiles?: string[];
}

/** What people see of an action (plan output, evidence): apply never reads it. */
export interface DisplayDetail {
  /** The roster agent, absent for the holder, orphans and unit files. */
  agent?: string;
  specHash?: string;
  /** What the pane will exec (create / restart), secret values masked (src/redact.ts): shown, never executed. */
  argv?: string[];
  cwd?: string;
  /** Declared environment variable names (values are not shown). */
  envKeys?: string[];
  /** Last exit status of a dead pane. */
  exitStatus?: number | null;
  /** Consecutive respawns so far; decides the backoff. */
  streak?: number;
  /** Earliest time of the next respawn (crash_loop_backoff). */
  notBefore?: string;
  /** The spec running now (spec_changed). */
  runningSpec?: string | null;
  /**
   * A spec change: the fields that differ, running → desired, secret values masked (plan/spec-diff.ts); null when
   * the running session's fields are not known (started before gitfleet kept them: src/spec-fields.ts).
   */
  changes?: FieldChange[] | null;
  /** update: on-idle: why the agent counts as idle (restart now) ... */
  idle?: string;
  /** ... or what the restart waits for. */
  waiting?: string;
  /** install_unit: what the file is (apply takes it from the file it writes). */
  fileKind?: 'unit' | 'spec';
}

export interface Action {
  kind: ActionKind;
  /** Stable, sortable, unique per action; one form per kind (plan/action-kinds.ts `target`). */
  target: string;
  reason: Reason;
  apply: ApplyDetail;
  detail: DisplayDetail;
}

export interface Plan {
  formatVersion: 1;
  fleet: string;
  host: string;
  desiredRevision: string;
  /** What apply will do, in order. */
  actions: Action[];
  /** What apply will not do yet, and why (shown, never executed). */
  deferred: Action[];
  /** Sockets whose observation failed: nothing is planned on them. */
  unobserved: { socket: string; error: string }[];
  /** What keeps the agents running here, and whether it could be observed. */
  supervisor: SupervisorInfo;
  summary: Record<ActionKind, number> & { deferred: number };
  errors: Problem[];
  /** Deletes held back until a person confirms this revision (src/plan/prune-guard.ts). */
  pruneHeld: HeldPrune[];
}

export interface HeldPrune {
  socket: string;
  /** How many agents the plan would delete there, of how many running. */
  deletes: number;
  running: number;
  agents: string[];
  /** What is held and how to confirm it. */
  message: string;
}

export interface SupervisorInfo {
  mode: 'systemd' | 'tmux';
  /** Why this mode: fleet.yaml's choice, or what auto found. */
  reason: string;
  observed: boolean;
  error: string | null;
}
