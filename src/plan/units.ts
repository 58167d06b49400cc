// supervisor: systemd — the session plan, carried out through units. Pure.
//
// The tmux planner decides what each agent needs (create, restart, delete,
// respawn); here each decision becomes unit work: a missing session is a
// unit to start, a spec change a unit to restart (after its spec file is
// rewritten), a pruned agent a unit to stop, disable and delete. On top come
// the files gitfleet keeps (templates, drop-ins, spec files), enabling what
// must survive a reboot, and one server unit per socket.
import path from 'node:path';
import type { AgentSpec } from '../desired/types.js';
import { sha256 } from '../hash.js';
import type { SocketObservation } from '../observe/tmux.js';
import type { UnitState } from '../observe/systemd.js';
import {
  agentTemplate,
  agentUnit,
  classifyUnit,
  dropInPath,
  holderTemplate,
  holderUnit,
  type GeneratedFile,
} from '../systemd/fleet-units.js';
import { specPath } from '../paths.js';
import { actionKind } from './action-kinds.js';
import type { PlanInput } from './input.js';
import type { Scope } from './scope.js';
import { pruneReason, type Action, type ApplyDetail, type DisplayDetail, type Reason } from './types.js';

export { supervisorInfo, TMUX_MODE, UP, type SupervisorInput } from './supervisor.js';
import { UP, type SupervisorInput } from './supervisor.js';

type SystemdMode = Extract<SupervisorInput, { mode: 'systemd' }>;
type Seen = Extract<SocketObservation, { ok: true }>;
interface Work {
  actions: Action[];
  deferred: Action[];
}

/** What every step reads: the manager's view of the fleet's units and files, and the questions asked of it. */
interface Units {
  fleet: string;
  sup: SystemdMode;
  /** Files gitfleet keeps, as they are on disk now (path → content). */
  onDisk: ReadonlyMap<string, string>;
  state(unit: string): UnitState | undefined;
  /** Active, enabled, or found on disk: a unit there is something to stop. */
  known(unit: string): boolean;
}

const isActive = (u: UnitState | undefined) => !!u && UP.includes(u.active);
// enabled-runtime lasts until the next reboot only: not enabled for boot.
const isEnabled = (u: UnitState | undefined) => u?.enabled === 'enabled';
// Session lifecycles the supervisor takes over: through units here.
const isSession = (a: Action) => actionKind(a.kind).supervised;

export function unitPlan(base: Work, input: PlanInput, scope: Scope, sup: SystemdMode): Work {
  if (!sup.observed.ok) return waitForManager(base);
  const seen = sup.observed;
  const u: Units = {
    fleet: input.desired.config.fleet,
    sup,
    onDisk: seen.files,
    state: (unit) => seen.units.get(unit),
    known: (unit) => seen.found.includes(unit) || isActive(seen.units.get(unit)) || isEnabled(seen.units.get(unit)),
  };
  // 1. The session plan, through units.
  const { work, starting } = throughUnits(base, u);
  const mentioned = new Set([...work.actions, ...work.deferred].map((a) => a.target));
  // 2. Agent units with no session left to delete: removed or disabled agents.
  const candidates = [...new Set([...seen.found, ...seen.units.keys()])].sort();
  for (const stop of orphanStops(candidates, mentioned, input, scope, u)) {
    if (scope.pruneBlock && stop.reason !== 'disabled') work.deferred.push({ ...stop, reason: scope.pruneBlock });
    else work.actions.push(stop);
  }
  // 3. Each enabled agent on an observed socket: its files, enabled for boot, its unit active while its session runs.
  const tmux = input.observed.tmux;
  const live = scope.agents.filter((a) => a.enabled && tmux.get(a.socket)?.ok);
  work.actions.push(...agentUnitWork(live, tmux, starting, mentioned, u));
  // 4. One server unit per socket with agents; stopped when none are left.
  for (const socket of scope.sockets) serverUnit(socket, tmux.get(socket), live, scope.pruneBlock, u, work);
  // 5. One daemon-reload after unit files were written or removed.
  const agentStops = work.actions.some((a) => a.kind === 'stop_unit' && a.apply.role === 'agent');
  if (agentStops || work.actions.some((a) => a.kind === 'install_unit' && a.detail.fileKind === 'unit')) {
    work.actions.push(unitAct('reload_units', 'systemd --user', 'units_changed', {}));
  }
  return work;
}

