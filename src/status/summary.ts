// The status's counts and its verdict: converged, when everything this host
// must run is Ready and nothing is pending, failing or unobserved; else
// progressing, when the only agents not Ready are starting (within their
// heartbeat start-up grace) and nothing else is wrong. Pure.
import type { DesiredState } from '../desired/types.js';
import { DEGRADED, isTrue, PENDING_RESTART, PROGRESSING, READY } from './condition-kinds.js';
import type { StatusInput } from './input.js';
import type { AgentRecord, StatusDoc, UnmanagedSession } from './types.js';

const readyCount = (enabled: readonly AgentRecord[]) => enabled.filter((r) => isTrue(r.conditions, READY)).length;

export function summarize(
  agents: readonly AgentRecord[],
  unmanaged: readonly UnmanagedSession[],
  desired: DesiredState,
): StatusDoc['summary'] {
  const enabled = agents.filter((r) => r.enabled);
  const ready = readyCount(enabled);
  return {
    agents: agents.length,
    ready,
    notReady: enabled.length - ready,
    disabled: agents.length - enabled.length,
    unmanaged: unmanaged.length,
    errors: desired.problems.length,
  };
}

const isReady = (r: AgentRecord) => isTrue(r.conditions, READY);

export function isConverged(
  { desired, plan, results }: Pick<StatusInput, 'desired' | 'plan' | 'results'>,
  agents: readonly AgentRecord[],
  supervisorObserved: boolean,
  counts: (r: AgentRecord) => boolean = isReady,
): boolean {
  const enabled = agents.filter((r) => r.enabled);
  return (
    enabled.every(counts) &&
    supervisorObserved &&
    !agents.some((r) => isTrue(r.conditions, PENDING_RESTART) || isTrue(r.conditions, DEGRADED)) &&
    desired.problems.length === 0 &&
    plan.unobserved.length === 0 &&
    results.every((r) => r.ok) &&
    // A prune held back by reconcile.prune: false is the operator's choice, not a fault.
    plan.deferred.every((d) => d.kind !== 'delete_session' || d.reason === 'prune_disabled') &&
    plan.pruneHeld.length === 0
  );
}

/**
 * Not converged only because agents are starting: each enabled agent is Ready
 * or Progressing (within its heartbeat start-up grace), and nothing else keeps
 * the fleet from converging. apply exits 0 then: a first beat that has not
 * come yet is not a failure (README, Liveness).
 */
export function isProgressing(
  input: Pick<StatusInput, 'desired' | 'plan' | 'results'>,
  agents: readonly AgentRecord[],
  supervisorObserved: boolean,
): boolean {
  const starting = (r: AgentRecord) => isReady(r) || isTrue(r.conditions, PROGRESSING);
  return !isConverged(input, agents, supervisorObserved) && isConverged(input, agents, supervisorObserved, starting);
}
