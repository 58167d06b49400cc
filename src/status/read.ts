// Read a host's committed status (the last one written). The file is the
// external status format (docs/formats.md, written by report/status-json.ts);
// parseStatusJson checks it field by field and turns it into the internal
// StatusDoc, so the two can diverge. Older files lack fields added since:
// those get the value that means "not known then".
import type { Problem } from '../errors.js';
import type { Repo } from '../git/repo.js';
import type { HeldPrune } from '../plan/types.js';
import type { StaleReconciler } from './liveness.js';
import type { Condition, ConditionReason, ConditionStatus, ConditionType } from './condition-kinds.js';
import type {
  AgentRecord,
  FileRecord,
  SocketRecord,
  StatusDoc,
  SupervisorStatus,
  UnitRecord,
  UnmanagedSession,
} from './types.js';

/** A reconciler's status files, by its status name (statusName). */
export const statusPaths = (name: string) => ({ json: `status/${name}.json`, md: `status/${name}.md` });

/**
 * The name of a reconciler's status files and evidence folder. Several tenants (users) may reconcile one host:
 * `status/<host>.json` belongs to the first tenant that wrote it (its `tenant_id`), and every other tenant of that
 * host writes `status/<host>@<tenant>.json`. So no two reconcilers write one file, and a host with one tenant keeps
 * the plain names people look for.
 */
export function statusName(host: string, tenant: string, plainOwner: string | null): string {
  return plainOwner === null || plainOwner === tenant ? host : `${host}@${tenant}`;
}

/** This reconciler's status name at `commit` (null: no status branch yet), and its last status there. */
export async function ownStatus(
  repo: Repo,
  commit: string | null,
  host: string,
  tenant: string,
): Promise<{ name: string; previous: StatusDoc | null }> {
  if (!commit) return { name: host, previous: null };
  const plain = await readStatus(repo, commit, host);
  const name = statusName(host, tenant, plain?.tenant_id ?? null);
  return { name, previous: name === host ? plain : await readStatus(repo, commit, name) };
}

/** The committed status named `name` (statusName), or null when absent or not a status we can read. */
export async function readStatus(repo: Repo, commit: string, name: string): Promise<StatusDoc | null> {
  const file = await repo.readFileAt(commit, statusPaths(name).json);
  if (!file) return null;
  try {
    return parseStatusJson(JSON.parse(file.text));
  } catch {
    return null;
  }
}

/** The status a status file holds; throws NotAStatus naming the first field that is wrong. */
export function parseStatusJson(value: unknown): StatusDoc {
  const o = obj(value, 'status');
  if (o.formatVersion !== 1) throw new NotAStatus(`formatVersion ${JSON.stringify(o.formatVersion)}: reads 1`);
  const m = obj(o.summary, 'summary');
  const doc: StatusDoc = {
    formatVersion: 1,
    fleet: str(o.fleet, 'fleet'),
    host: str(o.host, 'host'),
    tenant_id: str(o.tenant_id, 'tenant_id'),
    desiredRevision: str(o.desiredRevision, 'desiredRevision'),
    converged: bool(o.converged, 'converged'),
    summary: {
      agents: num(m.agents, 'summary.agents'),
      ready: num(m.ready, 'summary.ready'),
      notReady: num(m.notReady, 'summary.notReady'),
      disabled: num(m.disabled, 'summary.disabled'),
      unmanaged: num(m.unmanaged, 'summary.unmanaged'),
      errors: num(m.errors, 'summary.errors'),
    },
    // Older files: tmux mode, the only supervisor then.
    supervisor: o.supervisor === undefined ? NO_SUPERVISOR : supervisor(o.supervisor),
    agents: arr(o.agents, 'agents', agent),
    sockets: arr(o.sockets, 'sockets', socket),
    unmanaged: arr(o.unmanaged, 'unmanaged', unmanaged),
    files: arr(o.files, 'files', file),
    errors: arr(o.errors, 'errors', problem),
  };
  if (o.progressing !== undefined && bool(o.progressing, 'progressing')) doc.progressing = true;
  if (o.pruneHeld !== undefined) doc.pruneHeld = arr(o.pruneHeld, 'pruneHeld', heldPrune);
  if (o.staleReconcilers !== undefined) doc.staleReconcilers = arr(o.staleReconcilers, 'staleReconcilers', stale);
  return doc;
}

export class NotAStatus extends Error {}

const NO_SUPERVISOR: SupervisorStatus = {
  mode: 'tmux',
  reason: 'not recorded (older status file)',
  observed: true,
  error: null,
  linger: null,
  lingerFix: null,
};

function supervisor(v: unknown): SupervisorStatus {
  const s = obj(v, 'supervisor');
  return {
    mode: str(s.mode, 'supervisor.mode') as SupervisorStatus['mode'],
    reason: str(s.reason, 'supervisor.reason'),
    observed: bool(s.observed, 'supervisor.observed'),
    error: orNull(s.error, 'supervisor.error', str),
    linger: s.linger === undefined ? null : orNull(s.linger, 'supervisor.linger', bool),
    lingerFix: s.lingerFix === undefined ? null : orNull(s.lingerFix, 'supervisor.lingerFix', str),
  };
}

