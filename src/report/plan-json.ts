// `plan --json`: the plan's external shape (docs/formats.md), mapped field by
// field from the internal Plan (src/plan/types.ts). Renaming or adding an
// internal field, kind or reason changes nothing here until this file says
// so: kinds and reasons are spelled out below, so the compiler points here. Pure.
import type { Problem } from '../errors.js';
import {
  ACTION_KINDS,
  type Action,
  type ApplyDetail,
  type DisplayDetail,
  type ActionKind,
  type HeldPrune,
  type Plan,
  type Reason,
  type SupervisorInfo,
} from '../plan/types.js';
import { type FieldChange, isMasked, type ShownValue } from '../plan/spec-diff.js';

/** Additive changes keep it; a rename, removal or change of meaning bumps it (docs/formats.md). */
export const PLAN_FORMAT_VERSION = 1;

/** The external name of each action kind. */
const KIND: Record<ActionKind, string> = {
  delete_session: 'delete_session',
  stop_unit: 'stop_unit',
  install_unit: 'install_unit',
  reload_units: 'reload_units',
  enable_unit: 'enable_unit',
  restart_session: 'restart_session',
  restart_unit: 'restart_unit',
  create_session: 'create_session',
  start_unit: 'start_unit',
  respawn_pane: 'respawn_pane',
};

/** The external name of each reason. */
const REASON: Record<Reason, string> = {
  missing: 'missing',
  holder_missing: 'holder_missing',
  not_in_roster: 'not_in_roster',
  not_on_this_host: 'not_on_this_host',
  disabled: 'disabled',
  spec_changed: 'spec_changed',
  pane_dead: 'pane_dead',
  crash_loop_backoff: 'crash_loop_backoff',
  update_on_idle: 'update_on_idle',
  update_manual: 'update_manual',
  prune_blocked_by_invalid_files: 'prune_blocked_by_invalid_files',
  prune_disabled: 'prune_disabled',
  prune_held: 'prune_held',
  file_missing: 'file_missing',
  file_changed: 'file_changed',
  units_changed: 'units_changed',
  unit_disabled: 'unit_disabled',
  unit_inactive: 'unit_inactive',
  session_missing: 'session_missing',
  unmanaged_sessions: 'unmanaged_sessions',
  supervisor_unobserved: 'supervisor_unobserved',
};

export interface ProblemJson {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** Every key is optional: each kind carries the ones that describe it. */
export interface ActionDetailJson {
  socket?: string;
  session?: string;
  agent?: string;
  role?: 'agent' | 'holder';
  specHash?: string;
  argv?: string[];
  cwd?: string;
  envKeys?: string[];
  exitStatus?: number | null;
  streak?: number;
  notBefore?: string;
  runningSpec?: string | null;
  changes?: FieldChangeJson[] | null;
  idle?: string;
  waiting?: string;
  unit?: string;
  file?: string;
  fileKind?: 'unit' | 'spec';
  sha256?: string;
  killSession?: boolean;
  watchers?: string[];
  removeFiles?: string[];
}

/** A value of a changed field: the value, `{ "masked": true }` for a secret, null where the field is not set. */
export type FieldValueJson = string | number | boolean | { masked: true } | FieldValueJson[] | ObjectJson | null;
interface ObjectJson {
  [key: string]: FieldValueJson;
}

export interface FieldChangeJson {
  field: string;
  old: FieldValueJson;
  new: FieldValueJson;
}

export interface ActionJson {
  kind: string;
  target: string;
  reason: string;
  detail: ActionDetailJson;
}

export interface HeldPruneJson {
  socket: string;
  deletes: number;
  running: number;
  agents: string[];
  message: string;
}

export interface PlanSupervisorJson {
  mode: 'systemd' | 'tmux';
  reason: string;
  observed: boolean;
  error: string | null;
}

export interface PlanJson {
  formatVersion: number;
  fleet: string;
  host: string;
  desiredRevision: string;
  actions: ActionJson[];
  deferred: ActionJson[];
  unobserved: { socket: string; error: string }[];
  supervisor: PlanSupervisorJson;
  /** One count per action kind, plus `deferred`. */
  summary: Record<string, number>;
  errors: ProblemJson[];
  pruneHeld: HeldPruneJson[];
  /** `plan --json` only (not apply's plan): fleet files in the work tree that differ from HEAD, not planned from. */
  uncommitted?: string[];
}

export function renderPlanJson(plan: Plan, uncommitted?: readonly string[]): PlanJson {
  const summary: Record<string, number> = {};
  for (const k of ACTION_KINDS) summary[KIND[k]] = plan.summary[k];
  summary.deferred = plan.summary.deferred;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    fleet: plan.fleet,
    host: plan.host,
    desiredRevision: plan.desiredRevision,
    actions: plan.actions.map(actionJson),
    deferred: plan.deferred.map(actionJson),
    unobserved: plan.unobserved.map((u) => ({ socket: u.socket, error: u.error })),
    supervisor: planSupervisorJson(plan.supervisor),
    summary,
    errors: plan.errors.map(problemJson),
    pruneHeld: plan.pruneHeld.map(heldPruneJson),
    ...(uncommitted ? { uncommitted: [...uncommitted] } : {}),
  };
}

