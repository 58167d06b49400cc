// Carry out a plan's tmux actions. The command lists of all actions of a
// phase on one socket (new-session ; set-option ...) run in one tmux process,
// as the lines of a command file read from stdin, each followed by a marker
// command that prints the action's index: tmux skips the rest of a line at
// its first failing command, so the markers printed say which actions
// completed, and those missing are the ones that failed (runTmuxBatch).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AgentSpec } from '../desired/types.js';
import { shellWord } from '../systemd/syntax.js';
import { agentLogPath, exitStatusPath, heartbeatPath } from '../paths.js';
import { isSecretEnv, maskArgv, maskUrls, MASK } from '../redact.js';
import { encodeSpecFields, SPEC_FIELDS_OPTION } from '../spec-fields.js';
import type { Action } from '../plan/types.js';
import { formatLiteral, sessionTarget, tmuxArgv, tmuxSource, windowTarget, type TmuxCommand } from '../tmux/client.js';
import { commandFileLine, TmuxArgumentError } from '../tmux/command-file.js';

/** What creating an agent's session needs from its spec (not where it was declared, nor how status judges it). */
export type PaneAgent = Omit<AgentSpec, 'source' | 'redact' | 'heartbeatGrace'>;

export interface PaneContext {
  fleet: string;
  /** PATH for panes that declare none: the server's environment is not the launcher's. */
  path: string;
  /** Where pane logs and heartbeat files live (src/paths.ts). */
  stateDir: string;
  /** The fleet id (src/fleet-identity.ts), tagged as @gitfleet-id; absent where not known (agent units). */
  id?: string | null;
  /**
   * The tenant that reconciles it (GITFLEET_TENANT), tagged as @gitfleet-tenant: tenants of one Unix user share a
   * tmux server, and each acts only on its own sessions; absent where not known (agent units).
   */
  tenant?: string | null;
}

/**
 * A tag set only where its value is known: @gitfleet-id tells two fleets of one name apart, @gitfleet-tenant two
 * tenants on one server (src/fleet-identity.ts).
 */
function tagIf(target: string, option: '@gitfleet-id' | '@gitfleet-tenant', value: string | null | undefined) {
  return value ? [['set-option', '-t', target, option, value] as TmuxCommand] : [];
}

/** Env keys whose values are safe to show in evidence. */
const SHOWN = /^(PATH|HOME|GITFLEET_[A-Z_]+)$/;

/** The pane's program: exec'd by sh so the pane's current command is the runtime itself. */
export function paneArgv(label: string, argv: readonly string[]): string[] {
  return ['sh', '-c', 'exec "$@"', label, ...argv];
}

/**
 * An agent's pane: sh runs the runtime and writes `<sh pid> <status>` to
 * the exit file when it ends, because tmux 3.3a sometimes never reaps a
 * fast-dying pane (it stays a zombie, the pane reads dead without
 * pane_dead_status) and records no status at all for a runtime killed by a
 * signal. `set -m` starts the runtime in its own process group and hands it
 * the terminal, so tmux's pane_current_command (the terminal's foreground
 * group) is still the runtime, and Ctrl-C reaches the runtime only.
 * - A job that stops (Ctrl-Z, SIGSTOP) would return control to sh, which
 *   would then end the pane: while the job exists, sh puts it back in the
 *   foreground (so a stop does not last, where before it lasted for ever).
 * - dash re-raises a job's SIGINT on itself: the INT trap keeps it alive to
 *   write the file (a caught signal is default again in the runtime). bash
 *   instead exits 1 at once after such a job: its EXIT trap then writes '?'
 *   (status unknown) rather than let the shell's 1 pass for the runtime's.
 * - kill-session still ends the runtime: sh, the session leader, dies of
 *   the hangup, and the kernel then hangs up the foreground group.
 */
export const PANE_WRAPPER =
  'f=$1; shift; trap \'printf "%s ?\\n" "$$" >"$f"\' EXIT; trap : INT; set -m; "$@"; s=$?; ' +
  'while kill -0 %1 2>/dev/null; do fg %1 >/dev/null; s=$?; done; ' +
  'trap - EXIT; printf \'%s %s\\n\' "$$" "$s" >"$f"; exit "$s"';

