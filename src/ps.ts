// The fleet table (`gitfleet ps`): one row per roster agent joining tmux,
// systemd, the process, idle time and heartbeat age, with flags. Live
// values (ages, idle time) are read now and never committed: they would
// change every run. Other hosts' rows come from their committed status.
import type { PlanContext } from './plan/input.js';
import { agentFlags, agentState } from './report/agent-state.js';
import { agentsInScope } from './plan/scope.js';
import { DEFAULT_BACKOFF } from './plan/crash-loop.js';
import { plan as makePlan } from './plan/plan.js';
import type { Observation, Source } from './reconcile.js';
import { buildStatus } from './status/build.js';
import { type AliveRecord, judge } from './status/liveness.js';
import type { AgentRecord, StatusDoc } from './status/types.js';

export interface PsRow {
  name: string;
  host: string;
  tenant_id: string;
  socket: string;
  session: string;
  runtime: string;
  /** Where the row comes from: this host, observed now, or another host's committed status. */
  source: { kind: 'live' } | { kind: 'status'; commit: string; desiredRevision: string };
  ready: 'True' | 'False' | 'Unknown';
  reason: string;
  /** The agent's state in the words the dashboard uses (report/agent-state.ts). */
  state: string;
  pane: { alive: boolean; pid: number | null; command: string | null; exitStatus: number | null };
  unit: { name: string; active: string; enabled: string } | null;
  /** Seconds since the pane last printed (live rows only). */
  idleSeconds: number | null;
  heartbeat: { health: string; ageSeconds: number | null; status: string | null } | null;
  flags: string[];
}

export interface UnmanagedRow {
  host: string;
  tenant_id: string;
  socket: string;
  session: string;
  command: string;
  flags: ['unmanaged'];
}

export interface PsResult {
  formatVersion: 1;
  fleet: string;
  host: string;
  supervisor: StatusDoc['supervisor'];
  agents: PsRow[];
  unmanaged: UnmanagedRow[];
  /** --all-hosts: every reconciler of the repository, alive, stale, or unknown (a status but no liveness ref). */
  reconcilers?: ReconcilerRow[];
}

export interface ReconcilerRow {
  /** Its status name: `<host>` or `<host>@<tenant>`. */
  name: string;
  host: string;
  tenant: string;
  state: 'alive' | 'stale' | 'unknown';
  lastSeen: Date | null;
  staleSince: Date | null;
  intervalSeconds: number | null;
}

/**
 * One row per reconciler: those with a liveness ref judged at `now`, and those with only a committed status
 * (a gitfleet from before liveness refs, or one not yet seen) as unknown. Pure.
 */
export function reconcilerRows(
  records: readonly AliveRecord[],
  statuses: readonly { name: string; host: string; tenant: string }[],
  now: Date,
): ReconcilerRow[] {
  const rows = records.map((r): ReconcilerRow => {
    const j = judge(r, now);
    const { name, host, tenant, intervalSeconds } = r;
    return { name, host, tenant, state: j.state, lastSeen: j.lastSeen, staleSince: j.staleSince, intervalSeconds };
  });
  for (const s of statuses)
    if (!records.some((r) => r.name === s.name))
      rows.push({ ...s, state: 'unknown', lastSeen: null, staleSince: null, intervalSeconds: null });
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** This host's rows: the status a reconcile would write now, plus live values. Pure. */
export function liveRows(src: Source, seen: Observation, opts: { host: string; tenant: string }, now: Date): PsResult {
  const policy: PlanContext = {
    host: opts.host,
    tenant: opts.tenant,
    now,
    desiredRevision: src.revision,
    backoff: DEFAULT_BACKOFF,
    pruneConfirmed: false,
  };
  const observed = { tmux: seen.tmux, supervisor: seen.supervisor.input, heartbeats: seen.heartbeats };
  const plan = makePlan({ desired: src.desired, observed, previous: src.previous }, policy);
  const status = buildStatus({ desired: src.desired, plan, observed, results: [], previous: src.previous }, policy);
  const specs = new Map(agentsInScope(src.desired, opts).map((a) => [`${a.socket}/${a.session}`, a]));
  const agents = status.agents.map((r) => {
    const key = `${r.socket}/${r.session.name}`;
    const obs = seen.tmux.get(r.socket);
    const pane = obs?.ok ? obs.sessions.get(r.session.name) : undefined;
    const hb = seen.heartbeats.get(key);
    const row = rowFrom(r, { kind: 'live' });
    row.idleSeconds =
      pane?.activity != null && r.session.alive ? Math.max(0, Math.floor(now.getTime() / 1000) - pane.activity) : null;
    row.heartbeat =
      specs.get(key)?.heartbeatInterval != null && hb
        ? {
            health: hb.health,
            ageSeconds: hb.ageSeconds === null ? null : Math.round(hb.ageSeconds),
            status: hb.status,
          }
        : null;
    return row;
  });
  const unmanaged = status.unmanaged.map(
    (u): UnmanagedRow => ({
      host: opts.host,
      tenant_id: opts.tenant,
      socket: u.socket,
      session: u.session,
      command: u.command,
      flags: ['unmanaged'],
    }),
  );
  return { formatVersion: 1, fleet: status.fleet, host: opts.host, supervisor: status.supervisor, agents, unmanaged };
}

/** Rows of another host, from its committed status (no live values). */
export function statusRows(doc: StatusDoc, commit: string): PsRow[] {
  return doc.agents.map((r) => rowFrom(r, { kind: 'status', commit, desiredRevision: doc.desiredRevision }));
}

function rowFrom(r: AgentRecord, source: PsRow['source']): PsRow {
  const ready = r.conditions.find((c) => c.type === 'Ready');
  return {
    name: r.name,
    host: r.host,
    tenant_id: r.tenant_id,
    socket: r.socket,
    session: r.session.name,
    runtime: r.runtime,
    source,
    ready: ready?.status ?? 'Unknown',
    reason: ready?.reason ?? '',
    state: agentState(r),
    pane: { alive: r.session.alive, pid: r.session.pid, command: r.session.command, exitStatus: r.session.exitStatus },
    unit: r.unit ? { name: r.unit.name, active: r.unit.active, enabled: r.unit.enabled } : null,
    idleSeconds: null,
    heartbeat: r.heartbeat ? { health: r.heartbeat.health, ageSeconds: null, status: null } : null,
    flags: agentFlags(r),
  };
}