/** Without the manager nothing may be started or stopped: show what waits. */
function waitForManager(base: Work): Work {
  const waiting = base.actions
    .filter((a) => isSession(a) && a.apply.role !== 'holder')
    .map((a) => ({ ...a, reason: 'supervisor_unobserved' as const }));
  return {
    actions: base.actions.filter((a) => !isSession(a)),
    deferred: [...base.deferred.filter((a) => a.apply.role !== 'holder'), ...waiting],
  };
}

/**
 * Each session action as unit work: a create starts the agent's unit (or
 * restarts an active one whose session is gone), a restart restarts it, a
 * delete stops a unit that is there. Also returns the agents whose unit
 * starts or restarts now.
 */
function throughUnits(base: Work, u: Units): { work: Work; starting: Set<string> } {
  const work: Work = { actions: [], deferred: [] };
  const starting = new Set<string>();
  const mapOne = (a: Action, now: boolean): Action | null => {
    const { socket, session } = a.apply as Required<Pick<ApplyDetail, 'socket' | 'session'>>;
    // The server unit replaces the holder session; a holder session left by tmux mode is still deleted with its
    // last agent.
    if (a.apply.role === 'holder' && a.kind !== 'delete_session' && isSession(a)) return null;
    const unit = agentUnit(u.fleet, { socket, session });
    const apply = { ...a.apply, unit };
    if (a.kind === 'create_session') {
      starting.add(`${socket}/${session}`);
      if (isActive(u.state(unit)))
        return { ...a, kind: 'restart_unit', target: unit, reason: 'session_missing', apply };
      return { ...a, kind: 'start_unit', target: unit, apply };
    }
    if (a.kind === 'restart_session') {
      if (now) starting.add(`${socket}/${session}`);
      return { ...a, kind: 'restart_unit', target: unit, apply };
    }
    if (a.kind === 'delete_session' && u.known(unit)) {
      const watchers = a.apply.watchers ? { watchers: a.apply.watchers } : {};
      const agent = a.detail.agent ? { agent: a.detail.agent } : {};
      return stopAgent(socket, session, a.reason, { ...watchers, killSession: true }, agent, u);
    }
    return a;
  };
  for (const a of base.actions) {
    const m = mapOne(a, true);
    if (m) work.actions.push(m);
  }
  for (const a of base.deferred) {
    const m = mapOne(a, false);
    if (m) work.deferred.push(m);
  }
  return { work, starting };
}

/** Stops of agent units found here that no enabled agent of this host wants and no session action named. */
function orphanStops(
  candidates: readonly string[],
  mentioned: ReadonlySet<string>,
  input: PlanInput,
  scope: Scope,
  u: Units,
): Action[] {
  const tmux = input.observed.tmux;
  const byKey = new Map(scope.agents.map((a) => [`${a.socket}/${a.session}`, a]));
  const enabledHere = new Set(scope.agents.filter((a) => a.enabled).map((a) => `${a.socket}/${a.session}`));
  const declaredAnywhere = new Set(
    input.desired.rosters.flatMap((r) => r.agents.map((x) => `${x.socket}/${x.session}`)),
  );
  const out: Action[] = [];
  for (const unit of candidates) {
    const c = classifyUnit(u.fleet, unit);
    if (c?.role !== 'agent' || mentioned.has(unit) || enabledHere.has(`${c.socket}/${c.session}`) || !u.known(unit))
      continue;
    if (!scope.sockets.includes(c.socket) || !tmux.get(c.socket)?.ok) continue;
    const agent = byKey.get(`${c.socket}/${c.session}`);
    const declared = declaredAnywhere.has(`${c.socket}/${c.session}`);
    const seen = (tmux.get(c.socket) as Seen).sessions.get(c.session);
    // killSession: the session observed under this name is the fleet's own (never kill another's).
    const apply = { killSession: seen?.fleet === u.fleet };
    out.push(
      stopAgent(c.socket, c.session, pruneReason(agent, declared), apply, agent ? { agent: agent.name } : {}, u),
    );
  }
  return out;
}

/**
 * Each live agent: its files written where they differ, its unit enabled for boot and active while its session
 * runs.
 */
