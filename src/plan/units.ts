// supervisor: systemd — the session plan, carried out through units. Pure.
//
// The tmux planner decides what each agent needs (create, restart, delete,
// respawn); here each decision becomes unit work: a missing session is a
// unit to start, a spec change a unit to restart (after its spec file is
// rewritten), a pruned agent a unit to stop, disable and delete. On top come
// the files gitfleet keeps (templates, drop-ins, spec files), enabling what
// must survive a reboot, and one server unit per socket.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { AgentSpec, DesiredState } from '../desired/types.js';
import type { SocketObservation } from '../observe/tmux.js';
import type { SystemdObservation, UnitState } from '../observe/systemd.js';
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
import { pruneReason, type Action, type ActionDetail, type Reason, type SupervisorInfo } from './types.js';

export type SupervisorInput =
  | { mode: 'tmux'; reason: string }
  | {
      mode: 'systemd';
      reason: string;
      observed: SystemdObservation;
      /** Every file gitfleet would write (templates, each enabled agent's drop-in and spec), by path. */
      files: ReadonlyMap<string, GeneratedFile>;
      unitDir: string;
      stateDir: string;
    };

/** Unit states counted as running: the planner does not start them again, the status does not call them inactive. */
export const UP: readonly string[] = ['active', 'reloading', 'activating'];

export const TMUX_MODE: SupervisorInput = { mode: 'tmux', reason: 'default' };

