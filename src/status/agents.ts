// One AgentRecord per agent in scope: what the roster declares, what tmux
// (and systemd) show after apply, what this run did, the crash streak
// (plan/crash-loop.ts, shared with the planner) and the conditions that
// follow (conditions.ts). Pure.
import type { ActionResult } from '../apply/types.js';
import type { AgentSpec, FileState } from '../desired/types.js';
import type { HeartbeatJudgement } from '../heartbeat/protocol.js';
import { actionKind } from '../plan/action-kinds.js';
import { nextBackoff } from '../plan/crash-loop.js';
import type { PlanContext } from '../plan/input.js';
import { agentsInScope } from '../plan/scope.js';
import type { Action } from '../plan/types.js';
import { otherTenant } from '../fleet-identity.js';
import { agentUnit } from '../systemd/fleet-units.js';
import { withTransitionTime } from './condition-kinds.js';
import { agentConditions, type AgentFacts } from './conditions.js';
import type { StatusInput } from './input.js';
import { unitRecord } from './supervisor.js';
import type { AgentRecord } from './types.js';

const UNKNOWN_BEAT: HeartbeatJudgement = { health: 'unknown', ageSeconds: null, status: null, pid: null, error: null };

/** What this run knows per agent, by `<socket>/<session>`. */
interface AgentIndex {
  previous: Map<string, AgentRecord>;
  /** In systemd mode one agent may have several actions (enable, start). */
  results: Map<string, ActionResult[]>;
  deferred: Map<string, Action>;
  /** Invalid files whose last valid version is in force, by path. */
  invalidFiles: Map<string, FileState>;
}

const agentKey = (a: { apply: { socket?: string; session?: string } }) => `${a.apply.socket}/${a.apply.session}`;

function indexRun(input: StatusInput): AgentIndex {
  const results = new Map<string, ActionResult[]>();
  for (const r of input.results)
    if (r.action.apply.session) results.set(agentKey(r.action), [...(results.get(agentKey(r.action)) ?? []), r]);
  return {
    previous: new Map((input.previous?.agents ?? []).map((r) => [`${r.socket}/${r.session.name}`, r])),
    results,
    deferred: new Map(input.plan.deferred.filter((d) => d.apply.session).map((d) => [agentKey(d), d])),
    invalidFiles: new Map(input.desired.files.filter((f) => f.usingLastKnownGood).map((f) => [f.path, f])),
  };
}

/** The records of the agents this host and tenant run, by name (then socket). */
export function agentRecords(input: StatusInput, context: PlanContext): AgentRecord[] {
  const index = indexRun(input);
  return agentsInScope(input.desired, context)
    .map((a) => agentRecord(a, input, context, index))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.socket < y.socket ? -1 : 1));
}

function agentFacts(a: AgentSpec, input: StatusInput, context: PlanContext, index: AgentIndex): AgentFacts {
  const { desired, observed } = input;
  const key = `${a.socket}/${a.session}`;
  const fleet = desired.config.fleet;
  const socket = observed.tmux.get(a.socket);
  const pane = socket?.ok ? socket.sessions.get(a.session) : undefined;
  // Another tenant's session of the same name is not this agent's, though tagged with this fleet (plan/sessions.ts).
  const ours = pane?.fleet === fleet && !otherTenant(pane, context.tenant);
  const mine = index.results.get(key) ?? [];
  const failed = mine.find((r) => !r.ok);
  const done = failed ? undefined : mine.find((r) => actionKind(r.action.kind).lifecycle)?.action;
  const previous = index.previous.get(key);
  const { restarts, backoff } = nextBackoff(previous, done, !!pane && !pane.dead, context.now);
  return {
    agent: a,
    fleet,
    socket,
    pane,
    ours,
    live: ours && pane && !pane.dead ? pane : undefined,
    heartbeat: a.heartbeatInterval !== null && a.enabled ? (observed.heartbeats.get(key) ?? UNKNOWN_BEAT) : undefined,
    failed,
    done,
    deferred: index.deferred.get(key),
    restarts,
    backoff,
    supervisor: observed.supervisor,
    unit: a.enabled ? unitRecord(observed.supervisor, agentUnit(fleet, a)) : null,
    invalidSource: index.invalidFiles.get(a.source.file),
    now: context.now,
  };
}

function agentRecord(a: AgentSpec, input: StatusInput, context: PlanContext, index: AgentIndex): AgentRecord {
  const f = agentFacts(a, input, context, index);
  const previous = index.previous.get(`${a.socket}/${a.session}`);
  const now = context.now.toISOString();
  return {
    name: a.name,
    host: context.host,
    tenant_id: a.tenant ?? context.tenant,
    socket: a.socket,
    runtime: a.runtime,
    source: `${a.source.file}:${a.source.line}`,
    enabled: a.enabled,
    specHash: a.specHash,
    session: {
      name: a.session,
      alive: !!f.live,
      pid: f.live?.pid ?? null,
      command: f.live?.currentCommand ?? null,
      exitStatus: f.ours && f.pane?.dead ? f.pane.deadStatus : null,
      spec: f.ours ? (f.pane?.spec ?? null) : null,
    },
    heartbeat: f.heartbeat && a.heartbeatInterval !== null ? heartbeatRecord(a.heartbeatInterval, f.heartbeat) : null,
    unit: f.unit,
    restarts: f.restarts,
    backoff: f.backoff,
    conditions: agentConditions(f).map((c) => withTransitionTime(c, previous?.conditions, now)),
  };
}

/** No ages: they would change the status every run. */
const heartbeatRecord = (intervalSeconds: number, hb: HeartbeatJudgement): AgentRecord['heartbeat'] => ({
  intervalSeconds,
  health: hb.health,
});
