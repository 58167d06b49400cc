// Which agent an operator verb acts on: a name from the committed roster,
// never a tmux session picked by name alone. Pure.
import type { AgentSpec, DesiredState } from '../desired/types.js';
import { TerminalError, UsageError } from '../errors.js';
import { agentsInScope } from '../plan/scope.js';

export function findAgent(desired: DesiredState, name: string, scope: { host: string; tenant: string }): AgentSpec {
  const all = desired.rosters.flatMap((r) => r.agents);
  const agent = all.find((a) => a.name === name);
  if (!agent) {
    const known = [...new Set(all.map((a) => a.name))].sort();
    throw new UsageError(`no agent "${name}" in the roster; agents: ${known.length ? known.join(', ') : '(none)'}`);
  }
  if (!agentsInScope(desired, scope).includes(agent)) {
    const where =
      agent.host !== null && agent.host !== scope.host
        ? `host ${agent.host} (this is ${scope.host})`
        : `tenant ${agent.tenant} (you are ${scope.tenant})`;
    throw new TerminalError(`agent "${name}" belongs to ${where}; run this where it runs`);
  }
  return agent;
}
