// One evidence file per applied action (what, why, when, result, command)
// and per observed event (a tmux server that died). Append-only: a path is
// never reused.
import path from 'node:path';
import type { ActionResult } from '../apply/types.js';
import type { FileChange } from '../git/repo.js';
import type { SocketObservation } from '../observe/tmux.js';
import type { SupervisorInput } from '../plan/units.js';
import { holderUnit } from '../systemd/fleet-units.js';
import type { StatusDoc } from './types.js';

export interface EvidenceContext {
  fleet: string;
  host: string;
  desiredRevision: string;
  /** The folder under evidence/: the reconciler's status name (status/read.ts statusName); the host by default. */
  folder?: string;
}

export function evidencePath(host: string, startedAt: string, kind: string, id: string): string {
  const d = new Date(startedAt).toISOString(); // 2026-11-21T02:46:12.345Z
  const day = d.slice(0, 10);
  const time = `${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}Z`;
  return `evidence/${host}/${day}/${time}-${kind}-${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
}

/** Something gitfleet saw happen rather than did. */
export interface ObservedEvent {
  kind: 'tmux_server_lost';
  target: string;
  at: string;
  message: string;
  detail: Record<string, unknown>;
}

/**
 * A socket whose server pid changed since the last status lost its server
 * (killed, crashed): systemd restarted it (systemd mode), or this reconcile
 * recreates the sessions (tmux mode).
 */
export function serverLossEvents(
  previous: StatusDoc | null,
  observed: ReadonlyMap<string, SocketObservation>,
  sup: SupervisorInput,
  now: Date,
): ObservedEvent[] {
  const events: ObservedEvent[] = [];
  for (const prev of previous?.sockets ?? []) {
    const obs = observed.get(prev.name);
    // A server with no session reports no pid: only a missing server or a different pid is a loss.
    if (
      !prev.serverPid ||
      !obs?.ok ||
      (obs.serverRunning && (obs.serverPid === null || obs.serverPid === prev.serverPid))
    )
      continue;
    const unit =
      sup.mode === 'systemd' && sup.observed.ok
        ? sup.observed.units.get(holderUnit(previous!.fleet, prev.name))
        : undefined;
    const by = obs.serverRunning
      ? unit
        ? `systemd restarted it (${unit.name}, ${unit.restarts ?? '?'} automatic restarts) with pid ${obs.serverPid}`
        : `a new server runs with pid ${obs.serverPid}`
      : 'no server runs now; this reconcile starts the fleet again';
    events.push({
      kind: 'tmux_server_lost',
      target: prev.name,
      at: now.toISOString(),
      message: `the tmux server of socket ${prev.name} (pid ${prev.serverPid}) is gone; ${by}`,
      detail: {
        socket: prev.name,
        previousPid: prev.serverPid,
        pid: obs.serverPid,
        unit: unit?.name ?? null,
        unitRestarts: unit?.restarts ?? null,
      },
    });
  }
  return events;
}

/** `p` with the n-th suffix that keeps an evidence path unique: x.json, x-2.json, x-3.json ... */
export const suffixed = (p: string, n: number): string => (n === 1 ? p : p.replace(/(\.json)?$/, `-${n}$1`));

/** Evidence of observed events (actions' evidence goes through status/pending.ts). */
export function eventEvidence(events: readonly ObservedEvent[], ctx: EvidenceContext): FileChange[] {
  const used = new Set<string>();
  return events.map((e) => {
    const base = evidencePath(ctx.folder ?? ctx.host, e.at, e.kind, e.target);
    let p = base;
    for (let n = 2; used.has(p); n++) p = suffixed(base, n);
    used.add(p);
    const record = {
      formatVersion: 1,
      fleet: ctx.fleet,
      host: ctx.host,
      desiredRevision: ctx.desiredRevision,
      kind: e.kind,
      target: e.target,
      observedAt: e.at,
      message: e.message,
      detail: e.detail,
    };
    return { path: p, content: `${JSON.stringify(record, null, 2)}\n` };
  });
}

/**
 * One action's evidence file, at its base path: callers that keep files
 * across runs (status/pending.ts) make the path unique among those.
 */
export function actionEvidence(
  r: ActionResult,
  ctx: EvidenceContext,
  attempt?: string,
  overrides: Record<string, unknown> = {},
): { path: string; content: string } {
  const d = r.action.apply;
  const id = d.session ?? d.unit ?? (d.file ? path.basename(d.file) : (d.socket ?? 'fleet'));
  const p = evidencePath(ctx.folder ?? ctx.host, r.startedAt, r.action.kind, id);
  const record = {
    ...(attempt ? { attempt } : {}),
    formatVersion: 1,
    fleet: ctx.fleet,
    host: ctx.host,
    desiredRevision: ctx.desiredRevision,
    kind: r.action.kind,
    target: r.action.target,
    reason: r.action.reason,
    // One record of what was planned, as evidence has always shown it: what apply read and what is shown.
    detail: { ...r.action.apply, ...r.action.detail },
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    result: r.ok ? 'ok' : 'failed',
    error: r.error,
    command: r.command,
    ...overrides,
  };
  return { path: p, content: `${JSON.stringify(record, null, 2)}\n` };
}

/**
 * The evidence of an action that was started but whose end was never seen
 * (gitfleet was killed while it ran): written before the action starts, and
 * committed only when no final record of the same attempt exists.
 */
export function interruptedEvidence(
  action: ActionResult['action'],
  startedAt: string,
  ctx: EvidenceContext,
  attempt: string,
): { path: string; content: string } {
  const r: ActionResult = { action, ok: false, error: null, startedAt, finishedAt: startedAt, command: [] };
  const error =
    'gitfleet stopped while this action ran; whether it took effect is not known ' +
    '(the next reconcile observes and repairs)';
  return actionEvidence(r, ctx, attempt, { finishedAt: null, result: 'interrupted', error });
}
