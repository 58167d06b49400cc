// The session sub-planner: per socket, the holder, each enabled agent's
// session (create, restart on a spec change, respawn a dead pane) and the
// prune of sessions no longer wanted; then the watch views that go with a
// session. This is what runs in tmux mode; in systemd mode plan/units.ts
// carries it out through units. Pure.
import type { AgentSpec } from '../desired/types.js';
import { foreignFleet, otherTenant } from '../fleet-identity.js';
import type { HeartbeatJudgement } from '../heartbeat/protocol.js';
import type { PaneInfo, SocketObservation } from '../observe/tmux.js';
import { maskArgv } from '../redact.js';
import type { AgentRecord } from '../status/types.js';
import { respawnDecision } from './crash-loop.js';
import { diffSpecFields } from './spec-diff.js';
import type { PlanContext, PlanInput } from './input.js';
import type { Scope } from './scope.js';
import {
  pruneReason,
  type Action,
  type ActionKind,
  type ApplyDetail,
  type DisplayDetail,
  type Plan,
  type Reason,
} from './types.js';

export interface SessionPlan {
  actions: Action[];
  deferred: Action[];
  /** Sockets whose observation failed, or where another fleet runs: nothing is planned there. */
  unobserved: Plan['unobserved'];
}

type Seen = Extract<SocketObservation, { ok: true }>;

/** What a socket's planning reads besides its observation. */
interface SocketFacts {
  input: PlanInput;
  context: PlanContext;
  scope: Scope;
  /** `<socket>/<session>` of every agent declared in any roster, for any host. */
  declaredAnywhere: ReadonlySet<string>;
  /** The last status's agent records, by `<socket>/<session>`. */
  previousAgents: ReadonlyMap<string, AgentRecord>;
}

export function sessionPlan(input: PlanInput, context: PlanContext, scope: Scope): SessionPlan {
  const out: SessionPlan = { actions: [], deferred: [], unobserved: [] };
  const { desired } = input;
  const facts: SocketFacts = {
    input,
    context,
    scope,
    declaredAnywhere: new Set(desired.rosters.flatMap((r) => r.agents.map((a) => `${a.socket}/${a.session}`))),
    previousAgents: new Map((input.previous?.agents ?? []).map((r) => [`${r.socket}/${r.session.name}`, r])),
  };
  for (const socket of scope.sockets) {
    const obs = input.observed.tmux.get(socket);
    if (!obs?.ok) {
      out.unobserved.push({ socket, error: obs && !obs.ok ? obs.error : 'not observed' });
      continue;
    }
    const foreign = foreignFleet(obs, desired.config.fleet);
    if (foreign) {
      // Two fleets on one server would each see the other's holder and sessions: the one that finds
      // the other there keeps away (no action of any kind), and says so.
      const error =
        `socket ${socket} is used by another fleet: ${foreign}; ` +
        'a socket belongs to one fleet, so nothing is done there. ' +
        "Give this fleet's rosters another tmux.socket_name, or stop the other fleet's sessions";
      out.unobserved.push({ socket, error });
      continue;
    }
    const planned = socketPlan(socket, obs, facts);
    out.actions.push(...planned.actions);
    out.deferred.push(...planned.deferred);
  }
  attachWatchers(out.actions, input.observed.tmux);
  return out;
}

/** One observed socket of ours: holder, agents, prune. */
function socketPlan(socket: string, obs: Seen, facts: SocketFacts): { actions: Action[]; deferred: Action[] } {
  const { desired, previous } = facts.input;
  const agents = facts.scope.agents.filter((a) => a.socket === socket);
  const enabled = agents.filter((a) => a.enabled);
  const holder =
    desired.rosters.find((r) => r.socket === socket)?.holder ??
    previous?.sockets.find((s) => s.name === socket)?.holder;
  const actions: Action[] = [];
  const deferred: Action[] = [];

  // 1. The holder keeps the server alive while agents come and go.
  if (holder && enabled.length > 0 && !obs.sessions.has(holder)) {
    actions.push(act('create_session', socket, holder, 'holder_missing', { role: 'holder' }));
  }
  // 2. Each enabled agent: create, restart on spec change, respawn a dead pane.
  for (const a of enabled) {
    const decided = agentAction(a, obs.sessions.get(a.session), facts);
    if (decided) (decided.now ? actions : deferred).push(decided.action);
  }
  // 3. Prune: sessions tagged with this fleet that are no longer wanted here.
  for (const d of pruneActions(socket, obs, agents, holder, facts)) {
    if (facts.scope.pruneBlock && d.reason !== 'disabled') deferred.push({ ...d, reason: facts.scope.pruneBlock });
    else actions.push(d);
  }
  return { actions, deferred };
}

