// Observe every session on a socket with one `list-panes -a` call.
// "No server" means empty; any other failure means the observation failed
// and must never be read as "nothing runs" (that would prune everything).
import { errorMessage } from '../errors.js';
import type { RunResult } from '../exec.js';
import { readText } from '../files.js';
import { exitStatusPath } from '../paths.js';
import { decodeSpecFields, SPEC_FIELDS_OPTION, type SpecFields } from '../spec-fields.js';
import { isNoServer, tmux } from '../tmux/client.js';

export interface PaneInfo {
  session: string;
  paneId: string;
  pid: number | null;
  dead: boolean;
  /** The runtime's exit status, when dead: the pane wrapper's record, else tmux's. */
  deadStatus: number | null;
  /** Unix seconds the pane died, when dead. */
  deadTime: number | null;
  currentCommand: string;
  fleet: string | null;
  spec: string | null;
  /**
   * What the spec hash stands for, secrets sealed (src/spec-fields.ts), as the session was started with it; null
   * for a session started before gitfleet kept it (or one whose option does not parse).
   */
  specFields: SpecFields | null;
  agent: string | null;
  role: string | null;
  /** Unix seconds of the last output in the pane (for idle detection later). */
  activity: number | null;
  width: number;
  height: number;
  /** A throw-away read-only view of this agent session (gitfleet agent watch), not a session of its own. */
  watchOf: string | null;
  /** The fleet id (root commit) of the fleet that started it (src/fleet-identity.ts); null for older sessions. */
  fleetId: string | null;
  /** Unix seconds the session was created: when its agent started (a heartbeat's start-up grace counts from it). */
  created: number | null;
  /** The tenant whose reconciler started it (@gitfleet-tenant); null for older sessions and agent units'. */
  tenant: string | null;
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
  '@gitfleet-id',
  SPEC_FIELDS_OPTION,
  'session_created',
  '@gitfleet-tenant',
] as const;
/** A literal at the end of every line: a line cut short (even by whole fields) lacks it. */
const EOL = 'gitfleet-eol';
export const LIST_FORMAT = [...FIELDS.map((f) => `#{${f}}`), EOL].join(SEP);

/** Where the observer finds the pane wrapper's exit files (apply/tmux.ts agentPaneArgv). */
export interface ExitFiles {
  stateDir: string;
  fleet: string;
}

export async function observeSocket(socket: string, exits?: ExitFiles): Promise<SocketObservation> {
  let res: RunResult;
  try {
    res = await tmux(socket, [['list-panes', '-a', '-F', LIST_FORMAT]]);
  } catch (e) {
    return { socket, ok: false, error: errorMessage(e) };
  }
  if (res.exitCode !== 0) {
    if (isNoServer(res.stderr))
      return { socket, ok: true, serverRunning: false, serverPid: null, version: null, sessions: new Map() };
    // A server kept up by systemd (tmux -D) may have no session yet: nothing to list panes of.
    if (/^no current target/.test(res.stderr.trim()))
      return { socket, ok: true, serverRunning: true, serverPid: null, version: null, sessions: new Map() };
    return {
      socket,
      ok: false,
      error: `tmux list-panes failed (exit ${res.exitCode}): ${res.stderr.trim() || res.stdout.trim()}`,
    };
  }
  let listed: ListedPanes;
  try {
    listed = parseListPanes(res.stdout);
  } catch (e) {
    // Never "nothing runs": read as empty, every agent would be started again (and fail as duplicates).
    return { socket, ok: false, error: `tmux list-panes printed what gitfleet cannot read: ${errorMessage(e)}` };
  }
  if (exits) await readExitFiles(socket, listed.sessions, exits);
  return { socket, ok: true, serverRunning: true, ...listed };
}

export interface ListedPanes {
  serverPid: number | null;
  version: string | null;
  sessions: Map<string, PaneInfo>;
}

/**
 * Pure: the server and one PaneInfo per session. Throws on anything real
 * tmux does not print: no output (a server with no session says "no current
 * target"), output cut short (no final newline), or a line with the wrong
 * number of fields or a malformed index, pane id, pid or flag.
 */
