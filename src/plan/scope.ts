// What every sub-planner works on: the agents this host and tenant run, the
// sockets gitfleet looks at, and whether deletes may happen at all. Pure.
import type { AgentSpec, DesiredState } from '../desired/types.js';
import type { StatusDoc } from '../status/types.js';
import type { PlanContext } from './input.js';
import type { Reason } from './types.js';

export interface Scope {
  /** Agents this host and tenant are responsible for. */
  agents: AgentSpec[];
  /** Sockets gitfleet looks at (declared now or managed before). */
  sockets: string[];
  /** Why no prune may happen now (a desired file is invalid, or pruning is off), else null. */
  pruneBlock: Reason | null;
}

export function scopeOf(desired: DesiredState, previous: StatusDoc | null, context: PlanContext): Scope {
  return {
    agents: agentsInScope(desired, context),
    sockets: socketsToObserve(desired, previous),
    pruneBlock:
      desired.problems.length > 0 ? 'prune_blocked_by_invalid_files' : !desired.config.prune ? 'prune_disabled' : null,
  };
}

/** Agents this host and tenant are responsible for. */
export function agentsInScope(desired: DesiredState, context: Pick<PlanContext, 'host' | 'tenant'>): AgentSpec[] {
  return desired.rosters
    .flatMap((r) => r.agents)
    .filter((a) => (a.host === null || a.host === context.host) && (a.tenant === null || a.tenant === context.tenant));
}

/** Every socket gitfleet must look at: declared now, or managed at the last run. */
export function socketsToObserve(desired: DesiredState, previous: StatusDoc | null): string[] {
  const s = new Set<string>(desired.rosters.map((r) => r.socket));
  for (const x of previous?.sockets ?? []) s.add(x.name);
  return [...s].sort();
}
