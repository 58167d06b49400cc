// A plan is plain, sorted, serialisable data (DESIGN §5). Views in report/
// render it; apply/ executes it. Nothing here does I/O.
import type { Problem } from '../errors.js';

/** The closed set of things apply can do, in the order it does them. */
export const ACTION_KINDS = ['delete_session', 'restart_session', 'create_session', 'respawn_pane'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

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
] as const;
export type Reason = (typeof REASONS)[number];

export interface ActionDetail {
  socket: string;
  session: string;
  /** The roster agent, absent for the holder and for orphans. */
  agent?: string;
  role?: 'agent' | 'holder';
  specHash?: string;
  /** What the pane will exec (create / restart). */
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
}

export interface Action {
  kind: ActionKind;
  /** `<socket>/<session>`: stable, sortable, unique per action. */
  target: string;
  reason: Reason;
  detail: ActionDetail;
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
  summary: Record<ActionKind, number> & { deferred: number };
  errors: Problem[];
}