export function parseListPanes(stdout: string): ListedPanes {
  if (stdout === '') throw new Error('no output (a running server lists at least one pane)');
  if (!stdout.endsWith('\n')) throw new Error('output cut short (no final newline)');
  const lines = stdout.slice(0, -1).split('\n');
  const fields = lines.map((line, i) => checkLine(line, i + 1));
  const first = fields[0]!;
  return {
    serverPid: num(first[FIELDS.indexOf('pid')]!),
    version: first[FIELDS.indexOf('version')] || null,
    sessions: panesOf(fields),
  };
}

/** Pure: one PaneInfo per session, its first pane (lowest window, then pane); throws as parseListPanes does. */
export function parsePanes(stdout: string): Map<string, PaneInfo> {
  return parseListPanes(stdout).sessions;
}

const NUMERIC = new Set(['window_index', 'pane_index', 'pane_pid', 'pane_width', 'pane_height', 'pid']);
const NUMERIC_OR_EMPTY = new Set(['pane_dead_status', 'pane_dead_time', 'window_activity', 'session_created']);

function checkLine(line: string, n: number): string[] {
  const f = line.split(SEP);
  const bad = (what: string) => new Error(`line ${n}: ${what}: ${preview(line)}`);
  if (f.length !== FIELDS.length + 1) throw bad(`${f.length} fields, expected ${FIELDS.length + 1}`);
  if (f.pop() !== EOL) throw bad('the line does not end as it should (cut short?)');
  FIELDS.forEach((name, i) => {
    const v = f[i]!;
    if (NUMERIC.has(name) && !/^\d+$/.test(v)) throw bad(`${name} is not a number`);
    if (NUMERIC_OR_EMPTY.has(name) && !/^\d*$/.test(v)) throw bad(`${name} is not a number`);
  });
  if (!f[0]) throw bad('empty session_name');
  if (!/^%\d+$/.test(f[FIELDS.indexOf('pane_id')]!)) throw bad('pane_id is not %N');
  if (!/^[01]$/.test(f[FIELDS.indexOf('pane_dead')]!)) throw bad('pane_dead is not 0 or 1');
  return f;
}

function preview(line: string): string {
  const shown = JSON.stringify(line.replaceAll(SEP, '|'));
  return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
}

function panesOf(lines: readonly string[][]): Map<string, PaneInfo> {
  const best = new Map<string, { rank: [number, number]; pane: PaneInfo }>();
  for (const f of lines) {
    const [
      session,
      win,
      pane,
      paneId,
      pid,
      dead,
      deadStatus,
      deadTime,
      cmd,
      fleet,
      spec,
      agent,
      role,
      activity,
      w,
      h,
      ,
      ,
      watchOf,
      fleetId,
      fields,
      created,
      tenant,
    ] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
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
        fleetId: fleetId || null,
        specFields: decodeSpecFields(fields),
        created: num(created),
        tenant: tenant || null,
      },
    });
  }
  return new Map([...best].map(([k, v]) => [k, v.pane]));
}

/**
 * A dead agent pane's exit status as its wrapper recorded it, preferred to
 * tmux's (which tmux 3.3a sometimes never records). A file is believed only
 * when it names the pane's own pid: an older run's file says nothing.
 */
async function readExitFiles(socket: string, sessions: Map<string, PaneInfo>, exits: ExitFiles): Promise<void> {
  const agentPane = (p: PaneInfo) => p.role !== 'holder' && p.watchOf === null;
  const dead = [...sessions.values()].filter((p) => p.dead && agentPane(p));
  await Promise.all(
    dead.map(async (p) => {
      const text = await readText(exitStatusPath(exits.stateDir, { fleet: exits.fleet, socket, session: p.session }));
      const m = /^(\d+) (\d+|\?)\n$/.exec(text ?? '');
      if (!m || Number(m[1]) !== p.pid) return;
      p.deadStatus = m[2] === '?' ? null : Number(m[2]);
    }),
  );
}

function num(s: string): number | null {
  if (s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
