// Carry out a plan's tmux actions. One tmux process per action runs that
// action's whole command list (new-session ; set-option ...), so an action
// is atomic as far as tmux allows and its failure is attributable.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AgentSpec } from '../desired/types.js';
import { shellWord } from '../systemd/syntax.js';
import { agentLogPath, heartbeatPath } from '../paths.js';
import type { Action } from '../plan/types.js';
import { sessionTarget, tmux, tmuxArgv, windowTarget, type TmuxCommand } from '../tmux/client.js';

/** What creating an agent's session needs from its spec (not where it was declared). */
export type PaneAgent = Omit<AgentSpec, 'source'>;

export interface PaneContext {
  fleet: string;
  /** PATH for panes that declare none: the server's environment is not the launcher's. */
  path: string;
  /** Where pane logs and heartbeat files live (src/paths.ts). */
  stateDir: string;
}

/** Env keys whose values are safe to show in evidence. */
const SHOWN = /^(PATH|HOME|GITFLEET_[A-Z_]+)$/;

/** The pane's program: exec'd by sh so the pane's current command is the runtime itself. */
export function paneArgv(label: string, argv: readonly string[]): string[] {
  return ['sh', '-c', 'exec "$@"', label, ...argv];
}

export function sessionEnv(a: PaneAgent, ctx: PaneContext): Record<string, string> {
  const ref = { fleet: ctx.fleet, socket: a.socket, session: a.session };
  return {
    PATH: ctx.path,
    ...a.env,
    GITFLEET_AGENT: a.name,
    GITFLEET_FLEET: ctx.fleet,
    GITFLEET_SOCKET: a.socket,
    GITFLEET_HEARTBEAT_FILE: heartbeatPath(ctx.stateDir, ref),
  };
}

/** The pane's output, appended to its log by tmux itself (pipe-pane runs a shell command: quoted). */
export function pipePaneCommand(a: PaneAgent, ctx: PaneContext): TmuxCommand {
  const log = agentLogPath(ctx.stateDir, { fleet: ctx.fleet, socket: a.socket, session: a.session });
  // tmux expands formats (#{...}, #(...)) and strftime (%Y) in this command before the shell sees it: double both.
  return ['pipe-pane', '-o', '-t', windowTarget(a.session), `exec cat >> ${shellWord(log)}`.replace(/[#%]/g, '$&$&')];
}

export function createAgentCommands(a: PaneAgent, ctx: PaneContext): TmuxCommand[] {
  const env = sessionEnv(a, ctx);
  const envFlags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return [
    ['new-session', '-d', '-s', a.session, '-c', a.cwd, ...envFlags, '--', ...paneArgv(`gitfleet:${a.name}`, a.argv)],
    // Same tmux invocation, so the option is set before a fast-dying pane can close.
    ['set-option', '-w', '-t', windowTarget(a.session), 'remain-on-exit', 'on'],
    ['set-option', '-t', windowTarget(a.session), '@gitfleet-fleet', ctx.fleet],
    ['set-option', '-t', windowTarget(a.session), '@gitfleet-agent', a.name],
    ['set-option', '-t', windowTarget(a.session), '@gitfleet-spec', a.specHash],
    pipePaneCommand(a, ctx),
  ];
}

/** Create them: the cwd as usual, gitfleet's own (logs, heartbeats) private to the user. */
export async function makeAgentDirs(a: PaneAgent, ctx: PaneContext): Promise<void> {
  const [cwd, ...own] = agentDirs(a, ctx);
  await mkdir(cwd!, { recursive: true });
  for (const d of own) await mkdir(d, { recursive: true, mode: 0o700 });
}

/** The directories a new agent session needs: its cwd, and those of its log and heartbeat files. */
export function agentDirs(a: PaneAgent, ctx: PaneContext): string[] {
  const ref = { fleet: ctx.fleet, socket: a.socket, session: a.session };
  return [a.cwd, path.dirname(agentLogPath(ctx.stateDir, ref)), path.dirname(heartbeatPath(ctx.stateDir, ref))];
}

export function createHolderCommands(session: string, fleet: string): TmuxCommand[] {
  return [
    ['new-session', '-d', '-s', session, '--', ...paneArgv('gitfleet:holder', ['sleep', 'infinity'])],
    ['set-option', '-t', windowTarget(session), '@gitfleet-fleet', fleet],
    ['set-option', '-t', windowTarget(session), '@gitfleet-role', 'holder'],
  ];
}

export function commandsFor(action: Action, agent: AgentSpec | undefined, ctx: PaneContext): TmuxCommand[] {
  const session = action.detail.session!;
  switch (action.kind) {
    case 'create_session':
      if (action.detail.role === 'holder') return createHolderCommands(session, ctx.fleet);
      return createAgentCommands(need(agent, action), ctx);
    case 'restart_session':
      return recreateCommands(need(agent, action), ctx, action.detail.watchers);
    case 'delete_session':
      return [...killWatchers(action), ['kill-session', '-t', sessionTarget(session)]];
    case 'respawn_pane':
      // Without -k: respawns only a dead pane, so a race with a pane that came back is harmless.
      return [['respawn-pane', '-t', windowTarget(session)]];
    default:
      throw new Error(`${action.kind} is not a tmux action`);
  }
}

/** Watch views share the session's windows: end them first, or the old runtime lives on in them. */
export function killWatchers(action: Action): TmuxCommand[] {
  return (action.detail.watchers ?? []).map((w) => ['kill-session', '-t', sessionTarget(w)]);
}

/**
 * End a session (and its watch views) and start it again, in one tmux
 * invocation: how apply, agent-start and `agent reset` restart an agent.
 */
export function recreateCommands(a: PaneAgent, ctx: PaneContext, watchers: readonly string[] = []): TmuxCommand[] {
  return [...watchers.map((w) => ['kill-session', '-t', sessionTarget(w)]), ['kill-session', '-t', sessionTarget(a.session)], ...createAgentCommands(a, ctx)];
}

function need(agent: AgentSpec | undefined, action: Action): AgentSpec {
  if (!agent) throw new Error(`${action.kind} ${action.target}: agent not in desired state`);
  return agent;
}

export function redact(argv: readonly string[]): string[] {
  return argv.map((x, i) => {
    if (argv[i - 1] !== '-e') return x;
    const eq = x.indexOf('=');
    const key = x.slice(0, eq);
    return SHOWN.test(key) ? x : `${key}=<redacted>`;
  });
}

/** One tmux action: the commands it ran (redacted) and tmux's error, if any. */
export async function applyTmuxAction(action: Action, agent: AgentSpec | undefined, ctx: PaneContext): Promise<{ command: string[]; error: string | null }> {
  const socket = action.detail.socket!;
  const cmds = commandsFor(action, agent, ctx);
  const command = redact(tmuxArgv(socket, cmds));
  if (agent && (action.kind === 'create_session' || action.kind === 'restart_session')) {
    await makeAgentDirs(agent, ctx);
  }
  const res = await tmux(socket, cmds);
  return { command, error: res.exitCode === 0 ? null : res.stderr.trim() || res.stdout.trim() || `tmux exited ${res.exitCode}` };
}
