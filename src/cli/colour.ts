// Colour, only on a terminal, and sparingly: plan's + / ~ / - markers, the
// state words of ps, the "gitfleet:" prefix of errors. Views never look at
// the environment: they take a Style (a pure function) and call it on the
// words to colour; the commands get one per stream from here.
//
// Whether to colour, in this order (https://no-color.org and the FORCE_COLOR
// convention of node, chalk and supports-color):
//   1. NO_COLOR set and not empty: no colour. It wins over FORCE_COLOR: it is
//      the user's standing preference, FORCE_COLOR usually a tool's default.
//   2. FORCE_COLOR set and not empty: "0" or "false" means no colour, any other
//      value colour, even when the stream is not a terminal.
//   3. Otherwise colour when the stream is a terminal and TERM is not "dumb".
import { ansi, plain, type Style } from '../report/style.js';
import type { Io } from './io.js';

export function wantsColour(env: NodeJS.ProcessEnv, isTerminal: boolean): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  return isTerminal && env.TERM !== 'dumb';
}

/** The Style for what a command writes to stdout. */
export function stdoutStyle(io: Io): Style {
  return wantsColour(io.env, io.tty?.stdout ?? false) ? ansi : plain;
}

/** The Style for what a command writes to stderr (errors). */
export function stderrStyle(io: Io): Style {
  return wantsColour(io.env, io.tty?.stderr ?? false) ? ansi : plain;
}