export function actionJson(a: Action): ActionJson {
  return {
    kind: KIND[a.kind],
    target: a.target,
    reason: REASON[a.reason],
    detail: detailJson({ ...a.apply, ...a.detail }),
  };
}

/**
 * Absent keys stay absent: a kind shows only what describes it. Outside, one
 * `detail` holds both what apply reads and what is only shown.
 */
function detailJson(d: ApplyDetail & DisplayDetail): ActionDetailJson {
  const out: ActionDetailJson = {};
  if (d.socket !== undefined) out.socket = d.socket;
  if (d.session !== undefined) out.session = d.session;
  if (d.agent !== undefined) out.agent = d.agent;
  if (d.role !== undefined) out.role = d.role;
  if (d.specHash !== undefined) out.specHash = d.specHash;
  if (d.argv !== undefined) out.argv = [...d.argv];
  if (d.cwd !== undefined) out.cwd = d.cwd;
  if (d.envKeys !== undefined) out.envKeys = [...d.envKeys];
  if (d.exitStatus !== undefined) out.exitStatus = d.exitStatus;
  if (d.streak !== undefined) out.streak = d.streak;
  if (d.notBefore !== undefined) out.notBefore = d.notBefore;
  if (d.runningSpec !== undefined) out.runningSpec = d.runningSpec;
  if (d.changes !== undefined) out.changes = d.changes === null ? null : d.changes.map(changeJson);
  if (d.idle !== undefined) out.idle = d.idle;
  if (d.waiting !== undefined) out.waiting = d.waiting;
  if (d.unit !== undefined) out.unit = d.unit;
  if (d.file !== undefined) out.file = d.file;
  if (d.fileKind !== undefined) out.fileKind = d.fileKind;
  if (d.sha256 !== undefined) out.sha256 = d.sha256;
  if (d.killSession !== undefined) out.killSession = d.killSession;
  if (d.watchers !== undefined) out.watchers = [...d.watchers];
  if (d.removeFiles !== undefined) out.removeFiles = [...d.removeFiles];
  return out;
}

function changeJson(c: FieldChange): FieldChangeJson {
  return { field: c.field, old: valueJson(c.old), new: valueJson(c.new) };
}

function valueJson(v: ShownValue): FieldValueJson {
  if (v === null || typeof v !== 'object') return v;
  if (isMasked(v)) return { masked: true };
  if (Array.isArray(v)) return v.map(valueJson);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, valueJson(x)]));
}

export function planSupervisorJson(s: SupervisorInfo): PlanSupervisorJson {
  return { mode: s.mode, reason: s.reason, observed: s.observed, error: s.error };
}

/** Shared with the status format: one problem in a desired-state file. */
export function problemJson(p: Problem): ProblemJson {
  return { file: p.file, line: p.line, col: p.col, message: p.message };
}

/** Shared with the status format: deletes held until a person confirms the revision. */
export function heldPruneJson(h: HeldPrune): HeldPruneJson {
  return { socket: h.socket, deletes: h.deletes, running: h.running, agents: [...h.agents], message: h.message };
}
