// tmux commands as a command file, the text `source-file` reads (and a
// .tmux.conf holds), for the one tmux process that applies a whole phase on
// a socket (apply/tmux.ts runTmuxBatch): a client's argv has to fit one
// message of at most 16 KiB, a file read from stdin has no such limit. Pure.
//
// What tmux 3.3a's parser (cmd-parse.y) does with a file, and why the
// quoting below is safe (test/unit/tmux-command-file.test.ts reads values
// back through a real server):
// - Unquoted, a word is cut at spaces, tabs and `;`, a leading `#` starts a
//   comment, a leading `~` is the home directory, `$NAME` and `${NAME}` are
//   replaced from the environment, `{` opens a block, `%if` and `%hidden`
//   are directives, and `NAME=value` first on a line sets a variable.
// - Inside double quotes only `\` (an escape: `\\`, `\"`, `\$`, `\n`, `\ooo`
//   octal; any other escaped character is itself), `$`, and a `~` right after
//   the opening quote (still the home directory: `"~"` is /home/me) are
//   special, besides the closing quote: every other byte, UTF-8 included, is
//   the value's own.
// So every argument goes in double quotes with `\`, `"`, `$` and `~` escaped, and
// control characters written as octal escapes, so that a value's newline or
// carriage return cannot end the line (one line is one action: see
// runTmuxBatch). The command names are gitfleet's own words, written bare.
import type { TmuxCommand } from './client.js';

/** Thrown for an argument tmux cannot hold (a NUL ends a C string): the action fails, the others still run. */
export class TmuxArgumentError extends Error {}

const NAME = /^[a-z][a-z-]*$/;

/** One argument, quoted so that tmux's parser gives back exactly `arg`. */
export function commandFileWord(arg: string): string {
  if (arg.includes('\0')) throw new TmuxArgumentError('a tmux argument cannot hold a NUL character');
  const escaped = arg
    .replace(/[\\"$~]/g, '\\$&')
    .replace(/[\x01-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return `"${escaped}"`;
}

/**
 * Commands as one line of a command file, chained with ` ; `: tmux runs
 * them in order and, when one fails, skips the rest of this line only.
 */
export function commandFileLine(commands: readonly TmuxCommand[]): string {
  return commands
    .map(([name, ...args]) => {
      if (!name || !NAME.test(name)) throw new TmuxArgumentError(`not a tmux command name: ${JSON.stringify(name)}`);
      return [name, ...args.map(commandFileWord)].join(' ');
    })
    .join(' ; ');
}
