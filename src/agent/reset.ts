// `gitfleet agent reset`: a fresh context for an agent. The runtime's own
// reset command (e.g. /clear) sent and verified like `send --verify`, without
// a preamble; a runtime without one gets its session restarted exactly as
// apply restarts it.
import { makeAgentDirs, recreateCommands, type PaneContext } from '../apply/tmux.js';
import type { AgentSpec } from '../desired/types.js';
import { TerminalError } from '../errors.js';
import { tmux } from '../tmux/client.js';
import { sendText, type SendResult } from './send.js';
import { ownedSession } from './session.js';
import { watchSessionsOf } from './watch.js';

export type ResetResult =
  | { agent: string; method: 'reset_command'; command: string; send: SendResult }
  | {
      agent: string;
      method: 'restart';
      socket: string;
      session: string;
      pidBefore: number | null;
      pidAfter: number | null;
      /** The session now runs the roster's spec, which differed from what ran. */
      specChanged: boolean;
      /** Watch sessions closed: they would have kept the old pane alive. */
      watchesClosed: string[];
    };

export async function resetAgent(agent: AgentSpec, ctx: PaneContext, timeoutMs: number): Promise<ResetResult> {
  if (agent.resetCommand) {
    const send = await sendText(agent, ctx, agent.resetCommand, { verify: true, timeoutMs });
    return { agent: agent.name, method: 'reset_command', command: agent.resetCommand, send };
  }
  const before = await ownedSession(agent, ctx);
  const watches = (await watchSessionsOf(agent.socket, agent.session)).map((w) => w.name);
  await makeAgentDirs(agent, ctx);
  const res = await tmux(agent.socket, recreateCommands(agent, ctx, watches));
  if (res.exitCode !== 0)
    throw new TerminalError(
      `restarting ${agent.socket}/${agent.session} failed: ${res.stderr.trim() || `tmux exited ${res.exitCode}`}`,
    );
  const after = await ownedSession(agent, ctx);
  return {
    agent: agent.name,
    method: 'restart',
    socket: agent.socket,
    session: agent.session,
    pidBefore: before.pid,
    pidAfter: after.pid,
    specChanged: before.spec !== agent.specHash,
    watchesClosed: watches,
  };
}
