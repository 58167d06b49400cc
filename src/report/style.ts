// How views colour words, as pure functions: a view takes a Style and calls it on the words to colour, and never
// looks at the environment or the terminal (cli/colour.ts decides which Style a command gets).

/** What a coloured word means; each has one colour. */
export type StyleKind = 'add' | 'change' | 'remove' | 'good' | 'bad' | 'warn' | 'error';

/** Colours (or not) one piece of text. Must not change its visible length. */
export type Style = (kind: StyleKind, text: string) => string;

/** No colour: what views use unless given another Style, and what pipes and files get. */
export const plain: Style = (_kind, text) => text;

const SGR: Record<StyleKind, string> = {
  add: '32', // green
  change: '33', // yellow
  remove: '31', // red
  good: '32',
  bad: '31',
  warn: '33',
  error: '1;31', // bold red
};

/** ANSI SGR colour; the reset is scoped to the text, so padding around it is untouched. */
export const ansi: Style = (kind, text) => (text === '' ? text : `\x1b[${SGR[kind]}m${text}\x1b[0m`);
