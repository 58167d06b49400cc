// Build the status document from what was desired, seen and done. Pure:
// the clock and the previous status are inputs. A condition's
// lastTransitionTime moves only when its status changes.
import type { ActionResult } from '../apply/types.js';
import type { AgentSpec, DesiredState } from '../desired/types.js';
import { formatProblem } from '../errors.js';
import type { SocketObservation } from '../observe/tmux.js';
import { agentsInScope, socketsToObserve, type Policy } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import type { AgentRecord, Condition, ConditionReason, ConditionStatus, ConditionType, StatusDoc, UnmanagedSession } from './types.js';

/** A pane alive this long after its last respawn ends the crash streak. */
export const STABLE_AFTER_MS = 10 * 60 * 1000;

export interface StatusInput {
  desired: DesiredState;
  plan: Plan;
  observed: ReadonlyMap<string, SocketObservation>;
  results: readonly ActionResult[];
  previous: StatusDoc | null;
  policy: Policy;
}

export function buildStatus(input: StatusInput): StatusDoc {
  const { desired, plan, observed, results, previous, policy } = input;
  const now = policy.now.toISOString();
  const prevByKey = new Map((previous?.agents ?? []).map((r) => [`${r.socket}/${r.session.name}`, r]));
  const resultFor = new Map(results.map((r) => [r.action.target, r]));
  const deferredFor = new Map(plan.deferred.map((d) => [d.target, d]));
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
    const result = resultFor.get(key);
    const done = result?.ok ? result.action : undefined;

    let restarts = prev?.restarts ?? 0;
    let backoff = prev?.backoff ?? null;
    if (done?.kind === 'respawn_pane') {
      restarts++;
      backoff = { streak: (backoff?.streak ?? 0) + 1, lastRestart: now };
    } else if (done?.kind === 'restart_session') {
      restarts = 0;
      backoff = null;
    } else if (done?.kind === 'create_session' && prev) {
      restarts++; // re-created after the session was lost
    }
    if (backoff && pane && !pane.dead && policy.now.getTime() - Date.parse(backoff.lastRestart) >= STABLE_AFTER_MS) backoff = null;

    const conds: [ConditionType, ConditionStatus, ConditionReason, string][] = [];
    const deferred = deferredFor.get(key);
    if (!obs?.ok) conds.push(['Ready', 'Unknown', 'ObservationFailed', obs ? obs.error : `socket ${a.socket} was not observed`]);
    else if (!a.enabled) conds.push(['Ready', 'False', 'Disabled', 'enabled: false in the roster; the session is stopped']);
    else if (result && !result.ok) conds.push(['Ready', 'False', 'ApplyFailed', `${result.action.kind} failed: ${result.error}`]);
    else if (!pane) conds.push(['Ready', 'False', 'SessionMissing', `no session "${a.session}" on socket ${a.socket}`]);
    else if (!ours) conds.push(['Ready', 'False', 'NameConflict', `session "${a.session}" on socket ${a.socket} was not started by fleet ${desired.config.fleet} (@gitfleet-fleet is ${pane.fleet ?? 'unset'}); gitfleet leaves it alone: stop it or rename the agent`]);
    else if (pane.dead && deferred?.reason === 'crash_loop_backoff') conds.push(['Ready', 'False', 'CrashLoopBackOff', `${exited(pane.deadStatus)}; ${backoff?.streak ?? 0} respawns in a row; next not before ${deferred.detail.notBefore}`]);
    else if (pane.dead) conds.push(['Ready', 'False', 'PaneDead', exited(pane.deadStatus)]);
    else conds.push(['Ready', 'True', 'Running', `pid ${pane.pid ?? '?'} runs ${pane.currentCommand}`]);
    const bad = invalidSource.get(a.source.file);
    if (bad) conds.push(['Stalled', 'True', 'InvalidSpec', `${bad.problems.map(formatProblem).join('; ')} (the last valid version, blob ${bad.blob?.slice(0, 12)}, stays in force)`]);
    if (deferred?.kind === 'restart_session') {
      conds.push(['PendingRestart', 'True', deferred.reason === 'update_manual' ? 'UpdateManual' : 'UpdateOnIdle',
        `spec ${deferred.detail.runningSpec ?? '?'} runs, ${a.specHash} is desired; ${deferred.reason === 'update_manual' ? 'update: manual: restart it by hand (or set update: recreate)' : 'update: on-idle: restarts once the agent is idle'}`]);
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
      restarts,
      backoff,
      conditions: conds.map(([type, status, reason, message]) => condition(prev?.conditions, type, status, reason, message, now)),
    };
  }

  const unmanaged: UnmanagedSession[] = [];
  const sockets = socketsToObserve(desired, previous).map((name) => {
    const obs = observed.get(name);
    const holder = desired.rosters.find((r) => r.socket === name)?.holder ?? previous?.sockets.find((s) => s.name === name)?.holder ?? '';
    if (obs?.ok) {
      for (const p of obs.sessions.values()) {
        if (p.fleet !== desired.config.fleet && p.session !== holder) {
          unmanaged.push({ socket: name, session: p.session, command: p.currentCommand, fleet: p.fleet });
        }
      }
    }
    return { name, observed: !!obs?.ok, error: obs && !obs.ok ? obs.error : null, serverRunning: obs?.ok ? obs.serverRunning : false, holder };
  });
  unmanaged.sort((a, b) => (a.socket + '/' + a.session < b.socket + '/' + b.session ? -1 : 1));
  // Sockets with no agents declared and nothing of ours left need not be watched any longer.
  const live = sockets.filter((s) => desired.rosters.some((r) => r.socket === s.name) || !s.observed || hasOurs(observed.get(s.name), desired.config.fleet));

  const enabled = agents.filter((r) => r.enabled);
  const ready = enabled.filter((r) => r.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  const converged =
    ready === enabled.length &&
    !agents.some((r) => r.conditions.some((c) => c.type === 'PendingRestart' && c.status === 'True')) &&
    desired.problems.length === 0 &&
    plan.unobserved.length === 0 &&
    results.every((r) => r.ok) &&
    // A prune held back by reconcile.prune: false is the operator's choice, not a fault.
    plan.deferred.every((d) => d.kind !== 'delete_session' || d.reason === 'prune_disabled');

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
    agents,
    sockets: live,
    unmanaged,
    files: desired.files.map((f) => ({ path: f.path, blob: f.blob, valid: f.valid, usingLastKnownGood: f.usingLastKnownGood, problems: f.problems })),
    errors: desired.problems,
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
