// Did the agent take the message? Judged from three screens of its pane:
// `before` the paste, `pasted` (after the paste was drawn, before Enter) and
// `now` (some time after Enter). Pure.
//
// Accepted needs both of:
//  1. It is not a draft. A draft is (a) the cursor's line, up to the cursor,
//     ending with the message's last line: REPLs and TUIs keep the cursor
//     right after what was typed into their input line; or (b) a cursor that has
//     not moved since the paste while every row the paste drew is still
//     exactly as drawn: a TUI that parks its cursor elsewhere, ignoring Enter.
//  2. Enter visibly did something beyond the echo. A program that reads
//     nothing still has its input echoed by the terminal, and Enter then only
//     moves the cursor down (or scrolls a full screen up a row): the rows
//     must differ from `pasted` by more than that. A reply, a new prompt, or
//     an input line that is empty again after the message moved up all count.
// Everything else fails closed: `draft` when the message still sits where it
// was typed, `unchanged` when nothing visible followed Enter (a blank or
// frozen screen included). The caller asks for `accepted` on two captures in
// a row, so a screen caught in the middle of a redraw does not count.
// Limits: a region that keeps changing on its own (a clock, a spinner in the
// input area) can pass rule 2, and a paste a TUI folds into a placeholder
// ("[Pasted text]") is seen only through rule 1b.
import type { Screen } from './screen.js';

export type Verdict = 'accepted' | 'draft' | 'unchanged';

/** What identifies the message on screen: the end of its last non-blank line, whitespace collapsed. */
export function probeOf(message: string): string {
  const lines = message.split('\n').map(collapse).filter(Boolean);
  return (lines[lines.length - 1] ?? '').slice(-32);
}

export function judge(before: Screen, pasted: Screen, now: Screen, probe: string): Verdict {
  if (probe && lineBeforeCursor(now).endsWith(probe)) return 'draft';
  const drawn = changedRows(before, pasted);
  if (drawn.length > 0 && sameCursor(now, pasted) && drawn.every((i) => row(now, i) === row(pasted, i))) return 'draft';
  if (sameOrScrolled(now, pasted)) return 'unchanged';
  return 'accepted';
}

/** Same rows and cursor: nothing moved between two captures. */
export function sameScreen(a: Screen, b: Screen): boolean {
  return sameCursor(a, b) && a.rows.length === b.rows.length && a.rows.every((r, i) => r.trimEnd() === row(b, i));
}

/**
 * The cursor's line up to the cursor, with the rows it wrapped from (rows that fill the width), whitespace collapsed.
 */
export function lineBeforeCursor(s: Screen): string {
  let line = (s.rows[s.cursorY] ?? '').slice(0, s.cursorX);
  for (let y = s.cursorY - 1; y >= 0 && (s.rows[y] ?? '').length >= s.width; y--) line = s.rows[y]! + line;
  return collapse(line);
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

const row = (s: Screen, i: number): string => (s.rows[i] ?? '').trimEnd();

const sameCursor = (a: Screen, b: Screen): boolean => a.cursorX === b.cursorX && a.cursorY === b.cursorY;

function changedRows(a: Screen, b: Screen): number[] {
  const n = Math.max(a.rows.length, b.rows.length);
  return Array.from({ length: n }, (_, i) => i).filter((i) => row(a, i) !== row(b, i));
}

/** The rows with trailing blanks trimmed and trailing empty rows dropped. */
function content(s: Screen): string[] {
  const rows = s.rows.map((r) => r.trimEnd());
  while (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  return rows;
}

/**
 * `now` shows what `then` showed, or the same scrolled up a few rows with nothing new below (only a cursor on the
 * bottom row scrolls).
 */
function sameOrScrolled(now: Screen, then: Screen): boolean {
  const a = content(now);
  const b = content(then);
  const maxShift = then.cursorY >= then.rows.length - 1 ? Math.min(3, Math.max(0, b.length - 1)) : 0;
  for (let k = 0; k <= maxShift; k++) {
    if (a.length === b.length - k && a.every((r, i) => r === b[i + k])) return true;
  }
  return false;
}