export function supervisorInfo(s: SupervisorInput): SupervisorInfo {
  if (s.mode === 'tmux') return { mode: 'tmux', reason: s.reason, observed: true, error: null };
  return { mode: 'systemd', reason: s.reason, observed: s.observed.ok, error: s.observed.ok ? null : s.observed.error };
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

interface UnitPlanInput {
  desired: DesiredState;
  /** In-scope agents (this host and tenant). */
  agents: readonly AgentSpec[];
  observed: ReadonlyMap<string, SocketObservation>;
  /** Sockets gitfleet looks at (declared now or managed before). */
  sockets: readonly string[];
  pruneBlock: Reason | null;
  sup: Extract<SupervisorInput, { mode: 'systemd' }>;
}

export function unitPlan(
  base: { actions: Action[]; deferred: Action[] },
  input: UnitPlanInput,
): { actions: Action[]; deferred: Action[] } {
  const { desired, agents, observed, sup } = input;
  const fleet = desired.config.fleet;
  // Session lifecycles the supervisor takes over: through units here.
  const isSession = (a: Action) => actionKind(a.kind).supervised;

  if (!sup.observed.ok) {
    // Without the manager nothing may be started or stopped: show what waits.
    const waiting = base.actions
      .filter((a) => isSession(a) && a.detail.role !== 'holder')
      .map((a) => ({ ...a, reason: 'supervisor_unobserved' as const }));
    return {
      actions: base.actions.filter((a) => !isSession(a)),
      deferred: [...base.deferred.filter((a) => a.detail.role !== 'holder'), ...waiting],
    };
  }
  const units = sup.observed.units;
  const files = sup.observed.files;
  const byKey = new Map(agents.map((a) => [`${a.socket}/${a.session}`, a]));
  const state = (unit: string): UnitState | undefined => units.get(unit);
  const isActive = (u: UnitState | undefined) => !!u && UP.includes(u.active);
  // enabled-runtime lasts until the next reboot only: not enabled for boot.
  const isEnabled = (u: UnitState | undefined) => u?.enabled === 'enabled';
  const known = (unit: string) =>
    sup.observed.ok && (sup.observed.found.includes(unit) || isActive(state(unit)) || isEnabled(state(unit)));

  const actions: Action[] = [];
  const deferred: Action[] = [];
  const starting = new Set<string>(); // agents whose unit starts or restarts now

  // killSession: the session observed under this name is the fleet's own (never kill another's).
  const stopAgent = (socket: string, session: string, reason: Reason, extra: Partial<ActionDetail>): Action => {
    const unit = agentUnit(fleet, { socket, session });
    const removeFiles = [
      dropInPath({ unitDir: sup.unitDir, fleet }, { socket, session }),
      specPath(sup.stateDir, { fleet, socket, session }),
    ];
    return unitAct('stop_unit', unit, reason, { socket, session, role: 'agent', ...extra, unit, removeFiles });
  };

  // 1. The session plan, through units.
  const mapOne = (a: Action, into: Action[]) => {
    const { socket, session } = a.detail as Required<Pick<ActionDetail, 'socket' | 'session'>>;
    // The server unit replaces the holder session; a holder session left by tmux mode is still deleted with its last agent.
    if (a.detail.role === 'holder' && a.kind !== 'delete_session' && isSession(a)) return;
    const unit = agentUnit(fleet, { socket, session });
    if (a.kind === 'create_session') {
      starting.add(`${socket}/${session}`);
      if (isActive(state(unit)))
        into.push({
          ...a,
          kind: 'restart_unit',
          target: unit,
          reason: 'session_missing',
          detail: { ...a.detail, unit },
        });
      else into.push({ ...a, kind: 'start_unit', target: unit, detail: { ...a.detail, unit } });
    } else if (a.kind === 'restart_session') {
      if (into === actions) starting.add(`${socket}/${session}`);
      into.push({ ...a, kind: 'restart_unit', target: unit, detail: { ...a.detail, unit } });
    } else if (a.kind === 'delete_session' && known(unit)) {
      into.push(
        stopAgent(socket, session, a.reason, {
          ...(a.detail.agent ? { agent: a.detail.agent } : {}),
          ...(a.detail.watchers ? { watchers: a.detail.watchers } : {}),
          killSession: true,
        }),
      );
    } else into.push(a);
  };
  for (const a of base.actions) mapOne(a, actions);
  for (const a of base.deferred) mapOne(a, deferred);

  // 2. Agent units with no session left to delete: removed or disabled agents.
  const enabledHere = new Set(agents.filter((a) => a.enabled).map((a) => `${a.socket}/${a.session}`));
  const mentioned = new Set([...actions, ...deferred].map((a) => a.target));
  const candidates = new Set([...sup.observed.found, ...units.keys()]);
  for (const unit of [...candidates].sort()) {
    const c = classifyUnit(fleet, unit);
    if (c?.role !== 'agent' || mentioned.has(unit) || enabledHere.has(`${c.socket}/${c.session}`) || !known(unit))
      continue;
    if (!input.sockets.includes(c.socket) || !observed.get(c.socket)?.ok) continue;
    const agent = byKey.get(`${c.socket}/${c.session}`);
    const declared = desired.rosters.some((r) =>
      r.agents.some((x) => x.socket === c.socket && x.session === c.session),
    );
    const reason: Reason = pruneReason(agent, declared);
    const seen = (observed.get(c.socket) as Extract<SocketObservation, { ok: true }>).sessions.get(c.session);
    const stop = stopAgent(c.socket, c.session, reason, {
      ...(agent ? { agent: agent.name } : {}),
      killSession: seen?.fleet === fleet,
    });
    if (input.pruneBlock && reason !== 'disabled') deferred.push({ ...stop, reason: input.pruneBlock });
    else actions.push(stop);
  }

  // 3. Each enabled agent: its files, enabled for boot, its unit active while its session runs.
  const install = (f: GeneratedFile | undefined) => {
    if (!f) return;
    const now = files.get(f.path);
    if (now === f.content) return;
    actions.push(
      unitAct('install_unit', f.path, now === undefined ? 'file_missing' : 'file_changed', {
        file: f.path,
        fileKind: f.kind,
        sha256: sha256(f.content),
      }),
    );
  };
  const live = agents.filter((a) => a.enabled && observed.get(a.socket)?.ok);
  if (live.length > 0) {
    install(sup.files.get(path.join(sup.unitDir, holderTemplate(fleet))));
    install(sup.files.get(path.join(sup.unitDir, agentTemplate(fleet))));
  }
  for (const a of live) {
    const key = `${a.socket}/${a.session}`;
    const obs = observed.get(a.socket) as Extract<SocketObservation, { ok: true }>;
    const pane = obs.sessions.get(a.session);
    if (pane && pane.fleet !== fleet) continue; // name taken by a session gitfleet does not own
    const unit = agentUnit(fleet, a);
    const u = state(unit);
    const runsDesired = !!pane && pane.spec === a.specHash;
    install(sup.files.get(dropInPath({ unitDir: sup.unitDir, fleet }, a)));
    // The spec file is what a reboot brings back: the spec that runs (or is being started), never one still waiting for idle.
    if (starting.has(key) || runsDesired)
      install(sup.files.get(specPath(sup.stateDir, { fleet, socket: a.socket, session: a.session })));
    const detail = { socket: a.socket, session: a.session, agent: a.name, role: 'agent' as const, unit };
    const fresh = !files.has(dropInPath({ unitDir: sup.unitDir, fleet }, a)); // a unit gitfleet never set up before
    if (!isEnabled(u)) actions.push(unitAct('enable_unit', unit, fresh ? 'missing' : 'unit_disabled', detail));
    // Only over a live pane: a dead one is respawned (with backoff), not recreated by the unit's start.
    if (!starting.has(key) && runsDesired && !pane!.dead && !isActive(u) && !mentioned.has(unit))
      actions.push(unitAct('start_unit', unit, 'unit_inactive', detail));
  }

  // 4. One server unit per socket with agents; stopped when none are left (never over sessions we do not own).
  for (const socket of input.sockets) {
    const obs = observed.get(socket);
    if (!obs?.ok) continue;
    const unit = holderUnit(fleet, socket);
    const u = state(unit);
    const detail = { socket, role: 'holder' as const, unit };
    if (live.some((a) => a.socket === socket)) {
      const fresh = !files.has(path.join(sup.unitDir, holderTemplate(fleet)));
      if (!isEnabled(u)) actions.push(unitAct('enable_unit', unit, fresh ? 'missing' : 'unit_disabled', detail));
      if (!isActive(u)) actions.push(unitAct('start_unit', unit, 'missing', detail));
    } else if (isActive(u) || isEnabled(u)) {
      const foreign = [...obs.sessions.values()].filter((p) => p.fleet !== fleet);
      const stop = unitAct('stop_unit', unit, 'not_in_roster', detail);
      if (input.pruneBlock) deferred.push({ ...stop, reason: input.pruneBlock });
      else if (foreign.length > 0) deferred.push({ ...stop, reason: 'unmanaged_sessions' });
      else actions.push(stop);
    }
  }

  // 5. One daemon-reload after unit files were written or removed.
  const agentStops = actions.some((a) => a.kind === 'stop_unit' && a.detail.role === 'agent');
  if (agentStops || actions.some((a) => a.kind === 'install_unit' && a.detail.fileKind === 'unit')) {
    actions.push(unitAct('reload_units', 'systemd --user', 'units_changed', {}));
  }
  return { actions, deferred };
}

function unitAct(kind: Action['kind'], target: string, reason: Reason, detail: Partial<ActionDetail>): Action {
  return { kind, target, reason, detail: { ...detail } };
}