export function agentPaneArgv(label: string, exitFile: string, argv: readonly string[]): string[] {
  return ['sh', '-c', PANE_WRAPPER, label, exitFile, ...argv];
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
    // The runtime's declared interval: a runtime left to its own default would beat at another pace than the
    // limit gitfleet judges it by, and flap between healthy and stale.
    ...(a.heartbeatInterval !== null ? { GITFLEET_HEARTBEAT_INTERVAL: String(a.heartbeatInterval) } : {}),
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
  // -e values and the argv are taken literally; -s and -c are format-expanded (tmux/client.ts formatLiteral).
  const envFlags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const exitFile = exitStatusPath(ctx.stateDir, { fleet: ctx.fleet, socket: a.socket, session: a.session });
  const pane = agentPaneArgv(`gitfleet:${a.name}`, exitFile, a.argv);
  return [
    ['new-session', '-d', '-s', formatLiteral(a.session), '-c', formatLiteral(a.cwd), ...envFlags, '--', ...pane],
    // Same tmux invocation, so the option is set before a fast-dying pane can close.
    ['set-option', '-w', '-t', windowTarget(a.session), 'remain-on-exit', 'on'],
    ['set-option', '-t', windowTarget(a.session), '@gitfleet-fleet', ctx.fleet],
    ...tagIf(windowTarget(a.session), '@gitfleet-id', ctx.id),
    ...tagIf(windowTarget(a.session), '@gitfleet-tenant', ctx.tenant),
    ['set-option', '-t', windowTarget(a.session), '@gitfleet-agent', a.name],
    ['set-option', '-t', windowTarget(a.session), '@gitfleet-spec', a.specHash],
    // What the hash stands for, secrets sealed, so a later plan can say which fields changed (src/spec-fields.ts).
    // A spec file written by an older gitfleet has none: the session then goes without, and plans say so.
    ...(a.fields
      ? [['set-option', '-t', windowTarget(a.session), SPEC_FIELDS_OPTION, encodeSpecFields(a.fields)]]
      : []),
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

export function createHolderCommands(
  session: string,
  fleet: string,
  id?: string | null,
  tenant?: string | null,
): TmuxCommand[] {
  return [
    ['new-session', '-d', '-s', formatLiteral(session), '--', ...paneArgv('gitfleet:holder', ['sleep', 'infinity'])],
    ['set-option', '-t', windowTarget(session), '@gitfleet-fleet', fleet],
    ...tagIf(windowTarget(session), '@gitfleet-id', id),
    ...tagIf(windowTarget(session), '@gitfleet-tenant', tenant),
    ['set-option', '-t', windowTarget(session), '@gitfleet-role', 'holder'],
  ];
}

export function commandsFor(action: Action, agent: AgentSpec | undefined, ctx: PaneContext): TmuxCommand[] {
  const session = action.apply.session!;
  switch (action.kind) {
    case 'create_session':
      if (action.apply.role === 'holder') return createHolderCommands(session, ctx.fleet, ctx.id, ctx.tenant);
      return createAgentCommands(need(agent, action), ctx);
    case 'restart_session':
      return recreateCommands(need(agent, action), ctx, action.apply.watchers);
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
  return (action.apply.watchers ?? []).map((w) => ['kill-session', '-t', sessionTarget(w)]);
}

/**
 * End a session (and its watch views) and start it again, in one tmux
 * invocation: how apply, agent-start and `agent reset` restart an agent.
 */
export function recreateCommands(a: PaneAgent, ctx: PaneContext, watchers: readonly string[] = []): TmuxCommand[] {
  return [
    ...watchers.map((w) => ['kill-session', '-t', sessionTarget(w)]),
    ['kill-session', '-t', sessionTarget(a.session)],
    ...createAgentCommands(a, ctx),
  ];
}

function need(agent: AgentSpec | undefined, action: Action): AgentSpec {
  if (!agent) throw new Error(`${action.kind} ${action.target}: agent not in desired state`);
  return agent;
}

/**
 * An action's commands as evidence shows them: built from the agent with the
 * secrets in its argv masked (src/redact.ts, the rules of plan output), then
 * every new-session env value hidden but SHOWN's (roster values may be
 * secret without saying so), a SHOWN one too when its name is secret or the
 * runtime lists it under `redact:`; the spec's fields (which hold the same
 * values) hidden whole.
 */
export function redactedCommands(action: Action, agent: AgentSpec | undefined, ctx: PaneContext): TmuxCommand[] {
  const shown = agent ? { ...agent, argv: maskArgv(agent.argv, agent.redact) } : undefined;
  return redact(commandsFor(action, shown, ctx), agent?.redact);
}

/** new-session's `-e NAME=value` flags (before `--`) as evidence shows them. */
export function redact(cmds: readonly TmuxCommand[], extra: readonly string[] = []): TmuxCommand[] {
  return cmds.map((c) => {
    // The spec's fields hold the env values that -e hides here: hidden with them (secrets are only sealed there).
    if (c[0] === 'set-option' && c.at(-2) === SPEC_FIELDS_OPTION) return [...c.slice(0, -1), MASK];
    if (c[0] !== 'new-session') return c;
    const end = c.includes('--') ? c.indexOf('--') : c.length;
    return c.map((x, i) => (i < end && c[i - 1] === '-e' ? envShown(x, extra) : x));
  });
}

function envShown(assignment: string, extra: readonly string[]): string {
  const eq = assignment.indexOf('=');
  const key = assignment.slice(0, eq);
  if (!SHOWN.test(key) || isSecretEnv(key, extra)) return `${key}=${MASK}`;
  return `${key}=${maskUrls(assignment.slice(eq + 1))}`;
}

/** A tmux action ready to run: its commands, and the same as evidence shows them (redacted). */
export interface PreparedTmuxAction {
  socket: string;
  cmds: TmuxCommand[];
  command: string[];
}

/** Build an action's commands and make the directories a new session needs; throws when it cannot run. */
export async function prepareTmuxAction(
  action: Action,
  agent: AgentSpec | undefined,
  ctx: PaneContext,
): Promise<PreparedTmuxAction> {
  const socket = action.apply.socket!;
  const cmds = commandsFor(action, agent, ctx);
  const command = tmuxArgv(socket, redactedCommands(action, agent, ctx));
  if (agent && (action.kind === 'create_session' || action.kind === 'restart_session')) {
    await makeAgentDirs(agent, ctx);
  }
  return { socket, cmds, command };
}

const MARK = 'gitfleet-batch-done-';

/** Prints `gitfleet-batch-done-<i>` and needs no session or client (display-message fails once none is left). */
const marker = (i: number): TmuxCommand => ['list-commands', '-F', `${MARK}${i}`, 'list-commands'];

/** A parse error names the line of the file read from stdin ("-:3: unknown command: x"); nothing has run then. */
const PARSE_ERROR = /^-:(\d+): /;

/**
 * Run the command lists of several actions on one socket in one tmux
 * process, however many (a command file on stdin, tmux/command-file.ts),
 * in order; returns each list's error (null: all its commands ran).
 * Each list is a line of its own, ended by a marker that prints its index.
 * tmux's source-file, checked on tmux 3.3a: a command that fails skips the
 * rest of its line and prints one error, the next lines still run; a
 * parse error anywhere runs nothing and names its line. So a list whose
 * marker was printed ran whole; those without failed, and get tmux's
 * errors in order (one line each); a parse error fails its own line, and
 * the others run again in a new process.
 */
export async function runTmuxBatch(socket: string, lists: readonly TmuxCommand[][]): Promise<(string | null)[]> {
  const errors: (string | null)[] = new Array(lists.length).fill(null);
  let pending = lists.map((_, i) => i);
  while (pending.length > 0) {
    const lines: string[] = [];
    const onLine: number[] = [];
    for (const i of pending) {
      try {
        lines.push(commandFileLine([...lists[i]!, marker(i)]));
        onLine.push(i);
      } catch (e) {
        if (!(e instanceof TmuxArgumentError)) throw e;
        errors[i] = e.message;
      }
    }
    pending = [];
    if (onLine.length === 0) break;
    // source-file starts no server; a new-session run alone would have (the holder's, first in a cold start).
    const startServer = onLine.some((i) => lists[i]!.some((c) => c[0] === 'new-session'));
    // A process for many actions gets time for each (a new session forks its pane).
    const timeoutMs = 15_000 + 100 * onLine.length;
    const res = await tmuxSource(socket, `${lines.join('\n')}\n`, { startServer, timeoutMs });
    const out = res.stdout.split('\n');
    const done = new Set(out.filter((l) => l.startsWith(MARK)).map((l) => Number(l.slice(MARK.length))));
    const failed = onLine.filter((i) => !done.has(i));
    if (failed.length === 0) continue;
    const said = (res.stderr.trim() || out.filter((l) => l && !l.startsWith(MARK)).join('\n')).trim();
    const bad = done.size === 0 ? onLine[Number(PARSE_ERROR.exec(said)?.[1] ?? 0) - 1] : undefined;
    if (bad !== undefined) {
      errors[bad] = said.replace(PARSE_ERROR, '');
      pending = onLine.filter((i) => i !== bad);
      continue;
    }
    const each = said.split('\n');
    // Not one error per failed line (the server went away, or the time ran out): each gets all that is known.
    const why = res.timedOut ? `tmux timed out after ${timeoutMs} ms` : `tmux exited ${res.exitCode}`;
    const all = said ? (res.timedOut ? `${why}: ${said}` : said) : why;
    const oneEach = said !== '' && !res.timedOut && each.length === failed.length;
    for (const [k, i] of failed.entries()) errors[i] = oneEach ? each[k]! : all;
  }
  return errors;
}
