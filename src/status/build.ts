// Build the status document from what was desired, seen and done. Pure:
// the clock and the previous status are inputs. A condition's
// lastTransitionTime moves only when its status changes.
import type { ActionResult } from '../apply/types.js';
import { actionKind } from '../plan/action-kinds.js';
import { nextBackoff } from '../plan/crash-loop.js';
import type { AgentSpec, DesiredState } from '../desired/types.js';
import { formatProblem } from '../errors.js';
import type { SocketObservation } from '../observe/tmux.js';
import type { PlanContext } from '../plan/input.js';
import { agentsInScope, socketsToObserve } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { STALE_AFTER_INTERVALS, type HeartbeatJudgement } from '../heartbeat/protocol.js';
import { supervisorInfo, TMUX_MODE, UP, type SupervisorInput } from '../plan/units.js';
import { agentUnit, holderUnit } from '../systemd/fleet-units.js';
import type {
  AgentRecord,
  Condition,
  ConditionReason,
  ConditionStatus,
  ConditionType,
  StatusDoc,
  SupervisorStatus,
  UnitRecord,
  UnmanagedSession,
} from './types.js';

export { STABLE_AFTER_MS } from '../plan/crash-loop.js';

export interface StatusInput {
  desired: DesiredState;
  plan: Plan;
  observed: ReadonlyMap<string, SocketObservation>;
  results: readonly ActionResult[];
  previous: StatusDoc | null;
  policy: PlanContext;
  /** How agents are supervised, as observed after apply (default: tmux). */
  supervisor?: SupervisorInput;
  /** Judged heartbeats of agents whose runtime writes one, by `<socket>/<session>`. */
  heartbeats?: ReadonlyMap<string, HeartbeatJudgement>;
}

const UNKNOWN_BEAT: HeartbeatJudgement = { health: 'unknown', ageSeconds: null, status: null, pid: null, error: null };
const HEARTBEAT_REASON = { stale: 'HeartbeatStale', unknown: 'HeartbeatMissing', invalid: 'HeartbeatInvalid' } as const;

/** Stable wording (no ages): the status changes when the health does, not every run. */
function heartbeatMessage(a: AgentSpec, hb: HeartbeatJudgement): string {
  const limit = `${STALE_AFTER_INTERVALS} × ${a.heartbeatInterval} s`;
  if (hb.health === 'stale')
    return `the pane is alive but the runtime's last heartbeat is older than ${limit}: it does not answer`;
  if (hb.health === 'unknown')
    return `the runtime declares heartbeats (every ${a.heartbeatInterval} s) but none was written to $GITFLEET_HEARTBEAT_FILE`;
  return "the heartbeat file is not protocol v1 (ts=<ISO-8601> pid=<pid> status=<ok|busy>), or its time is ahead of this host's clock; gitfleet ps shows the details";
}

