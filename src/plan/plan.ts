// The planner: a pure function of desired state, observed state, the last
// status and a policy (host, tenant, clock). No I/O, no clock reads.
import type { AgentSpec, DesiredState } from '../desired/types.js';
import type { PaneInfo, SocketObservation } from '../observe/tmux.js';
import type { StatusDoc } from '../status/types.js';
import { ACTION_KINDS, pruneReason, type Action, type ActionKind, type Plan } from './types.js';
import { supervisorInfo, TMUX_MODE, unitPlan, type SupervisorInput } from './units.js';
import type { HeartbeatJudgement } from '../heartbeat/protocol.js';
import { foreignFleet } from '../fleet-identity.js';
import { holdMassPrune } from './prune-guard.js';
import { maskArgv } from '../redact.js';
import { respawnDecision, type BackoffPolicy } from './crash-loop.js';

export interface Policy {
  host: string;
  tenant: string;
  now: Date;
  desiredRevision: string;
  backoff: BackoffPolicy;
  /** A person confirmed the deletions of this revision's rosters (--confirm-prune, reconcile.confirm_prune). */
  pruneConfirmed: boolean;
}

export { backoffDelaySeconds, DEFAULT_BACKOFF } from './crash-loop.js';

/** Agents this host and tenant are responsible for. */
export function agentsInScope(desired: DesiredState, policy: Pick<Policy, 'host' | 'tenant'>): AgentSpec[] {
  return desired.rosters
    .flatMap((r) => r.agents)
    .filter((a) => (a.host === null || a.host === policy.host) && (a.tenant === null || a.tenant === policy.tenant));
}

/** Every socket gitfleet must look at: declared now, or managed at the last run. */
export function socketsToObserve(desired: DesiredState, previous: StatusDoc | null): string[] {
  const s = new Set<string>(desired.rosters.map((r) => r.socket));
  for (const x of previous?.sockets ?? []) s.add(x.name);
  return [...s].sort();
}

export function plan(
  desired: DesiredState,
  observed: ReadonlyMap<string, SocketObservation>,
  previous: StatusDoc | null,
  policy: Policy,
  supervisor: SupervisorInput = TMUX_MODE,
  /** Judged heartbeats of agents whose runtime writes one, by `<socket>/<session>`. */
  heartbeats: ReadonlyMap<string, HeartbeatJudgement> = new Map(),
): Plan {
  let actions: Action[] = [];
  let deferred: Action[] = [];
  const unobserved: Plan['unobserved'] = [];
  const inScope = agentsInScope(desired, policy);
  const declaredAnywhere = new Set(desired.rosters.flatMap((r) => r.agents.map((a) => `${a.socket}/${a.session}`)));
  const prevAgents = new Map((previous?.agents ?? []).map((r) => [`${r.socket}/${r.session.name}`, r]));
  const pruneBlock =
    desired.problems.length > 0 ? 'prune_blocked_by_invalid_files' : !desired.config.prune ? 'prune_disabled' : null;

  for (const socket of socketsToObserve(desired, previous)) {
    const obs = observed.get(socket);
    if (!obs?.ok) {
      unobserved.push({ socket, error: obs && !obs.ok ? obs.error : 'not observed' });
      continue;
    }
    const foreign = foreignFleet(obs, desired.config.fleet);
    if (foreign) {
      // Two fleets on one server would each see the other's holder and sessions: the one that finds
      // the other there keeps away (no action of any kind), and says so.
      const error = `socket ${socket} is used by another fleet: ${foreign}; a socket belongs to one fleet, so nothing is done there. Give this fleet's rosters another tmux.socket_name, or stop the other fleet's sessions`;
      unobserved.push({ socket, error });
      continue;
    }
    const ours = (p: PaneInfo | undefined) => p !== undefined && p.fleet === desired.config.fleet;
    const agents = inScope.filter((a) => a.socket === socket);
    const enabled = agents.filter((a) => a.enabled);
    const wanted = new Set(enabled.map((a) => a.session));
    const holder =
      desired.rosters.find((r) => r.socket === socket)?.holder ??
      previous?.sockets.find((s) => s.name === socket)?.holder;

    // 1. The holder keeps the server alive while agents come and go.
    if (holder && enabled.length > 0 && !obs.sessions.has(holder)) {
      actions.push(act('create_session', socket, holder, 'holder_missing', { role: 'holder' }));
    }

    // 2. Each enabled agent: create, restart on spec change, respawn a dead pane.
    for (const a of enabled) {
      const pane = obs.sessions.get(a.session);
      if (!pane) {
        actions.push(createAction(a, 'missing'));
        continue;
      }
      if (!ours(pane)) continue; // name taken by a session gitfleet does not own: reported, never touched
      if (pane.spec !== a.specHash) {
        // A dead pane has no context to lose: restart it whatever the policy; on-idle waits until the agent is idle.
        const idle =
          a.update === 'on-idle' ? idleness(a, pane, heartbeats.get(`${socket}/${a.session}`), policy.now) : null;
        if (pane.dead || a.update === 'recreate' || idle?.idle)
          actions.push(
            createAction(a, 'spec_changed', 'restart_session', pane.spec, idle?.idle ? idle.why : undefined),
          );
        else
          deferred.push(
            act('restart_session', socket, a.session, a.update === 'manual' ? 'update_manual' : 'update_on_idle', {
              agent: a.name,
              specHash: a.specHash,
              runningSpec: pane.spec,
              ...(idle ? { waiting: idle.why } : {}),
            }),
          );
        continue;
      }
      if (pane.dead) {
        const prev = prevAgents.get(`${socket}/${a.session}`);
        const respawn = respawnDecision(prev?.backoff, policy.now, policy.backoff);
        const detail = { agent: a.name, exitStatus: pane.deadStatus, streak: respawn.streak };
        if (respawn.notBefore)
          deferred.push(
            act('respawn_pane', socket, a.session, 'crash_loop_backoff', { ...detail, notBefore: respawn.notBefore }),
          );
        else actions.push(act('respawn_pane', socket, a.session, 'pane_dead', detail));
      }
    }

    // 3. Prune: sessions tagged with this fleet that are no longer wanted here.
    for (const pane of [...obs.sessions.values()].sort((x, y) => (x.session < y.session ? -1 : 1))) {
      if (!ours(pane) || wanted.has(pane.session)) continue;
      const isHolder = pane.role === 'holder' || pane.session === holder;
      if (isHolder && enabled.length > 0) continue;
      const agent = agents.find((a) => a.session === pane.session);
      const reason = isHolder ? 'not_in_roster' : pruneReason(agent, declaredAnywhere.has(`${socket}/${pane.session}`));
      const d = act('delete_session', socket, pane.session, reason, {
        role: isHolder ? 'holder' : 'agent',
        ...(pane.agent ? { agent: pane.agent } : {}),
      });
      if (pruneBlock && reason !== 'disabled') deferred.push({ ...d, reason: pruneBlock });
      else actions.push(d);
    }
  }

  // A watch view (gitfleet agent watch) shares the session's windows: it must go with them, or the old runtime lives on in it.
  for (const a of actions) {
    if (a.kind !== 'delete_session' && a.kind !== 'restart_session') continue;
    const obs = observed.get(a.detail.socket!);
    const watchers = obs?.ok
      ? [...obs.sessions.values()]
          .filter((p) => p.watchOf === a.detail.session)
          .map((p) => p.session)
          .sort()
      : [];
    if (watchers.length > 0) a.detail.watchers = watchers;
  }

  if (supervisor.mode === 'systemd') {
    ({ actions, deferred } = unitPlan(
      { actions, deferred },
      { desired, agents: inScope, observed, sockets: socketsToObserve(desired, previous), pruneBlock, sup: supervisor },
    ));
  }

  let pruneHeld: Plan['pruneHeld'];
  ({
    actions,
    deferred,
    held: pruneHeld,
  } = holdMassPrune({ actions, deferred }, observed, desired.config, policy.desiredRevision, policy.pruneConfirmed));

  // In ACTION_KINDS order. The holder (session or server unit) comes up before its agents and goes after them.
  const order = (a: Action) => {
    const i = ACTION_KINDS.indexOf(a.kind);
    if (a.detail.role !== 'holder') return i;
    if (a.kind === 'create_session') return -1;
    if (a.kind === 'start_unit') return ACTION_KINDS.indexOf('enable_unit') + 0.5;
    return i + 0.5;
  };
  const sort = (xs: Action[]) =>
    xs.sort((x, y) => order(x) - order(y) || (x.target < y.target ? -1 : x.target > y.target ? 1 : 0));
  sort(actions);
  sort(deferred);
  const summary = Object.fromEntries(
    ACTION_KINDS.map((k) => [k, actions.filter((a) => a.kind === k).length]),
  ) as Record<ActionKind, number>;
  return {
    formatVersion: 1,
    fleet: desired.config.fleet,
    host: policy.host,
    desiredRevision: policy.desiredRevision,
    actions,
    deferred,
    unobserved,
    supervisor: supervisorInfo(supervisor),
    summary: { ...summary, deferred: deferred.length },
    errors: desired.problems,
    pruneHeld,
  };
}

