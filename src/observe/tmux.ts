// Observe every session on a socket with one `list-panes -a` call.
// "No server" means empty; any other failure means the observation failed
// and must never be read as "nothing runs" (that would prune everything).
import { errorMessage } from '../errors.js';
import { isNoServer, tmux } from '../tmux/client.js';

export interface PaneInfo {
  session: string;
  paneId: string;
  pid: number | null;
  dead: boolean;
  deadStatus: number | null;
  /** Unix seconds the pane died, when dead. */
  deadTime: number | null;
  currentCommand: string;
  fleet: string | null;
  spec: string | null;
  agent: string | null;
  role: string | null;
  /** Unix seconds of the last output in the pane (for idle detection later). */
  activity: number | null;
  width: number;
  height: number;
  /** A throw-away read-only view of this agent session (gitfleet agent watch), not a session of its own. */
  watchOf: string | null;
}

export type SocketObservation =
  | {
      socket: string;
      ok: true;
      serverRunning: boolean;
      /** The server's pid: a new one means the server was restarted. */
      serverPid: number | null;
      /** The server's tmux version, e.g. "3.3a". */
      version: string | null;
      sessions: Map<string, PaneInfo>;
    }
  | { socket: string; ok: false; error: string };

const SEP = '\u001f';
const FIELDS = [
  'session_name',
  'window_index',
  'pane_index',
  'pane_id',
  'pane_pid',
  'pane_dead',
  'pane_dead_status',
  'pane_dead_time',
  'pane_current_command',
  '@gitfleet-fleet',
  '@gitfleet-spec',
  '@gitfleet-agent',
  '@gitfleet-role',
  'window_activity',
  'pane_width',
  'pane_height',
  'pid',
  'version',
  '@gitfleet-watch-of',
] as const;
export const LIST_FORMAT = FIELDS.map((f) => `#{${f}}`).join(SEP);

export async function observeSocket(socket: string): Promise<SocketObservation> {
  let res;
  try {
    res = await tmux(socket, [['list-panes', '-a', '-F', LIST_FORMAT]]);
  } catch (e) {
    return { socket, ok: false, error: errorMessage(e) };
  }
  if (res.exitCode !== 0) {
    if (isNoServer(res.stderr)) return { socket, ok: true, serverRunning: false, serverPid: null, version: null, sessions: new Map() };
    // A server kept up by systemd (tmux -D) may have no session yet: nothing to list panes of.
    if (/^no current target/.test(res.stderr.trim())) return { socket, ok: true, serverRunning: true, serverPid: null, version: null, sessions: new Map() };
    return { socket, ok: false, error: `tmux list-panes failed (exit ${res.exitCode}): ${res.stderr.trim() || res.stdout.trim()}` };
  }
  const first = res.stdout.split('\n', 1)[0]!.split(SEP);
  const server = first.length === FIELDS.length ? { serverPid: num(first[FIELDS.indexOf('pid')]!), version: first[FIELDS.indexOf('version')] || null } : { serverPid: null, version: null };
  return { socket, ok: true, serverRunning: true, ...server, sessions: parsePanes(res.stdout) };
}

/** Pure: one PaneInfo per session, its first pane (lowest window, then pane). */
export function parsePanes(stdout: string): Map<string, PaneInfo> {
  const best = new Map<string, { rank: [number, number]; pane: PaneInfo }>();
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const f = line.split(SEP);
    if (f.length !== FIELDS.length) continue;
    const [session, win, pane, paneId, pid, dead, deadStatus, deadTime, cmd, fleet, spec, agent, role, activity, w, h, , , watchOf] = f as string[] as [
      string, string, string, string, string, string, string, string, string, string, string, string, string, string, string, string, string, string, string,
    ];
    const rank: [number, number] = [Number(win), Number(pane)];
    const prev = best.get(session);
    if (prev && (prev.rank[0] < rank[0] || (prev.rank[0] === rank[0] && prev.rank[1] <= rank[1]))) continue;
    best.set(session, {
      rank,
      pane: {
        session,
        paneId,
        pid: num(pid),
        dead: dead === '1',
        deadStatus: num(deadStatus),
        deadTime: num(deadTime),
        currentCommand: cmd,
        fleet: fleet || null,
        spec: spec || null,
        agent: agent || null,
        role: role || null,
        activity: num(activity),
        width: Number(w) || 0,
        height: Number(h) || 0,
        watchOf: watchOf || null,
      },
    });
  }
  return new Map([...best].map(([k, v]) => [k, v.pane]));
}

function num(s: string): number | null {
  if (s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