function agent(v: unknown, at: string): AgentRecord {
  const a = obj(v, at);
  const s = obj(a.session, `${at}.session`);
  return {
    name: str(a.name, `${at}.name`),
    host: str(a.host, `${at}.host`),
    tenant_id: str(a.tenant_id, `${at}.tenant_id`),
    socket: str(a.socket, `${at}.socket`),
    runtime: str(a.runtime, `${at}.runtime`),
    source: str(a.source, `${at}.source`),
    enabled: bool(a.enabled, `${at}.enabled`),
    specHash: str(a.specHash, `${at}.specHash`),
    session: {
      name: str(s.name, `${at}.session.name`),
      alive: bool(s.alive, `${at}.session.alive`),
      pid: orNull(s.pid, `${at}.session.pid`, num),
      command: orNull(s.command, `${at}.session.command`, str),
      exitStatus: orNull(s.exitStatus, `${at}.session.exitStatus`, num),
      spec: orNull(s.spec, `${at}.session.spec`, str),
    },
    // Added with heartbeats and supervisor: systemd; absent means none.
    heartbeat: a.heartbeat === undefined ? null : orNull(a.heartbeat, `${at}.heartbeat`, heartbeat),
    unit: a.unit === undefined ? null : orNull(a.unit, `${at}.unit`, unit),
    restarts: num(a.restarts, `${at}.restarts`),
    backoff: orNull(a.backoff, `${at}.backoff`, (b, w) => {
      const x = obj(b, w);
      return { streak: num(x.streak, `${w}.streak`), lastRestart: str(x.lastRestart, `${w}.lastRestart`) };
    }),
    conditions: arr(a.conditions, `${at}.conditions`, condition),
  };
}

function heartbeat(v: unknown, at: string): NonNullable<AgentRecord['heartbeat']> {
  const h = obj(v, at);
  return {
    intervalSeconds: num(h.intervalSeconds, `${at}.intervalSeconds`),
    health: str(h.health, `${at}.health`) as NonNullable<AgentRecord['heartbeat']>['health'],
  };
}

function unit(v: unknown, at: string): UnitRecord {
  const u = obj(v, at);
  return {
    name: str(u.name, `${at}.name`),
    active: str(u.active, `${at}.active`),
    sub: str(u.sub, `${at}.sub`),
    enabled: str(u.enabled, `${at}.enabled`),
  };
}

const CONDITION_STATUSES: readonly unknown[] = ['True', 'False', 'Unknown'] satisfies ConditionStatus[];

function condition(v: unknown, at: string): Condition {
  const c = obj(v, at);
  if (!CONDITION_STATUSES.includes(c.status)) throw new NotAStatus(`${at}.status: True, False or Unknown`);
  return {
    // A type a newer gitfleet added is kept as it is: nothing here acts on types it does not know.
    type: str(c.type, `${at}.type`) as ConditionType,
    status: c.status as ConditionStatus,
    reason: str(c.reason, `${at}.reason`) as ConditionReason, // likewise a reason
    message: str(c.message, `${at}.message`),
    lastTransitionTime: str(c.lastTransitionTime, `${at}.lastTransitionTime`),
  };
}

function socket(v: unknown, at: string): SocketRecord {
  const s = obj(v, at);
  return {
    name: str(s.name, `${at}.name`),
    observed: bool(s.observed, `${at}.observed`),
    error: orNull(s.error, `${at}.error`, str),
    serverRunning: bool(s.serverRunning, `${at}.serverRunning`),
    serverPid: s.serverPid === undefined ? null : orNull(s.serverPid, `${at}.serverPid`, num),
    holder: str(s.holder, `${at}.holder`),
    unit:
      s.unit === undefined
        ? null
        : orNull(s.unit, `${at}.unit`, (u, w) => ({
            ...unit(u, w),
            restarts: orNull(obj(u, w).restarts ?? null, `${w}.restarts`, num),
          })),
  };
}

function unmanaged(v: unknown, at: string): UnmanagedSession {
  const u = obj(v, at);
  return {
    socket: str(u.socket, `${at}.socket`),
    session: str(u.session, `${at}.session`),
    command: str(u.command, `${at}.command`),
    fleet: orNull(u.fleet, `${at}.fleet`, str),
  };
}

function file(v: unknown, at: string): FileRecord {
  const f = obj(v, at);
  return {
    path: str(f.path, `${at}.path`),
    blob: orNull(f.blob, `${at}.blob`, str),
    valid: bool(f.valid, `${at}.valid`),
    usingLastKnownGood: bool(f.usingLastKnownGood, `${at}.usingLastKnownGood`),
    problems: arr(f.problems, `${at}.problems`, problem),
  };
}

function problem(v: unknown, at: string): Problem {
  const p = obj(v, at);
  return {
    file: str(p.file, `${at}.file`),
    line: num(p.line, `${at}.line`),
    col: num(p.col, `${at}.col`),
    message: str(p.message, `${at}.message`),
  };
}

function heldPrune(v: unknown, at: string): HeldPrune {
  const h = obj(v, at);
  return {
    socket: str(h.socket, `${at}.socket`),
    deletes: num(h.deletes, `${at}.deletes`),
    running: num(h.running, `${at}.running`),
    agents: arr(h.agents, `${at}.agents`, str),
    message: str(h.message, `${at}.message`),
  };
}

function stale(v: unknown, at: string): StaleReconciler {
  const s = obj(v, at);
  return {
    host: str(s.host, `${at}.host`),
    tenant: str(s.tenant, `${at}.tenant`),
    lastSeen: str(s.lastSeen, `${at}.lastSeen`),
    staleSince: str(s.staleSince, `${at}.staleSince`),
  };
}

type Read<T> = (v: unknown, at: string) => T;

function obj(v: unknown, at: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new NotAStatus(`${at}: an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new NotAStatus(`${at}: a string`);
  return v;
}

function num(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new NotAStatus(`${at}: a number`);
  return v;
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new NotAStatus(`${at}: true or false`);
  return v;
}

function orNull<T>(v: unknown, at: string, read: Read<T>): T | null {
  return v === null ? null : read(v, at);
}

function arr<T>(v: unknown, at: string, read: Read<T>): T[] {
  if (!Array.isArray(v)) throw new NotAStatus(`${at}: an array`);
  return v.map((x, i) => read(x, `${at}[${i}]`));
}
