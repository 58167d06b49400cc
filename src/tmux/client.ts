// tmux on a named socket, always with -L: the default server is never
// touched. Arguments are argv elements; a command list is joined with ';'
// as a separate argument, which tmux runs in one process.
import { run, type RunResult } from '../exec.js';

export type TmuxCommand = readonly string[];

export function tmuxArgv(socket: string, commands: readonly TmuxCommand[]): string[] {
  if (!socket) throw new Error('tmux: refusing to run without a socket name');
  // -u: without a UTF-8 locale (cron, a bare user manager) tmux would print
  // control characters in -F output as '_', and the observer's fields would run together.
  const argv = ['tmux', '-u', '-L', socket];
  commands.forEach((c, i) => {
    if (i > 0) argv.push(';');
    argv.push(...c.map(argWord));
  });
  return argv;
}

/**
 * tmux ends a command at any argument that ends in ';' (cmd-parse.y,
 * cmd_parse_from_arguments), so a value such as `x;` followed by
 * `run-shell ...` in a roster's argv would run a tmux command. A final
 * `\;` is read back as a literal ';', so escape that one character; no
 * other character of an argument is special there.
 */
export function argWord(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

/**
 * For the few arguments tmux format-expands (checked on tmux 3.3a:
 * `new-session -s` and `-c`; `pipe-pane`'s command, which also takes
 * strftime and has its own escape in apply/tmux.ts): `#(cmd)` there would
 * run cmd and `#{...}` would be replaced, so '#' is doubled and reaches
 * the value as one '#'. Never use it elsewhere (targets, `-e`, option
 * values and the pane's argv are taken literally): '##' would arrive as is.
 */
export function formatLiteral(value: string): string {
  return value.replace(/#/g, '##');
}

export function tmux(socket: string, commands: readonly TmuxCommand[], timeoutMs = 15_000): Promise<RunResult> {
  return run(tmuxArgv(socket, commands), { timeoutMs });
}

/**
 * Run a command file (tmux/command-file.ts) in one tmux process: `source-file -`
 * reads it from stdin, so values (secrets in `-e` among them) go through a pipe,
 * never a file or argv. source-file does not start a server (checked on tmux 3.3a,
 * "no server running"), where new-session would: with startServer, `start-server`
 * goes first, as the commands run alone would have started it.
 */
export function tmuxSource(
  socket: string,
  script: string,
  opts: { startServer: boolean; timeoutMs: number },
): Promise<RunResult> {
  const first: TmuxCommand[] = opts.startServer ? [['start-server']] : [];
  return run(tmuxArgv(socket, [...first, ['source-file', '-']]), { input: script, timeoutMs: opts.timeoutMs });
}

/** `tmux -V`, e.g. "tmux 3.3a": the one tmux call without a socket (it starts no server). */
export async function tmuxVersion(): Promise<string> {
  try {
    return (await run(['tmux', '-V'], { timeoutMs: 10_000 })).stdout.trim();
  } catch {
    return ''; // no tmux: the observation of every socket says so already
  }
}

/** "There is no server": the socket file is missing, or nothing listens on it. */
export function isNoServer(stderr: string): boolean {
  return /no server running|error connecting to .*\((No such file or directory|Connection refused)\)/.test(stderr);
}

/** Exact-match targets: a bare name is a prefix match in tmux. */
export const sessionTarget = (session: string): string => `=${session}`;
/** tmux 3.3 wants a pane target for set-option on a session's window. */
export const windowTarget = (session: string): string => `=${session}:`;
