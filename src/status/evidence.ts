// One evidence file per applied action: what, why, when, result, command.
// Append-only: a path is never reused.
import type { ActionResult } from '../apply/types.js';
import type { FileChange } from '../git/repo.js';

export interface EvidenceContext {
  fleet: string;
  host: string;
  desiredRevision: string;
}

export function evidencePath(host: string, startedAt: string, kind: string, id: string): string {
  const d = new Date(startedAt).toISOString(); // 2026-11-21T02:46:12.345Z
  const day = d.slice(0, 10);
  const time = `${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}Z`;
  return `evidence/${host}/${day}/${time}-${kind}-${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
}

export function evidenceFiles(results: readonly ActionResult[], ctx: EvidenceContext): FileChange[] {
  const used = new Set<string>();
  return results.map((r) => {
    const base = evidencePath(ctx.host, r.startedAt, r.action.kind, r.action.detail.session);
    let p = base;
    for (let n = 2; used.has(p); n++) p = base.replace(/\.json$/, `-${n}.json`);
    used.add(p);
    const record = {
      formatVersion: 1,
      fleet: ctx.fleet,
      host: ctx.host,
      desiredRevision: ctx.desiredRevision,
      kind: r.action.kind,
      target: r.action.target,
      reason: r.action.reason,
      detail: r.action.detail,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      result: r.ok ? 'ok' : 'failed',
      error: r.error,
      command: r.command,
    };
    return { path: p, content: JSON.stringify(record, null, 2) + '\n' };
  });
}
