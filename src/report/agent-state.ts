// An agent's state in one word, and its flags, named from its status record.
// `gitfleet ps`, `gitfleet status` and the dashboard (status/<host>.md) all
// name states here, so the terminal and the forge never disagree. Pure.
import { DEGRADED, DRIFTED, isTrue, PENDING_RESTART, PROGRESSING, READY, STALLED } from '../status/condition-kinds.js';
import type { AgentRecord, Condition } from '../status/types.js';

/** What naming a state reads from a record. */
export type StateFacts = Pick<AgentRecord, 'enabled' | 'conditions' | 'backoff'>;

/**
 * `Ready`, `Disabled`, else the reason the agent is not Ready. A dead pane
 * with a crash streak is `CrashLoopBackOff`, whether this run had to wait for
 * the respawn or made it and saw the pane die again (the planner spaces out
 * its next respawn either way: plan/crash-loop.ts).
 */
export function agentState(r: StateFacts): string {
  const ready = readyCondition(r);
  if (ready?.status === 'True') return 'Ready';
  if (!r.enabled) return 'Disabled';
  if (!ready) return 'Unknown';
  if (ready.reason === 'PaneDead' && (r.backoff?.streak ?? 0) > 0) return 'CrashLoopBackOff';
  return ready.reason;
}

/** Flags beside the state, as `gitfleet ps` lists them. */
export function agentFlags(r: StateFacts): string[] {
  const flags: string[] = [];
  if (isTrue(r.conditions, DRIFTED)) flags.push('drift');
  if (r.conditions.some((c) => c.reason === 'UnitNotEnabled' && c.status === 'True')) flags.push('boot-enable');
  if (isTrue(r.conditions, PENDING_RESTART)) flags.push('PendingRestart');
  if (isTrue(r.conditions, STALLED)) flags.push('stalled');
  if (!r.enabled) flags.push('disabled');
  return flags;
}

/** How urgent an agent is: 0 needs attention, 1 ready, 2 disabled (the dashboard's order). */
export function agentRank(r: StateFacts): 0 | 1 | 2 {
  if (attentionConditions(r).length > 0) return 0;
  return r.enabled ? 1 : 2;
}

/**
 * The conditions a person should look at: an enabled agent not Ready (unless
 * it is only starting: Progressing), and any Stalled, Degraded,
 * PendingRestart or Drifted condition that holds.
 */
export function attentionConditions(r: StateFacts): Condition[] {
  const starting = isTrue(r.conditions, PROGRESSING);
  return r.conditions.filter((c) =>
    c.type === READY ? r.enabled && c.status !== 'True' && !starting : c.status === 'True' && PROBLEM_TYPES.has(c.type),
  );
}

const PROBLEM_TYPES = new Set<string>([STALLED, DEGRADED, PENDING_RESTART, DRIFTED]);

const readyCondition = (r: StateFacts) => r.conditions.find((c) => c.type === READY);
