// The condition rules of one agent, one function per condition type. Each
// reads the agent's facts (what the roster declares, what was seen, what this
// run did) and states a condition, or none; the previous status gives it its
// time afterwards (condition-kinds.ts). Pure.
import type { ActionResult } from '../apply/types.js';
import type { AgentSpec, FileState } from '../desired/types.js';
import { formatProblem } from '../errors.js';
import { STALE_AFTER_INTERVALS, type HeartbeatJudgement } from '../heartbeat/protocol.js';
import type { PaneInfo, SocketObservation } from '../observe/tmux.js';
import type { Backoff } from '../plan/crash-loop.js';
import type { Action } from '../plan/types.js';
import { UP, type SupervisorInput } from '../plan/units.js';
import {
  DEGRADED,
  DRIFTED,
  PENDING_RESTART,
  PROGRESSING,
  READY,
  STALLED,
  type ConditionDraft,
  type ConditionReason,
  type ConditionStatus,
  type ConditionType,
} from './condition-kinds.js';
import type { UnitRecord } from './types.js';

/** What the rules know about one agent in this run. */
export interface AgentFacts {
  agent: AgentSpec;
  fleet: string;
  /** The observation of the agent's socket (undefined: not observed at all). */
  socket: SocketObservation | undefined;
  /** The agent's session as tmux shows it, whoever started it. */
  pane: PaneInfo | undefined;
  /** The session was started by this fleet. */
  ours: boolean;
  /** A running pane this fleet owns. */
  live: PaneInfo | undefined;
  /** The judged heartbeat, when the runtime declares one and the agent is enabled. */
  heartbeat: HeartbeatJudgement | undefined;
  /** This run's failed action on the agent. */
  failed: ActionResult | undefined;
  /** This run's lifecycle action on the agent, when none failed. */
  done: Action | undefined;
  /** The action held back for the agent, and why. */
  deferred: Action | undefined;
  /** The restart count and crash streak after this run (plan/crash-loop.ts). */
  restarts: number;
  backoff: Backoff | null;
  supervisor: SupervisorInput;
  /** The agent's unit (systemd mode, enabled agents). */
  unit: UnitRecord | null;
  /** The invalid file that declares the agent, while its last valid version is in force. */
  invalidSource: FileState | undefined;
  /** This run's clock: a heartbeat's start-up grace is measured against it. */
  now: Date;
}

const draft = (
  type: ConditionType,
  status: ConditionStatus,
  reason: ConditionReason,
  message: string,
): ConditionDraft => ({ type, status, reason, message });

/** The agent's conditions, in the order the status lists them. */
export function agentConditions(f: AgentFacts): ConditionDraft[] {
  const stated = [
    readyCondition(f),
    progressingCondition(f),
    driftedCondition(f),
    degradedCondition(f),
    stalledCondition(f),
    pendingRestartCondition(f),
  ];
  return stated.filter((c): c is ConditionDraft => c !== null);
}

/** Ready: the first thing that keeps the agent from running, else Running. */
export function readyCondition(f: AgentFacts): ConditionDraft {
  const { agent: a, socket: obs, pane, failed, heartbeat: hb } = f;
  const no = (reason: ConditionReason, message: string) => draft(READY, 'False', reason, message);
  if (!obs?.ok) {
    return draft(READY, 'Unknown', 'ObservationFailed', obs ? obs.error : `socket ${a.socket} was not observed`);
  }
  if (!a.enabled) return no('Disabled', 'enabled: false in the roster; the session is stopped');
  if (failed) return no('ApplyFailed', `${failed.action.kind} failed: ${failed.error}`);
  if (!pane) return no('SessionMissing', `no session "${a.session}" on socket ${a.socket}`);
  if (!f.ours) return no('NameConflict', nameConflictMessage(a, f.fleet, pane));
  if (pane.dead && f.deferred?.reason === 'crash_loop_backoff') {
    const streak = f.backoff?.streak ?? 0;
    const next = f.deferred.detail.notBefore;
    return no('CrashLoopBackOff', `${exited(pane.deadStatus)}; ${streak} respawns in a row; next not before ${next}`);
  }
  if (pane.dead) return no('PaneDead', exited(pane.deadStatus));
  const grace = startupGrace(f);
  if (grace) return draft(READY, 'Unknown', 'AwaitingFirstHeartbeat', graceMessage(grace));
  if (hb && hb.health !== 'healthy') return no(HEARTBEAT_REASON[hb.health], heartbeatMessage(a, hb));
  const judged = hb ? 'heartbeat healthy' : 'no heartbeat declared: judged by pane and process alone';
  return draft(READY, 'True', 'Running', `pid ${pane.pid ?? '?'} runs ${pane.currentCommand}; ${judged}`);
}

