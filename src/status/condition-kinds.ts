// Condition types and reasons, declared once (Kubernetes style: CamelCase
// constants). Every rule in status/conditions.ts and every reader of a status
// names them through these types, so a misspelt type or reason fails to
// compile instead of writing a condition nobody looks for.

export const READY = 'Ready';
export const STALLED = 'Stalled';
export const PENDING_RESTART = 'PendingRestart';
export const DEGRADED = 'Degraded';
export const DRIFTED = 'Drifted';
export const PROGRESSING = 'Progressing';

export const CONDITION_TYPES = [READY, PROGRESSING, STALLED, PENDING_RESTART, DEGRADED, DRIFTED] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** Condition reasons: CamelCase constants, one list. */
export const CONDITION_REASONS = {
  Running: 'the pane runs the agent',
  SessionMissing: 'no tmux session for this agent',
  PaneDead: 'the runtime exited',
  CrashLoopBackOff: 'the runtime keeps exiting; respawns are spaced out',
  NameConflict: 'a session with this name exists but was not started by this fleet',
  Disabled: 'enabled: false',
  ObservationFailed: 'tmux could not be observed',
  ApplyFailed: 'the last action on this agent failed',
  InvalidSpec: 'the file declaring this agent is invalid; its last valid version is in force',
  UpdateOnIdle: 'spec changed; update: on-idle restarts it when idle',
  UpdateManual: 'spec changed; update: manual waits for an operator',
  UnitNotEnabled: 'the unit runs but is not enabled: a reboot would lose the agent',
  UnitInactive: 'the session runs but its unit is not active',
  SupervisorUnobserved: 'the systemd user manager could not be observed',
  HeartbeatStale: 'the pane is alive but the runtime stopped writing heartbeats',
  HeartbeatMissing: 'the runtime declares heartbeats but wrote none',
  HeartbeatInvalid: 'the heartbeat file is not protocol v1',
  AwaitingFirstHeartbeat: 'the session started within its heartbeat_grace and has not beaten yet: starting, not failed',
  RuntimeMismatch: 'the pane runs something other than the roster runtime (drift)',
} as const;
export type ConditionReason = keyof typeof CONDITION_REASONS;

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: ConditionReason;
  message: string;
  lastTransitionTime: string;
}

/** A condition as a rule states it, before the previous status gives it a time. */
export interface ConditionDraft {
  type: ConditionType;
  status: ConditionStatus;
  reason: ConditionReason;
  message: string;
}

/** lastTransitionTime moves only when the status changes (a new reason alone keeps it). */
export function withTransitionTime(
  draft: ConditionDraft,
  previous: readonly Condition[] | undefined,
  now: string,
): Condition {
  const prev = previous?.find((c) => c.type === draft.type);
  const lastTransitionTime = prev && prev.status === draft.status ? prev.lastTransitionTime : now;
  return { type: draft.type, status: draft.status, reason: draft.reason, message: draft.message, lastTransitionTime };
}

/** Whether `conditions` hold a condition of `type` with status True. */
export const isTrue = (conditions: readonly Condition[], type: ConditionType): boolean =>
  conditions.some((c) => c.type === type && c.status === 'True');
