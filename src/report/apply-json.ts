// `apply --json`: the plan that ran, what each action did, the status written
// and its commit (docs/formats.md), mapped field by field from apply's result.
// Pure.
import type { ActionResult } from '../apply/types.js';
import type { Plan } from '../plan/types.js';
import type { StatusDoc } from '../status/types.js';
import { actionJson, type PlanJson, renderPlanJson } from './plan-json.js';
import { renderStatusJson, type StatusJson } from './status-json.js';

/** Additive changes keep it; a rename, removal or change of meaning bumps it (docs/formats.md). */
export const APPLY_FORMAT_VERSION = 1;

export interface ResultJson {
  kind: string;
  target: string;
  reason: string;
  ok: boolean;
  error: string | null;
  startedAt: string;
  finishedAt: string;
  /** finishedAt - startedAt in milliseconds; null when either time does not parse. */
  durationMs: number | null;
  command: string[];
}

export interface ApplyJson {
  formatVersion: number;
  plan: PlanJson;
  results: ResultJson[];
  status: StatusJson;
  commit: string | null;
  converged: boolean;
  /** Present only with --wait: how the wait ended, and who was not Ready then. */
  wait?: WaitJson;
}

export interface WaitJson {
  outcome: 'ready' | 'timeout' | 'failed';
  timeoutMs: number;
  waitedMs: number;
  notReady: { name: string; socket: string; state: string }[];
}

export interface ApplyOutcome {
  plan: Plan;
  results: ActionResult[];
  status: StatusDoc;
  commit: string | null;
  wait?: WaitJson;
}

export function renderApplyJson(r: ApplyOutcome): ApplyJson {
  return {
    formatVersion: APPLY_FORMAT_VERSION,
    plan: renderPlanJson(r.plan),
    results: r.results.map(resultJson),
    status: renderStatusJson(r.status),
    commit: r.commit,
    converged: r.status.converged,
    ...(r.wait
      ? {
          wait: {
            outcome: r.wait.outcome,
            timeoutMs: r.wait.timeoutMs,
            waitedMs: r.wait.waitedMs,
            notReady: r.wait.notReady.map((n) => ({ name: n.name, socket: n.socket, state: n.state })),
          },
        }
      : {}),
  };
}

function resultJson(r: ActionResult): ResultJson {
  const { kind, target, reason } = actionJson(r.action);
  const ms = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
  return {
    kind,
    target,
    reason,
    ok: r.ok,
    error: r.error,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: Number.isFinite(ms) ? ms : null,
    command: [...r.command],
  };
}
