// `gitfleet agent watch`: look at an agent's pane without being able to type
// into it or resize it. A throw-away session grouped with the agent's (same
// windows) is attached read-only (-r: read-only, and no say in the size) and
// removed when that client detaches.
//
// A read-only client alone still sizes the window to its terminal (tmux
// ignores an ignore-size client only when another client counts), so the
// agent's window is set to `window-size manual` for the watch. The window's
// own setting is kept in @gitfleet-watch-restore ('-': none) and put back by
// the last watch to end.
//
// The throw-away session is removed by us (kill-session) once the client has
// exited, not by tmux's destroy-unattached: with grouped sessions that option
// can crash the tmux server when a client exits while another talks to the
// server (tmux/tmux#5394, #5497; seen here with 3.3a), which would take every
// agent on the socket with it. A watch whose gitfleet was killed before it
// could clean up (its pid is recorded on the session) is removed by the next
// watch of that agent.
import { randomBytes } from 'node:crypto';
import type { AgentSpec } from '../desired/types.js';
import { TerminalError } from '../errors.js';
import { sessionTarget, tmux, tmuxArgv, windowTarget, type TmuxCommand } from '../tmux/client.js';
import { ownedSession, type Owner } from './session.js';
import { processExists } from '../files.js';

/**
 * Session options on a throw-away watch session: the agent session it shows, and the pid of the gitfleet that made it.
 */
const WATCH_OF = '@gitfleet-watch-of';
const WATCH_PID = '@gitfleet-watch-pid';
/** Window option on the agent's window while watched: its own window-size before ('-': not set). */
const RESTORE = '@gitfleet-watch-restore';

export interface WatchResult {
  /** The throw-away session. */
  session: string;
  /** The read-only client's exit status. */
  exitCode: number;
  /** The throw-away session is gone. */
  removed: boolean;
  /** The agent window's own window-size was put back (false while another watch runs). */
  restored: boolean;
  /** Left-over watch sessions of earlier, killed watches, removed first. */
  reaped: string[];
}

export interface WatchSession {
  name: string;
  attached: boolean;
  pid: number | null;
}

export type RunAttached = (argv: readonly string[]) => Promise<number>;

export async function watchAgent(agent: AgentSpec, owner: Owner, attach: RunAttached): Promise<WatchResult> {
  await ownedSession(agent, owner);
  const { socket } = agent;
  const target = windowTarget(agent.session);
  const throwaway = `_watch-${agent.session}-${randomBytes(3).toString('hex')}`;
  const own = await windowOptions(socket, agent.session);
  const reaped = (await watchSessionsOf(socket, agent.session))
    .filter((w) => !w.attached && !(w.pid !== null && processExists(w.pid)))
    .map((w) => w.name);
  const prepare: TmuxCommand[] = [
    ...reaped.map((name) => ['kill-session', '-t', sessionTarget(name)]),
    ...(RESTORE in own ? [] : [['set-option', '-w', '-t', target, RESTORE, own['window-size'] ?? '-']]),
    // Before the grouped session exists, so not even its creation resizes the window.
    ['set-option', '-w', '-t', target, 'window-size', 'manual'],
    ['new-session', '-d', '-t', sessionTarget(agent.session), '-s', throwaway],
    ['set-option', '-t', windowTarget(throwaway), WATCH_OF, agent.session],
    ['set-option', '-t', windowTarget(throwaway), WATCH_PID, String(process.pid)],
  ];
  const res = await tmux(socket, prepare);
  let exitCode = 1;
  let end = { removed: false, restored: false };
  try {
    if (res.exitCode !== 0)
      throw new TerminalError(
        `cannot set up a watch of ${socket}/${agent.session}: ${res.stderr.trim() || `tmux exited ${res.exitCode}`}`,
      );
    exitCode = await attach(tmuxArgv(socket, [['attach-session', '-r', '-t', sessionTarget(throwaway)]]));
  } finally {
    end = await endWatch(agent, throwaway);
  }
  return { session: throwaway, exitCode, ...end, reaped };
}

/** The throw-away watch sessions showing this agent session now. */
export async function watchSessionsOf(socket: string, session: string): Promise<WatchSession[]> {
  const res = await tmux(socket, [
    [
      'list-sessions',
      '-F',
      ['#{session_name}', `#{${WATCH_OF}}`, '#{session_attached}', `#{${WATCH_PID}}`].join('\u001f'),
    ],
  ]);
  if (res.exitCode !== 0) return [];
  return res.stdout
    .split('\n')
    .map((l) => l.split('\u001f'))
    .filter(([name, of]) => name && of === session)
    .map(([name, , attached, pid]) => ({ name: name!, attached: attached !== '0', pid: pid ? Number(pid) : null }));
}

/** Remove the throw-away session (its client has exited), and let the last watch put window-size back. */
async function endWatch(agent: AgentSpec, throwaway: string): Promise<{ removed: boolean; restored: boolean }> {
  const { socket } = agent;
  if ((await watchSessionsOf(socket, agent.session)).some((w) => w.name === throwaway))
    await tmux(socket, [['kill-session', '-t', sessionTarget(throwaway)]]);
  const others = await watchSessionsOf(socket, agent.session);
  const removed = !others.some((w) => w.name === throwaway);
  if (others.length > 0) return { removed, restored: false };
  const saved = (await windowOptions(socket, agent.session).catch(() => ({}) as Record<string, string>))[RESTORE];
  if (saved === undefined) return { removed, restored: false };
  const target = windowTarget(agent.session);
  const res = await tmux(socket, [
    saved === '-'
      ? ['set-option', '-w', '-u', '-t', target, 'window-size']
      : ['set-option', '-w', '-t', target, 'window-size', saved],
    ['set-option', '-w', '-u', '-t', target, RESTORE],
  ]);
  return { removed, restored: res.exitCode === 0 };
}

/** Options set on the session's window itself (not inherited): name -> value. */
async function windowOptions(socket: string, session: string): Promise<Record<string, string>> {
  const res = await tmux(socket, [['show-options', '-w', '-t', windowTarget(session)]]);
  if (res.exitCode !== 0)
    throw new TerminalError(`cannot read the window options of ${socket}/${session}: ${res.stderr.trim()}`);
  const out: Record<string, string> = {};
  for (const line of res.stdout.split('\n')) {
    const m = /^(\S+) (.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}
