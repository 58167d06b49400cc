// The status's counts and its one verdict: converged, when everything this
// host must run is Ready and nothing is pending, failing or unobserved. Pure.
import type { DesiredState } from '../desired/types.js';
import { DEGRADED, isTrue, PENDING_RESTART, READY } from './condition-kinds.js';
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

export function isConverged(
  { desired, plan, results }: Pick<StatusInput, 'desired' | 'plan' | 'results'>,
  agents: readonly AgentRecord[],
  supervisorObserved: boolean,
): boolean {
  const enabled = agents.filter((r) => r.enabled);
  return (
    readyCount(enabled) === enabled.length &&
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
