// status/<host>.json (and `status --json`): the status's external shape
// (docs/formats.md), mapped field by field from the internal StatusDoc
// (src/status/types.ts). Other hosts and the next run read this file, so the
// keys and their order are today's: an unchanged status renders to the same
// bytes and makes no commit. status/read.ts parses it back. Pure.
import type {
  AgentRecord,
  Condition,
  FileRecord,
  SocketRecord,
  StatusDoc,
  SupervisorStatus,
  UnitRecord,
} from '../status/types.js';
import { type HeldPruneJson, heldPruneJson, type ProblemJson, problemJson } from './plan-json.js';

/** Additive changes keep it; a rename, removal or change of meaning bumps it (docs/formats.md). */
export const STATUS_FORMAT_VERSION = 1;

export interface ConditionJson {
  type: string;
  /** A Kubernetes condition status: a string, not a boolean. */
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface UnitJson {
  name: string;
  active: string;
  sub: string;
  enabled: string;
}

export interface AgentJson {
  name: string;
  host: string;
  tenant_id: string;
  socket: string;
  runtime: string;
  source: string;
  enabled: boolean;
  specHash: string;
  session: {
    name: string;
    alive: boolean;
    pid: number | null;
    command: string | null;
    exitStatus: number | null;
    spec: string | null;
  };
  heartbeat: { intervalSeconds: number; health: 'healthy' | 'stale' | 'unknown' | 'invalid' } | null;
  unit: UnitJson | null;
  restarts: number;
  backoff: { streak: number; lastRestart: string } | null;
  conditions: ConditionJson[];
}

export interface SocketJson {
  name: string;
  observed: boolean;
  error: string | null;
  serverRunning: boolean;
  serverPid: number | null;
  holder: string;
  unit: (UnitJson & { restarts: number | null }) | null;
}

export interface StatusSupervisorJson {
  mode: 'systemd' | 'tmux';
  reason: string;
  observed: boolean;
  error: string | null;
  linger: boolean | null;
  lingerFix: string | null;
}

export interface FileJson {
  path: string;
  blob: string | null;
  valid: boolean;
  usingLastKnownGood: boolean;
  problems: ProblemJson[];
}

export interface StatusJson {
  formatVersion: number;
  fleet: string;
  host: string;
  tenant_id: string;
  desiredRevision: string;
  converged: boolean;
  /** Present only while the fleet is not converged merely because agents are starting (Progressing). */
  progressing?: true;
  summary: { agents: number; ready: number; notReady: number; disabled: number; unmanaged: number; errors: number };
  supervisor: StatusSupervisorJson;
  agents: AgentJson[];
  sockets: SocketJson[];
  unmanaged: { socket: string; session: string; command: string; fleet: string | null }[];
  files: FileJson[];
  errors: ProblemJson[];
  /** Present only while deletes are held. */
  pruneHeld?: HeldPruneJson[];
  /** Present only while another reconciler of the repository is stale. */
  staleReconcilers?: StaleReconcilerJson[];
}

export interface StaleReconcilerJson {
  host: string;
  tenant: string;
  lastSeen: string;
  staleSince: string;
}

export function renderStatusJson(s: StatusDoc): StatusJson {
  const m = s.summary;
  const sup = s.supervisor;
  return {
    formatVersion: STATUS_FORMAT_VERSION,
    fleet: s.fleet,
    host: s.host,
    tenant_id: s.tenant_id,
    desiredRevision: s.desiredRevision,
    converged: s.converged,
    ...(s.progressing ? { progressing: true as const } : {}),
    summary: {
      agents: m.agents,
      ready: m.ready,
      notReady: m.notReady,
      disabled: m.disabled,
      unmanaged: m.unmanaged,
      errors: m.errors,
    },
    supervisor: supervisorJson(sup),
    agents: s.agents.map(agentJson),
    sockets: s.sockets.map(socketJson),
    unmanaged: s.unmanaged.map((u) => ({ socket: u.socket, session: u.session, command: u.command, fleet: u.fleet })),
    files: s.files.map(fileJson),
    errors: s.errors.map(problemJson),
    ...(s.pruneHeld && s.pruneHeld.length > 0 ? { pruneHeld: s.pruneHeld.map(heldPruneJson) } : {}),
    ...(s.staleReconcilers && s.staleReconcilers.length > 0
      ? {
          staleReconcilers: s.staleReconcilers.map((r) => ({
            host: r.host,
            tenant: r.tenant,
            lastSeen: r.lastSeen,
            staleSince: r.staleSince,
          })),
        }
      : {}),
  };
}

/** The file's text: two-space JSON and a final newline, as every status gitfleet wrote. */
export function statusFileText(s: StatusDoc): string {
  return `${JSON.stringify(renderStatusJson(s), null, 2)}\n`;
}

function agentJson(a: AgentRecord): AgentJson {
  const x = a.session;
  return {
    name: a.name,
    host: a.host,
    tenant_id: a.tenant_id,
    socket: a.socket,
    runtime: a.runtime,
    source: a.source,
    enabled: a.enabled,
    specHash: a.specHash,
    session: {
      name: x.name,
      alive: x.alive,
      pid: x.pid,
      command: x.command,
      exitStatus: x.exitStatus,
      spec: x.spec,
    },
    heartbeat: a.heartbeat ? { intervalSeconds: a.heartbeat.intervalSeconds, health: a.heartbeat.health } : null,
    unit: a.unit ? unitJson(a.unit) : null,
    restarts: a.restarts,
    backoff: a.backoff ? { streak: a.backoff.streak, lastRestart: a.backoff.lastRestart } : null,
    conditions: a.conditions.map(conditionJson),
  };
}

function conditionJson(c: Condition): ConditionJson {
  return {
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime: c.lastTransitionTime,
  };
}

/** Shared with ps --json: what keeps the agents running, and whether it could be observed. */
export function supervisorJson(sup: SupervisorStatus): StatusSupervisorJson {
  const { mode, reason, observed, error, linger, lingerFix } = sup;
  return { mode, reason, observed, error, linger, lingerFix };
}

function unitJson(u: UnitRecord): UnitJson {
  return { name: u.name, active: u.active, sub: u.sub, enabled: u.enabled };
}

function socketJson(s: SocketRecord): SocketJson {
  return {
    name: s.name,
    observed: s.observed,
    error: s.error,
    serverRunning: s.serverRunning,
    serverPid: s.serverPid,
    holder: s.holder,
    unit: s.unit ? { ...unitJson(s.unit), restarts: s.unit.restarts } : null,
  };
}

function fileJson(f: FileRecord): FileJson {
  return {
    path: f.path,
    blob: f.blob,
    valid: f.valid,
    usingLastKnownGood: f.usingLastKnownGood,
    problems: f.problems.map(problemJson),
  };
}
