// `gitfleet agent-start`: what an agent unit runs (supervisor: systemd). It
// starts the agent's session from the spec file apply keeps in the state dir,
// with the same commands apply uses, so a session started by systemd at boot
// is the session apply would have started.
import { TerminalError, UsageError } from '../errors.js';
import { readText } from '../files.js';
import { observeSocket } from '../observe/tmux.js';
import { specPath } from '../paths.js';
import { holderUnit, parseAgentInstance, type AgentSpecFile } from '../systemd/fleet-units.js';
import { tmux } from '../tmux/client.js';
import { createAgentCommands, makeAgentDirs, recreateCommands } from './tmux.js';

export type AgentStartOutcome = 'started' | 'adopted' | 'replaced';

export async function agentStart(
  stateDir: string,
  fleet: string,
  instance: string,
): Promise<{ outcome: AgentStartOutcome; socket: string; session: string }> {
  const ref = parseAgentInstance(instance);
  if (!ref) throw new UsageError(`unit instance ${JSON.stringify(instance)}: expected <session>.<socket>`);
  const file = specPath(stateDir, { fleet, ...ref });
  const text = await readText(file);
  if (text === null)
    throw new TerminalError(
      `${file}: no spec for agent session ${ref.session} on socket ${ref.socket}; ` +
        'gitfleet apply writes it before it starts the unit',
    );
  let spec: AgentSpecFile;
  try {
    spec = JSON.parse(text) as AgentSpecFile;
  } catch (e) {
    throw new TerminalError(`${file}: not valid JSON (${(e as Error).message}); gitfleet apply rewrites it`);
  }
  if (typeof spec !== 'object' || spec === null || typeof spec.agent !== 'object' || spec.agent === null)
    throw new TerminalError(`${file}: not a gitfleet spec file; gitfleet apply rewrites it`);
  if (
    spec.formatVersion !== 1 ||
    spec.fleet !== fleet ||
    spec.agent?.session !== ref.session ||
    spec.agent.socket !== ref.socket
  ) {
    throw new TerminalError(
      `${file}: written for another agent or format ` +
        `(fleet ${spec.fleet}, session ${spec.agent?.session}, socket ${spec.agent?.socket})`,
    );
  }
  const a = spec.agent;

  const obs = await observeSocket(a.socket);
  if (!obs.ok) throw new TerminalError(`cannot observe tmux socket ${a.socket}: ${obs.error}`);
  // Starting a session would start a server inside this unit, where systemd
  // would kill it with the unit: the socket's server unit runs the server.
  if (!obs.serverRunning)
    throw new TerminalError(
      `no tmux server runs on socket ${a.socket}; ` +
        `${holderUnit(fleet, a.socket)} runs it (this unit is ordered after it)`,
    );
  const pane = obs.sessions.get(a.session);
  if (pane && pane.fleet !== fleet) {
    throw new TerminalError(
      `session ${a.session} on socket ${a.socket} was not started by fleet ${fleet} ` +
        `(@gitfleet-fleet is ${pane.fleet ?? 'unset'}); leaving it alone`,
    );
  }
  if (pane && pane.spec === a.specHash && !pane.dead)
    return { outcome: 'adopted', socket: a.socket, session: a.session };

  const ctx = { fleet, path: spec.path, stateDir };
  await makeAgentDirs(a, ctx);
  const res = await tmux(a.socket, pane ? recreateCommands(a, ctx) : createAgentCommands(a, ctx));
  if (res.exitCode !== 0)
    throw new TerminalError(
      `tmux could not start session ${a.session} on socket ${a.socket}: ${(res.stderr || res.stdout).trim()}`,
    );
  return { outcome: pane ? 'replaced' : 'started', socket: a.socket, session: a.session };
}
