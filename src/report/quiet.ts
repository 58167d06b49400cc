// What `apply -q` prints: only what went wrong (on stderr), nothing when the
// fleet converged. Pure.
import type { ActionResult } from '../apply/types.js';
import type { Plan } from '../plan/types.js';
import type { StatusDoc } from '../status/types.js';
import { agentState } from './agent-state.js';
import { planProblemLines } from './plan-text.js';

export function applyProblemLines(r: { plan: Plan; results: ActionResult[]; status: StatusDoc }): string[] {
  const out: string[] = [];
  for (const res of r.results)
    if (!res.ok) out.push(`FAILED ${res.action.kind} ${res.action.target}${res.error ? `: ${res.error}` : ''}`);
  out.push(...planProblemLines(r.plan));
  const s = r.status;
  if (!s.converged) {
    const waiting = s.agents.filter((a) => a.enabled && agentState(a) !== 'Ready');
    const which = waiting.length ? `; not Ready: ${waiting.map((a) => `${a.name} (${agentState(a)})`).join(', ')}` : '';
    out.push(`Not converged: ${s.summary.ready}/${s.summary.agents - s.summary.disabled} ready${which}.`);
  }
  return out;
}