/** Progressing: the agent is starting (within its heartbeat start-up grace), not failed; stated only while so. */
export function progressingCondition(f: AgentFacts): ConditionDraft | null {
  const ready = readyCondition(f);
  if (ready.reason !== 'AwaitingFirstHeartbeat') return null;
  return draft(PROGRESSING, 'True', 'AwaitingFirstHeartbeat', ready.message);
}

/** When the session started and until when a missing first heartbeat is only "starting" (ms since the epoch). */
export interface StartupGrace {
  started: number;
  until: number;
  graceSeconds: number;
}

/**
 * The start-up grace the agent is in, or null: its session (ours, alive) was
 * created less than heartbeat_grace ago and no heartbeat of this session has
 * come: no file yet, or only the beat a previous session left (written before
 * this one started, so stale). Measured from tmux's session_created, so a
 * restart on a spec change gets a grace of its own; a pane respawned in place
 * (crash recovery) keeps its session and gets none. Any other judgement
 * (healthy, invalid, a stale beat of this session) is not "starting".
 */
export function startupGrace(f: AgentFacts): StartupGrace | null {
  const { live, heartbeat: hb, agent: a } = f;
  if (!hb || !live || live.created === null || a.heartbeatGrace === null) return null;
  const started = live.created * 1000;
  const until = started + a.heartbeatGrace * 1000;
  const now = f.now.getTime();
  if (now >= until) return null;
  const beforeStart = hb.health === 'stale' && hb.ageSeconds !== null && now - hb.ageSeconds * 1000 < started;
  if (hb.health !== 'unknown' && !beforeStart) return null;
  return { started, until, graceSeconds: a.heartbeatGrace };
}

/** Absolute times only: the message changes when the session does, not every run. */
function graceMessage(g: StartupGrace): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  return (
    `no heartbeat yet from the session started at ${iso(g.started)}: starting, not failed, ` +
    `until ${iso(g.until)} (heartbeat_grace ${g.graceSeconds} s); after that, no heartbeat is a failure`
  );
}

/**
 * Drifted: the pane runs something other than the runtime. A pane started
 * moments ago may still show the shell that execs the runtime: judged from
 * the next run on.
 */
export function driftedCondition(f: AgentFacts): ConditionDraft | null {
  const { agent: a, live } = f;
  if (!live || f.done || a.processNames.includes(live.currentCommand)) return null;
  const names = a.processNames.join(' or ');
  return draft(
    DRIFTED,
    'True',
    'RuntimeMismatch',
    `the pane runs ${live.currentCommand}, not runtime ${a.runtime} (${names}); ` +
      `set runtimes.${a.runtime}.process_names if it runs under another name`,
  );
}