function agentUnitWork(
  live: readonly AgentSpec[],
  tmux: PlanInput['observed']['tmux'],
  starting: ReadonlySet<string>,
  mentioned: ReadonlySet<string>,
  u: Units,
): Action[] {
  const { fleet, sup } = u;
  const out: Action[] = [];
  const install = (f: GeneratedFile | undefined) => {
    const a = installAction(f, u);
    if (a) out.push(a);
  };
  if (live.length > 0) {
    install(sup.files.get(path.join(sup.unitDir, holderTemplate(fleet))));
    install(sup.files.get(path.join(sup.unitDir, agentTemplate(fleet))));
  }
  for (const a of live) {
    const key = `${a.socket}/${a.session}`;
    const pane = (tmux.get(a.socket) as Seen).sessions.get(a.session);
    if (pane && pane.fleet !== fleet) continue; // name taken by a session gitfleet does not own
    const unit = agentUnit(fleet, a);
    const state = u.state(unit);
    const runsDesired = !!pane && pane.spec === a.specHash;
    install(sup.files.get(dropInPath({ unitDir: sup.unitDir, fleet }, a)));
    // The spec file is what a reboot brings back: the spec that runs (or is being started), never one still
    // waiting for idle.
    if (starting.has(key) || runsDesired)
      install(sup.files.get(specPath(sup.stateDir, { fleet, socket: a.socket, session: a.session })));
    const apply = { socket: a.socket, session: a.session, role: 'agent' as const, unit };
    const detail = { agent: a.name };
    const fresh = !u.onDisk.has(dropInPath({ unitDir: sup.unitDir, fleet }, a)); // a unit gitfleet never set up before
    if (!isEnabled(state)) out.push(unitAct('enable_unit', unit, fresh ? 'missing' : 'unit_disabled', apply, detail));
    // Only over a live pane: a dead one is respawned (with backoff), not recreated by the unit's start.
    if (!starting.has(key) && runsDesired && !pane!.dead && !isActive(state) && !mentioned.has(unit))
      out.push(unitAct('start_unit', unit, 'unit_inactive', apply, detail));
  }
  return out;
}

/** A file gitfleet keeps, written when missing or different from what it would write. */
function installAction(f: GeneratedFile | undefined, u: Units): Action | null {
  if (!f) return null;
  const now = u.onDisk.get(f.path);
  if (now === f.content) return null;
  const reason = now === undefined ? 'file_missing' : 'file_changed';
  return unitAct('install_unit', f.path, reason, { file: f.path, sha256: sha256(f.content) }, { fileKind: f.kind });
}

/** A socket's server unit: up while it has live agents, else stopped (never over sessions we do not own). */
function serverUnit(
  socket: string,
  obs: SocketObservation | undefined,
  live: readonly AgentSpec[],
  pruneBlock: Reason | null,
  u: Units,
  work: Work,
): void {
  if (!obs?.ok) return;
  const unit = holderUnit(u.fleet, socket);
  const state = u.state(unit);
  const apply = { socket, role: 'holder' as const, unit };
  if (live.some((a) => a.socket === socket)) {
    const fresh = !u.onDisk.has(path.join(u.sup.unitDir, holderTemplate(u.fleet)));
    if (!isEnabled(state)) work.actions.push(unitAct('enable_unit', unit, fresh ? 'missing' : 'unit_disabled', apply));
    if (!isActive(state)) work.actions.push(unitAct('start_unit', unit, 'missing', apply));
  } else if (isActive(state) || isEnabled(state)) {
    const foreign = [...obs.sessions.values()].filter((p) => p.fleet !== u.fleet);
    const stop = unitAct('stop_unit', unit, 'not_in_roster', apply);
    if (pruneBlock) work.deferred.push({ ...stop, reason: pruneBlock });
    else if (foreign.length > 0) work.deferred.push({ ...stop, reason: 'unmanaged_sessions' });
    else work.actions.push(stop);
  }
}

/** Stop, disable and delete an agent's unit: its drop-in and spec file go once it is stopped. */
function stopAgent(
  socket: string,
  session: string,
  reason: Reason,
  apply: Partial<ApplyDetail>,
  detail: DisplayDetail,
  u: Units,
): Action {
  const unit = agentUnit(u.fleet, { socket, session });
  const removeFiles = [
    dropInPath({ unitDir: u.sup.unitDir, fleet: u.fleet }, { socket, session }),
    specPath(u.sup.stateDir, { fleet: u.fleet, socket, session }),
  ];
  return unitAct('stop_unit', unit, reason, { socket, session, role: 'agent', ...apply, unit, removeFiles }, detail);
}

function unitAct(
  kind: Action['kind'],
  target: string,
  reason: Reason,
  apply: ApplyDetail,
  detail: DisplayDetail = {},
): Action {
  return { kind, target, reason, apply: { ...apply }, detail: { ...detail } };
}
