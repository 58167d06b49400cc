// `ps --json`: the fleet table's external shape (docs/formats.md), mapped
// field by field from src/ps.ts's rows. Pure.
import type { PsResult, PsRow, ReconcilerRow, UnmanagedRow } from '../ps.js';
import { type StatusSupervisorJson, supervisorJson } from './status-json.js';

/** Additive changes keep it; a rename, removal or change of meaning bumps it (docs/formats.md). */
export const PS_FORMAT_VERSION = 1;

export interface PsRowJson {
  name: string;
  host: string;
  tenant_id: string;
  socket: string;
  session: string;
  runtime: string;
  source: { kind: 'live' } | { kind: 'status'; commit: string; desiredRevision: string };
  /** The Ready condition's status: a Kubernetes condition status, so a string. */
  ready: 'True' | 'False' | 'Unknown';
  reason: string;
  /** The agent's state in the words `ps` and the dashboard use: Ready, Disabled, or why it is not ready. */
  state: string;
  pane: { alive: boolean; pid: number | null; command: string | null; exitStatus: number | null };
  unit: { name: string; active: string; enabled: string } | null;
  idleSeconds: number | null;
  heartbeat: { health: string; ageSeconds: number | null; status: string | null } | null;
  flags: string[];
}

export interface UnmanagedRowJson {
  host: string;
  tenant_id: string;
  socket: string;
  session: string;
  command: string;
  flags: string[];
}

export interface PsJson {
  formatVersion: number;
  fleet: string;
  host: string;
  supervisor: StatusSupervisorJson;
  agents: PsRowJson[];
  unmanaged: UnmanagedRowJson[];
  /** --all-hosts only: every reconciler of the repository and whether it still runs. */
  reconcilers?: ReconcilerJson[];
}

export interface ReconcilerJson {
  name: string;
  host: string;
  tenant: string;
  /** alive, stale (not seen for three of its schedule intervals), unknown (a status but no liveness ref). */
  state: 'alive' | 'stale' | 'unknown';
  lastSeen: string | null;
  staleSince: string | null;
  intervalSeconds: number | null;
}

export function renderPsJson(r: PsResult): PsJson {
  const sup = r.supervisor;
  return {
    formatVersion: PS_FORMAT_VERSION,
    fleet: r.fleet,
    host: r.host,
    supervisor: supervisorJson(sup),
    agents: r.agents.map(rowJson),
    unmanaged: r.unmanaged.map(unmanagedJson),
    ...(r.reconcilers ? { reconcilers: r.reconcilers.map(reconcilerJson) } : {}),
  };
}

function reconcilerJson(r: ReconcilerRow): ReconcilerJson {
  const iso = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
  return {
    name: r.name,
    host: r.host,
    tenant: r.tenant,
    state: r.state,
    lastSeen: iso(r.lastSeen),
    staleSince: iso(r.staleSince),
    intervalSeconds: r.intervalSeconds,
  };
}

function rowJson(r: PsRow): PsRowJson {
  const s = r.source;
  return {
    name: r.name,
    host: r.host,
    tenant_id: r.tenant_id,
    socket: r.socket,
    session: r.session,
    runtime: r.runtime,
    source:
      s.kind === 'live' ? { kind: 'live' } : { kind: 'status', commit: s.commit, desiredRevision: s.desiredRevision },
    ready: r.ready,
    reason: r.reason,
    state: r.state,
    pane: { alive: r.pane.alive, pid: r.pane.pid, command: r.pane.command, exitStatus: r.pane.exitStatus },
    unit: r.unit ? { name: r.unit.name, active: r.unit.active, enabled: r.unit.enabled } : null,
    idleSeconds: r.idleSeconds,
    heartbeat: r.heartbeat
      ? { health: r.heartbeat.health, ageSeconds: r.heartbeat.ageSeconds, status: r.heartbeat.status }
      : null,
    flags: [...r.flags],
  };
}

function unmanagedJson(u: UnmanagedRow): UnmanagedRowJson {
  return {
    host: u.host,
    tenant_id: u.tenant_id,
    socket: u.socket,
    session: u.session,
    command: u.command,
    flags: [...u.flags],
  };
}
