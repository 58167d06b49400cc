// `gitfleet agent attach`: the explicit takeover. A normal client on the
// agent's own session: it types into the pane and sizes the window.
import type { AgentSpec } from '../desired/types.js';
import { sessionTarget, tmuxArgv } from '../tmux/client.js';
import { ownedSession, type Owner } from './session.js';
import type { RunAttached } from './watch.js';

export async function attachAgent(agent: AgentSpec, owner: Owner, attach: RunAttached): Promise<number> {
  await ownedSession(agent, owner);
  return attach(tmuxArgv(agent.socket, [['attach-session', '-t', sessionTarget(agent.session)]]));
}