export function buildStatus(input: StatusInput): StatusDoc {
  const { desired, plan, observed, results, previous, policy } = input;
  const sup = input.supervisor ?? TMUX_MODE;
  const now = policy.now.toISOString();
  const fleet = desired.config.fleet;
  const units = sup.mode === 'systemd' && sup.observed.ok ? sup.observed.units : null;
  const unitRecord = (name: string): UnitRecord | null => {
    if (sup.mode !== 'systemd') return null;
    const u = units?.get(name);
    return {
      name,
      active: u?.active ?? 'unknown',
      sub: u?.sub ?? 'unknown',
      enabled: u?.enabled || (units ? 'not-found' : 'unknown'),
    };
  };
  const prevByKey = new Map((previous?.agents ?? []).map((r) => [`${r.socket}/${r.session.name}`, r]));
  // Per agent (socket/session): in systemd mode one agent may have several actions (enable, start).
  const agentKey = (a: { apply: { socket?: string; session?: string } }) => `${a.apply.socket}/${a.apply.session}`;
  const resultsFor = new Map<string, ActionResult[]>();
  for (const r of results)
    if (r.action.apply.session) resultsFor.set(agentKey(r.action), [...(resultsFor.get(agentKey(r.action)) ?? []), r]);
  const deferredFor = new Map(plan.deferred.filter((d) => d.apply.session).map((d) => [agentKey(d), d]));
  const invalidSource = new Map(desired.files.filter((f) => f.usingLastKnownGood).map((f) => [f.path, f]));

  const agents = agentsInScope(desired, policy)
    .map((a) => agentRecord(a))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.socket < y.socket ? -1 : 1));

  function agentRecord(a: AgentSpec): AgentRecord {
    const key = `${a.socket}/${a.session}`;
    const prev = prevByKey.get(key);
    const obs = observed.get(a.socket);
    const pane = obs?.ok ? obs.sessions.get(a.session) : undefined;
    const ours = pane?.fleet === desired.config.fleet;
    const live = ours && pane && !pane.dead ? pane : undefined; // a running pane this fleet owns
    const hb = a.heartbeatInterval !== null && a.enabled ? (input.heartbeats?.get(key) ?? UNKNOWN_BEAT) : undefined;
    const mine = resultsFor.get(key) ?? [];
    const result = mine.find((r) => !r.ok) ?? mine.find((r) => actionKind(r.action.kind).lifecycle);
    const done = result?.ok ? result.action : undefined;

    const { restarts, backoff } = nextBackoff(prev, done, !!pane && !pane.dead, policy.now);

    const conds: [ConditionType, ConditionStatus, ConditionReason, string][] = [];
    const deferred = deferredFor.get(key);
    if (!obs?.ok)
      conds.push(['Ready', 'Unknown', 'ObservationFailed', obs ? obs.error : `socket ${a.socket} was not observed`]);
    else if (!a.enabled)
      conds.push(['Ready', 'False', 'Disabled', 'enabled: false in the roster; the session is stopped']);
    else if (result && !result.ok)
      conds.push(['Ready', 'False', 'ApplyFailed', `${result.action.kind} failed: ${result.error}`]);
    else if (!pane) conds.push(['Ready', 'False', 'SessionMissing', `no session "${a.session}" on socket ${a.socket}`]);
    else if (!ours)
      conds.push([
        'Ready',
        'False',
        'NameConflict',
        `session "${a.session}" on socket ${a.socket} was not started by fleet ${desired.config.fleet} (@gitfleet-fleet is ${pane.fleet ?? 'unset'}); gitfleet leaves it alone: stop it or rename the agent`,
      ]);
    else if (pane.dead && deferred?.reason === 'crash_loop_backoff')
      conds.push([
        'Ready',
        'False',
        'CrashLoopBackOff',
        `${exited(pane.deadStatus)}; ${backoff?.streak ?? 0} respawns in a row; next not before ${deferred.detail.notBefore}`,
      ]);
    else if (pane.dead) conds.push(['Ready', 'False', 'PaneDead', exited(pane.deadStatus)]);
    else if (hb && hb.health !== 'healthy')
      conds.push(['Ready', 'False', HEARTBEAT_REASON[hb.health], heartbeatMessage(a, hb)]);
    else
      conds.push([
        'Ready',
        'True',
        'Running',
        `pid ${pane.pid ?? '?'} runs ${pane.currentCommand}; ${hb ? 'heartbeat healthy' : 'no heartbeat declared: judged by pane and process alone'}`,
      ]);
    // A pane started moments ago may still show the shell that execs the runtime: judge drift from the next run on.
    if (live && !done && !a.processNames.includes(live.currentCommand)) {
      conds.push([
        'Drifted',
        'True',
        'RuntimeMismatch',
        `the pane runs ${live.currentCommand}, not runtime ${a.runtime} (${a.processNames.join(' or ')}); set runtimes.${a.runtime}.process_names if it runs under another name`,
      ]);
    }
    const unit = a.enabled ? unitRecord(agentUnit(fleet, a)) : null;
    if (sup.mode === 'systemd' && a.enabled && obs?.ok) {
      if (!units)
        conds.push([
          'Degraded',
          'True',
          'SupervisorUnobserved',
          `systemd --user could not be observed: ${sup.observed.ok ? '' : sup.observed.error}`,
        ]);
      else if (unit && live && UP.includes(unit.active) && unit.enabled !== 'enabled')
        conds.push([
          'Degraded',
          'True',
          'UnitNotEnabled',
          `${unit.name} is active but ${unit.enabled || 'not enabled'}: after a reboot the agent would not come back; the next apply enables it`,
        ]);
      else if (unit && live && !UP.includes(unit.active))
        conds.push([
          'Degraded',
          'True',
          'UnitInactive',
          `${unit.name} is ${unit.active} (${unit.sub}) while the session runs: a reboot would not bring it back; the next apply starts the unit, which adopts the session`,
        ]);
    }
    const bad = invalidSource.get(a.source.file);
    if (bad)
      conds.push([
        'Stalled',
        'True',
        'InvalidSpec',
        `${bad.problems.map(formatProblem).join('; ')} (the last valid version, blob ${bad.blob?.slice(0, 12)}, stays in force)`,
      ]);
    if (
      (deferred?.kind === 'restart_session' || deferred?.kind === 'restart_unit') &&
      (deferred.reason === 'update_on_idle' || deferred.reason === 'update_manual')
    ) {
      conds.push([
        'PendingRestart',
        'True',
        deferred.reason === 'update_manual' ? 'UpdateManual' : 'UpdateOnIdle',
        `spec ${deferred.detail.runningSpec ?? '?'} runs, ${a.specHash} is desired; ${deferred.reason === 'update_manual' ? 'update: manual: restart it by hand (or set update: recreate)' : 'update: on-idle: restarts once the agent is idle'}`,
      ]);
    }

    return {
      name: a.name,
      host: policy.host,
      tenant_id: a.tenant ?? policy.tenant,
      socket: a.socket,
      runtime: a.runtime,
      source: `${a.source.file}:${a.source.line}`,
      enabled: a.enabled,
      specHash: a.specHash,
      session: {
        name: a.session,
        alive: !!live,
        pid: live?.pid ?? null,
        command: live?.currentCommand ?? null,
        exitStatus: ours && pane?.dead ? pane.deadStatus : null,
        spec: ours ? (pane?.spec ?? null) : null,
      },
      heartbeat:
        a.heartbeatInterval !== null && a.enabled ? { intervalSeconds: a.heartbeatInterval, health: hb!.health } : null,
      unit,
      restarts,
      backoff,
      conditions: conds.map(([type, status, reason, message]) =>
        condition(prev?.conditions, type, status, reason, message, now),
      ),
    };
  }

  const unmanaged: UnmanagedSession[] = [];
  const sockets = socketsToObserve(desired, previous).map((name) => {
    const obs = observed.get(name);
    const holder =
      desired.rosters.find((r) => r.socket === name)?.holder ??
      previous?.sockets.find((s) => s.name === name)?.holder ??
      '';
    if (obs?.ok) {
      for (const p of obs.sessions.values()) {
        if (p.fleet !== desired.config.fleet && p.session !== holder && !p.watchOf) {
          unmanaged.push({ socket: name, session: p.session, command: p.currentCommand, fleet: p.fleet });
        }
      }
    }
    const unit = unitRecord(holderUnit(fleet, name));
    return {
      name,
      observed: !!obs?.ok,
      error: obs && !obs.ok ? obs.error : null,
      serverRunning: obs?.ok ? obs.serverRunning : false,
      serverPid: obs?.ok ? obs.serverPid : null,
      holder,
      unit: unit ? { ...unit, restarts: units?.get(unit.name)?.restarts ?? null } : null,
    };
  });
  unmanaged.sort((a, b) => (`${a.socket}/${a.session}` < `${b.socket}/${b.session}` ? -1 : 1));
  // Sockets with no agents declared and nothing of ours left need not be watched any longer.
  // A server unit still enabled or running (its stop may wait for unmanaged sessions) keeps its socket watched too.
  const unitUp = (s: (typeof sockets)[number]) =>
    !!s.unit && (UP.includes(s.unit.active) || s.unit.enabled === 'enabled');
  const live = sockets.filter(
    (s) =>
      desired.rosters.some((r) => r.socket === s.name) ||
      !s.observed ||
      hasOurs(observed.get(s.name), desired.config.fleet) ||
      unitUp(s),
  );

  const enabled = agents.filter((r) => r.enabled);
  const ready = enabled.filter((r) => r.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  const info = supervisorInfo(sup);
  const supervisor: SupervisorStatus = {
    ...info,
    linger: sup.mode === 'systemd' && sup.observed.ok ? sup.observed.linger : null,
    lingerFix:
      sup.mode === 'systemd' && sup.observed.ok && sup.observed.linger === false
        ? `loginctl enable-linger ${policy.tenant}`
        : null,
  };
  const converged =
    ready === enabled.length &&
    info.observed &&
    !agents.some((r) =>
      r.conditions.some((c) => (c.type === 'PendingRestart' || c.type === 'Degraded') && c.status === 'True'),
    ) &&
    desired.problems.length === 0 &&
    plan.unobserved.length === 0 &&
    results.every((r) => r.ok) &&
    // A prune held back by reconcile.prune: false is the operator's choice, not a fault.
    plan.deferred.every((d) => d.kind !== 'delete_session' || d.reason === 'prune_disabled') &&
    plan.pruneHeld.length === 0;

  return {
    formatVersion: 1,
    fleet: desired.config.fleet,
    host: policy.host,
    tenant_id: policy.tenant,
    desiredRevision: policy.desiredRevision,
    converged,
    summary: {
      agents: agents.length,
      ready,
      notReady: enabled.length - ready,
      disabled: agents.length - enabled.length,
      unmanaged: unmanaged.length,
      errors: desired.problems.length,
    },
    supervisor,
    agents,
    sockets: live,
    unmanaged,
    files: desired.files.map((f) => ({
      path: f.path,
      blob: f.blob,
      valid: f.valid,
      usingLastKnownGood: f.usingLastKnownGood,
      problems: f.problems,
    })),
    errors: desired.problems,
    ...(plan.pruneHeld.length > 0 ? { pruneHeld: plan.pruneHeld } : {}),
  };
}

/** tmux 3.3 does not always record a dead pane's exit status (it races the pty's EOF). */
function exited(status: number | null): string {
  return status === null ? 'exited (tmux did not record the exit status)' : `exited with status ${status}`;
}

function hasOurs(obs: SocketObservation | undefined, fleet: string): boolean {
  return !!obs && obs.ok && [...obs.sessions.values()].some((p) => p.fleet === fleet);
}

function condition(
  previous: readonly Condition[] | undefined,
  type: ConditionType,
  status: ConditionStatus,
  reason: ConditionReason,
  message: string,
  now: string,
): Condition {
  const prev = previous?.find((c) => c.type === type);
  const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : now;
  return { type, status, reason, message, lastTransitionTime };
}