/** Degraded (systemd mode): the session runs, but its unit would not bring it back after a reboot. */
export function degradedCondition(f: AgentFacts): ConditionDraft | null {
  const { supervisor: sup, unit, live } = f;
  if (sup.mode !== 'systemd' || !f.agent.enabled || !f.socket?.ok) return null;
  const degraded = (reason: ConditionReason, message: string) => draft(DEGRADED, 'True', reason, message);
  if (!sup.observed.ok)
    return degraded('SupervisorUnobserved', `systemd --user could not be observed: ${sup.observed.error}`);
  if (!unit || !live) return null;
  if (UP.includes(unit.active) && unit.enabled !== 'enabled') {
    return degraded(
      'UnitNotEnabled',
      `${unit.name} is active but ${unit.enabled || 'not enabled'}: ` +
        'after a reboot the agent would not come back; the next apply enables it',
    );
  }
  if (!UP.includes(unit.active)) {
    return degraded(
      'UnitInactive',
      `${unit.name} is ${unit.active} (${unit.sub}) while the session runs: a reboot would not bring it back; ` +
        'the next apply starts the unit, which adopts the session',
    );
  }
  return null;
}

/** Stalled: the file that declares the agent is invalid, and its last valid version stays in force. */
export function stalledCondition(f: AgentFacts): ConditionDraft | null {
  const bad = f.invalidSource;
  if (!bad) return null;
  const problems = bad.problems.map(formatProblem).join('; ');
  return draft(
    STALLED,
    'True',
    'InvalidSpec',
    `${problems} (the last valid version, blob ${bad.blob?.slice(0, 12)}, stays in force)`,
  );
}

/** PendingRestart: a new spec waits for the agent to go idle, or for a person. */
export function pendingRestartCondition(f: AgentFacts): ConditionDraft | null {
  const d = f.deferred;
  if (d?.kind !== 'restart_session' && d?.kind !== 'restart_unit') return null;
  if (d.reason !== 'update_on_idle' && d.reason !== 'update_manual') return null;
  const manual = d.reason === 'update_manual';
  const how = manual
    ? 'update: manual: restart it by hand (or set update: recreate)'
    : 'update: on-idle: restarts once the agent is idle';
  // The fields that changed, by name only (values stay out of the committed status); hashes where none are known.
  const changed = d.detail.changes?.map((c) => c.field);
  const specs = changed
    ? `changed: ${changed.join(', ')}`
    : `spec ${d.detail.runningSpec ?? '?'} runs, ${f.agent.specHash} is desired`;
  return draft(PENDING_RESTART, 'True', manual ? 'UpdateManual' : 'UpdateOnIdle', `${specs}; ${how}`);
}

function nameConflictMessage(a: AgentSpec, fleet: string, pane: PaneInfo): string {
  return (
    `session "${a.session}" on socket ${a.socket} was not started by fleet ${fleet} ` +
    `(@gitfleet-fleet is ${pane.fleet ?? 'unset'}); gitfleet leaves it alone: stop it or rename the agent`
  );
}

/** tmux 3.3 does not always record a dead pane's exit status (it races the pty's EOF). */
function exited(status: number | null): string {
  return status === null ? 'exited (tmux did not record the exit status)' : `exited with status ${status}`;
}

const HEARTBEAT_REASON = { stale: 'HeartbeatStale', unknown: 'HeartbeatMissing', invalid: 'HeartbeatInvalid' } as const;

/** Stable wording (no ages): the status changes when the health does, not every run. */
function heartbeatMessage(a: AgentSpec, hb: HeartbeatJudgement): string {
  const limit = `${STALE_AFTER_INTERVALS} × ${a.heartbeatInterval} s`;
  if (hb.health === 'stale')
    return `the pane is alive but the runtime's last heartbeat is older than ${limit}: it does not answer`;
  if (hb.health === 'unknown') {
    const every = `every ${a.heartbeatInterval} s`;
    return `the runtime declares heartbeats (${every}) but none was written to $GITFLEET_HEARTBEAT_FILE`;
  }
  return (
    'the heartbeat file is not protocol v1 (ts=<ISO-8601> pid=<pid> status=<ok|busy>), ' +
    "or its time is ahead of this host's clock; gitfleet ps shows the details"
  );
}
