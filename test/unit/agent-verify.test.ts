// The pure parts of the agent verbs: how send --verify judges a pane from
// three captures, and how logs turns raw terminal output into lines.
import { describe, expect, it } from 'vitest';
import { terminalLines } from '../../src/agent/logs.js';
import type { Screen } from '../../src/agent/screen.js';
import { parseScreen } from '../../src/agent/screen.js';
import { judge, lineBeforeCursor, probeOf } from '../../src/agent/verify.js';
import { withPreamble } from '../../src/agent/send.js';

/** A 40x6 screen; the cursor is given as [x, y]. */
function scr(rows: string[], cursor: [number, number], width = 40): Screen {
  const all = [...rows, ...Array(Math.max(0, 6 - rows.length)).fill('')];
  return { rows: all, cursorX: cursor[0], cursorY: cursor[1], width, dead: false };
}

const MSG = '[h:operator -> a] hello there';
const probe = probeOf(MSG);

describe('send --verify: judge', () => {
  it('accepts a REPL that answered and shows a new prompt', () => {
    const before = scr(['ready', '>'], [2, 1]);
    const pasted = scr(['ready', `> ${MSG}`], [2 + MSG.length, 1]);
    const now = scr(['ready', `> ${MSG}`, `got: ${MSG}`, '>'], [2, 3]);
    expect(judge(before, pasted, now, probe)).toBe('accepted');
  });

  it('accepts a TUI whose input line is empty again after the message moved up', () => {
    const before = scr(['── chat ──', '', '│ > │', 'status'], [4, 2]);
    const pasted = scr(['── chat ──', '', `│ > ${MSG} │`, 'status'], [4 + MSG.length, 2]);
    const now = scr(['── chat ──', `you: ${MSG}`, '│ > │', 'status'], [4, 2]);
    expect(judge(before, pasted, now, probe)).toBe('accepted');
  });

  it('accepts a screen cleared back to how it was before the paste (a /clear), once the draft had shown', () => {
    const before = scr(['>'], [2, 0]);
    const pasted = scr(['> /clear'], [8, 0]);
    expect(judge(before, pasted, scr(['>'], [2, 0]), probeOf('/clear'))).toBe('accepted');
  });

  it('calls it a draft while the message ends at the cursor, whatever else changed', () => {
    const before = scr(['ready', '>'], [2, 1]);
    const pasted = scr(['ready', `> ${MSG}`], [2 + MSG.length, 1]);
    const now = scr(['ready (busy)', `> ${MSG}`], [2 + MSG.length, 1]);
    expect(judge(before, pasted, now, probe)).toBe('draft');
  });

  it('finds a draft wrapped over two rows', () => {
    const long = `[h:operator -> a] ${'x'.repeat(30)} the end`;
    const rows = [`> ${long.slice(0, 38)}`, long.slice(38)];
    const s = scr(rows, [rows[1]!.length, 1]);
    expect(lineBeforeCursor(s)).toBe(`> ${long}`);
    expect(judge(scr(['>'], [2, 0]), s, s, probeOf(long))).toBe('draft');
  });

  it('calls it a draft when a TUI with its cursor parked elsewhere left the drawn rows as they were', () => {
    const before = scr(['│ > │', 'status 1', ''], [0, 5]);
    const pasted = scr([`│ > ${MSG} │`, 'status 1'], [0, 5]);
    const now = scr([`│ > ${MSG} │`, 'status 2'], [0, 5]); // only a clock moved
    expect(judge(before, pasted, now, probe)).toBe('draft');
  });

  it('fails closed on a blank screen', () => {
    const blank = scr([], [0, 0]);
    expect(judge(blank, blank, blank, probe)).toBe('unchanged');
  });

  it('fails closed when the only change is the echo of unread input, Enter moving the cursor down', () => {
    const before = scr([], [0, 0]);
    const pasted = scr([MSG], [MSG.length, 0]);
    const now = scr([MSG], [0, 1]);
    expect(judge(before, pasted, now, probe)).toBe('unchanged');
  });

  it('fails closed when Enter only scrolled a full screen up', () => {
    const full = ['a', 'b', 'c', 'd', 'e', MSG];
    const pasted = scr(full, [MSG.length, 5]);
    const now = scr([...full.slice(1), ''], [0, 5]);
    expect(judge(scr(full.slice(0, 5).concat('>'), [2, 5]), pasted, now, probe)).toBe('unchanged');
    // ... but new output after the scroll counts
    expect(
      judge(scr(full.slice(0, 5).concat('>'), [2, 5]), pasted, scr([...full.slice(2), 'reply', '>'], [2, 5]), probe),
    ).toBe('accepted');
  });

  it('identifies a message by the end of its last non-blank line', () => {
    expect(probeOf('first\n  second   line \n\n')).toBe('second line');
    expect(probeOf('y'.repeat(50))).toBe('y'.repeat(32));
    expect(withPreamble('hi', 'alpha', 'host1:operator')).toBe('[host1:operator -> alpha] hi');
    expect(withPreamble('hi', 'alpha', null)).toBe('hi');
  });

  it('parses a capture: cursor line first, then the rows', () => {
    expect(parseScreen('3 1 80 0\nready\n> x\n\n')).toEqual({
      rows: ['ready', '> x', ''],
      cursorX: 3,
      cursorY: 1,
      width: 80,
      dead: false,
    });
  });
});

describe('logs: terminal output as lines', () => {
  it('removes escape sequences and keeps what a carriage return wrote last', () => {
    const raw =
      '\x1b]0;title\x07\x1b[?2004h\x1b[1;32mgreen\x1b[0m text\r\n50%\r100%\r\n\x1b[2J\x1b[Hafter clear\x1b(B\r\n> ';
    expect(terminalLines(raw)).toEqual(['green text', '100%', 'after clear', '> ']);
  });
});
