// Build the status document from what was desired, seen and done, one
// concern per module: agents (agents.ts, with the condition rules of
// conditions.ts), sockets and unmanaged sessions (sockets.ts), the supervisor
// (supervisor.ts), the counts and the verdict (summary.ts). Pure: the clock
// and the previous status are inputs. A condition's lastTransitionTime moves
// only when its status changes.
import type { DesiredState } from '../desired/types.js';
import type { PlanContext } from '../plan/input.js';
import { agentRecords } from './agents.js';
import type { StatusInput } from './input.js';
import { unmanagedSessions, watchedSockets } from './sockets.js';
import { isConverged, isProgressing, summarize } from './summary.js';
import { supervisorStatus } from './supervisor.js';
import type { FileRecord, StatusDoc } from './types.js';

export { STABLE_AFTER_MS } from '../plan/crash-loop.js';
export type { StatusInput } from './input.js';

export function buildStatus(input: StatusInput, context: PlanContext): StatusDoc {
  const { desired, plan } = input;
  const agents = agentRecords(input, context);
  const unmanaged = unmanagedSessions(input);
  const supervisor = supervisorStatus(input.observed.supervisor, context.tenant);
  return {
    formatVersion: 1,
    fleet: desired.config.fleet,
    host: context.host,
    tenant_id: context.tenant,
    desiredRevision: context.desiredRevision,
    converged: isConverged(input, agents, supervisor.observed),
    ...(isProgressing(input, agents, supervisor.observed) ? { progressing: true as const } : {}),
    summary: summarize(agents, unmanaged, desired),
    supervisor,
    agents,
    sockets: watchedSockets(input),
    unmanaged,
    files: fileRecords(desired),
    errors: desired.problems,
    ...(plan.pruneHeld.length > 0 ? { pruneHeld: plan.pruneHeld } : {}),
  };
}

function fileRecords(desired: DesiredState): FileRecord[] {
  return desired.files.map((f) => ({
    path: f.path,
    blob: f.blob,
    valid: f.valid,
    usingLastKnownGood: f.usingLastKnownGood,
    problems: f.problems,
  }));
}