/** What one enabled agent's session needs, if anything: done now, or deferred. */
function agentAction(
  a: AgentSpec,
  pane: PaneInfo | undefined,
  facts: SocketFacts,
): { action: Action; now: boolean } | null {
  const { context } = facts;
  if (!pane) return { action: createAction(a, 'missing'), now: true };
  if (pane.fleet !== facts.input.desired.config.fleet) return null; // name taken by a session gitfleet does not own
  if (otherTenant(pane, context.tenant)) return null; // another tenant's reconciler owns it: never ours to restart
  const key = `${a.socket}/${a.session}`;
  if (pane.spec !== a.specHash) {
    // A dead pane has no context to lose: restart it whatever the policy; on-idle waits until the agent is idle.
    const idle =
      a.update === 'on-idle' ? idleness(a, pane, facts.input.observed.heartbeats.get(key), context.now) : null;
    // Which fields differ, from what tmux kept on the session; null when it kept nothing (an older session) or
    // fields that do not tell the hashes apart (kept by a gitfleet that hashed otherwise): unknown, not "none".
    const diff = pane.specFields ? diffSpecFields(pane.specFields, a.fields, a.redact) : [];
    const changes = diff.length > 0 ? diff : null;
    if (pane.dead || a.update === 'recreate' || idle?.idle) {
      const restart = createAction(a, 'spec_changed', 'restart_session', pane.spec, idle?.idle ? idle.why : undefined);
      return { action: { ...restart, detail: { ...restart.detail, changes } }, now: true };
    }
    const reason = a.update === 'manual' ? 'update_manual' : 'update_on_idle';
    const detail = {
      agent: a.name,
      specHash: a.specHash,
      runningSpec: pane.spec,
      changes,
      ...(idle ? { waiting: idle.why } : {}),
    };
    return { action: act('restart_session', a.socket, a.session, reason, {}, detail), now: false };
  }
  if (!pane.dead) return null;
  const respawn = respawnDecision(facts.previousAgents.get(key)?.backoff, context.now, context.backoff);
  const detail = { agent: a.name, exitStatus: pane.deadStatus, streak: respawn.streak };
  if (respawn.notBefore) {
    const waits = { ...detail, notBefore: respawn.notBefore };
    return { action: act('respawn_pane', a.socket, a.session, 'crash_loop_backoff', {}, waits), now: false };
  }
  return { action: act('respawn_pane', a.socket, a.session, 'pane_dead', {}, detail), now: true };
}

/** Deletes of the sessions tagged with this fleet that are not wanted here (the holder once no agent is). */
function pruneActions(
  socket: string,
  obs: Seen,
  agents: readonly AgentSpec[],
  holder: string | undefined,
  facts: SocketFacts,
): Action[] {
  const fleet = facts.input.desired.config.fleet;
  const enabled = agents.filter((a) => a.enabled);
  const wanted = new Set(enabled.map((a) => a.session));
  const bySession = new Map(agents.map((a) => [a.session, a]));
  const out: Action[] = [];
  const tenant = facts.context.tenant;
  const panes = [...obs.sessions.values()];
  // Another tenant's agents on this server still need its holder, whoever started it.
  const othersHere = panes.some((p) => p.fleet === fleet && p.role !== 'holder' && otherTenant(p, tenant));
  for (const pane of panes.sort((x, y) => (x.session < y.session ? -1 : 1))) {
    if (pane.fleet !== fleet || wanted.has(pane.session) || otherTenant(pane, tenant)) continue;
    const isHolder = pane.role === 'holder' || pane.session === holder;
    if (isHolder && (enabled.length > 0 || othersHere)) continue;
    const agent = bySession.get(pane.session);
    const declared = facts.declaredAnywhere.has(`${socket}/${pane.session}`);
    const reason = isHolder ? 'not_in_roster' : pruneReason(agent, declared);
    const role = isHolder ? 'holder' : 'agent';
    out.push(act('delete_session', socket, pane.session, reason, { role }, pane.agent ? { agent: pane.agent } : {}));
  }
  return out;
}

/**
 * A watch view (gitfleet agent watch) shares the session's windows: it must go with them, or the old runtime lives
 * on in it.
 */
function attachWatchers(actions: Action[], tmux: ReadonlyMap<string, SocketObservation>): void {
  // The watch views of each socket by the session they watch, gathered once: looking them up per action was
  // quadratic when many sessions restart at once.
  const views = new Map<string, Map<string, string[]>>();
  const viewsOn = (socket: string) => {
    let of = views.get(socket);
    if (!of) {
      of = new Map();
      const obs = tmux.get(socket);
      for (const p of obs?.ok ? obs.sessions.values() : []) {
        if (p.watchOf === null) continue;
        of.set(p.watchOf, [...(of.get(p.watchOf) ?? []), p.session]);
      }
      views.set(socket, of);
    }
    return of;
  };
  for (const a of actions) {
    if (a.kind !== 'delete_session' && a.kind !== 'restart_session') continue;
    const watchers = [...(viewsOn(a.apply.socket!).get(a.apply.session!) ?? [])].sort();
    if (watchers.length > 0) a.apply.watchers = watchers;
  }
}

function act(
  kind: ActionKind,
  socket: string,
  session: string,
  reason: Reason,
  apply: Partial<ApplyDetail> = {},
  detail: DisplayDetail = {},
): Action {
  return { kind, target: `${socket}/${session}`, reason, apply: { socket, session, ...apply }, detail };
}

function createAction(
  a: AgentSpec,
  reason: Reason,
  kind: ActionKind = 'create_session',
  runningSpec?: string | null,
  idle?: string,
): Action {
  return act(
    kind,
    a.socket,
    a.session,
    reason,
    { role: 'agent' },
    {
      ...(runningSpec !== undefined ? { runningSpec } : {}),
      ...(idle !== undefined ? { idle } : {}),
      agent: a.name,
      specHash: a.specHash,
      // Plan output and evidence show this; apply takes the real argv from the desired state.
      argv: maskArgv(a.argv, a.redact),
      cwd: a.cwd,
      envKeys: Object.keys(a.env),
    },
  );
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