function act(
  kind: ActionKind,
  socket: string,
  session: string,
  reason: Action['reason'],
  extra: Partial<Action['detail']> = {},
): Action {
  return { kind, target: `${socket}/${session}`, reason, detail: { socket, session, ...extra } };
}

function createAction(
  a: AgentSpec,
  reason: Action['reason'],
  kind: ActionKind = 'create_session',
  runningSpec?: string | null,
  idle?: string,
): Action {
  return act(kind, a.socket, a.session, reason, {
    ...(runningSpec !== undefined ? { runningSpec } : {}),
    ...(idle !== undefined ? { idle } : {}),
    agent: a.name,
    role: 'agent',
    specHash: a.specHash,
    // Plan output and evidence show this; apply takes the real argv from the desired state.
    argv: maskArgv(a.argv, a.redact),
    cwd: a.cwd,
    envKeys: Object.keys(a.env),
  });
}

/**
 * update: on-idle restarts an agent only when it is idle: not busy by its
 * heartbeat (and, where heartbeats are expected, a healthy one saying ok),
 * and no pane output for the runtime's idle_after. Anything unknown counts
 * as busy: a restart throws the agent's context away, never mid-task.
 */
export function idleness(
  a: AgentSpec,
  pane: PaneInfo,
  hb: HeartbeatJudgement | undefined,
  now: Date,
): { idle: boolean; why: string } {
  if (a.heartbeatInterval !== null) {
    if (hb?.health !== 'healthy')
      return { idle: false, why: `heartbeat ${hb?.health ?? 'unknown'}: cannot tell whether it is working` };
    if (hb.status === 'busy') return { idle: false, why: 'busy (heartbeat)' };
  }
  if (pane.activity === null) return { idle: false, why: 'no pane activity time from tmux' };
  const quiet = Math.floor(now.getTime() / 1000) - pane.activity;
  if (quiet < a.idleAfter) return { idle: false, why: `pane output ${quiet} s ago (idle after ${a.idleAfter} s)` };
  return {
    idle: true,
    why: `idle: no pane output for ${quiet} s${a.heartbeatInterval !== null ? ', heartbeat ok' : ''}`,
  };
}
