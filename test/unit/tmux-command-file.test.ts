// The command file quoting (src/tmux/command-file.ts), read back by a real tmux 3.x on a private socket: what
// `source-file -` sets must be exactly the value quoted, whatever its characters.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandFileLine, commandFileWord, TmuxArgumentError } from '../../src/tmux/command-file.js';
import type { TmuxCommand } from '../../src/tmux/client.js';

const socket = `gitfleet-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
let dir = '';
beforeAll(() => {
  // A private TMUX_TMPDIR: nothing here can reach another server.
  dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-cmdfile-'));
  process.env.TMUX_TMPDIR = dir;
  expect(tmux(['new-session', '-d', '-s', 'keep', 'sleep', 'infinity']).status).toBe(0);
});
afterAll(() => {
  tmux(['kill-server']);
  rmSync(dir, { recursive: true, force: true });
});

function tmux(args: string[], input?: string) {
  return spawnSync('tmux', ['-u', '-L', socket, ...args], { input, encoding: 'utf8' });
}

/** Source the lines from stdin, as apply does; fails the test on any tmux error. */
function source(lines: string[]): void {
  const r = tmux(['source-file', '-'], `${lines.join('\n')}\n`);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

/** A paste buffer's exact bytes (save-buffer adds nothing, unlike show-options). */
const buffer = (name: string): string => tmux(['save-buffer', '-b', name, '-']).stdout;

const HARD = [
  '',
  'plain',
  'two words',
  '  padded  ',
  "it's",
  'say "hi"',
  `'"'"'`,
  ';',
  'x;',
  'x\\;',
  ';;',
  'a ; b',
  '#',
  '# not a comment',
  '#{session_name}',
  '#(touch /tmp/gitfleet-never)',
  '##',
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: tmux's own ${NAME}, a value here
  '${HOME}',
  '$',
  'a$',
  '\\$HOME',
  '~',
  '~/x',
  '~root',
  '{',
  '}',
  '{ x }',
  '%if 1',
  '%hidden X=1',
  'FOO=bar',
  '-e',
  '--',
  '-',
  'line1\nline2',
  '\n',
  'cr\rlf\r\n',
  'tab\there',
  '\x01\x1b[31m\x7f',
  'back\\slash',
  '\\',
  '\\\\',
  '\\n',
  '\\u00e9',
  '\\101',
  'é漢字🙂 ñ',
  'sk-live-0123456789abcdef',
  'postgres://user:p@ss;w0rd@host/db?x=#1',
];

/** Random strings over the characters the parser treats specially, and some that it does not. */
function fuzz(count: number, seed: number): string[] {
  const chars = [...' \t\n\r;#$~{}%"\'\\=-@:,./\x01\x7fabcXYZ019é漢🙂'];
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: next() % 24 }, () => chars[next() % chars.length]!).join(''),
  );
}

describe('commandFileWord', () => {
  it('one line, double-quoted, whatever the value', () => {
    for (const v of [...HARD, ...fuzz(200, 7)]) {
      const w = commandFileWord(v);
      expect(w).toMatch(/^"[^\n\r]*"$/);
    }
  });

  it('tmux reads every value back exactly (set-buffer, then save-buffer)', () => {
    const values = [...HARD, ...fuzz(150, 11), 'x'.repeat(40_000)];
    source(values.map((v, i) => commandFileLine([['set-buffer', '-b', `v${i}`, '--', v]])));
    const back = values.map((_, i) => buffer(`v${i}`));
    expect(back).toEqual(values);
    // Nothing the parser or a format could have run.
    expect(() => readFileSync('/tmp/gitfleet-never')).toThrow();
  });

  it('several commands on one line run in order, each with its own arguments', () => {
    const cmds: TmuxCommand[] = [
      ['set-buffer', '-b', 'c0', 'first;'],
      ['set-buffer', '-b', 'c1', '; second'],
      ['set-buffer', '-b', 'c2', '#{third}'],
    ];
    source([commandFileLine(cmds)]);
    expect(['c0', 'c1', 'c2'].map(buffer)).toEqual(['first;', '; second', '#{third}']);
  });

  it('a pane gets its environment and argv exactly (new-session -e ... -- argv)', async () => {
    const out = path.join(dir, 'pane-out');
    const env = HARD.filter((v) => v !== '').slice(0, 30);
    const argv = [...HARD, ...fuzz(20, 3)].filter((v) => !v.includes('\0'));
    // The pane prints its arguments and its V<i> variables, NUL-separated, to a file.
    const script =
      `for a in "$@"; do printf '%s\\0' "$a"; done >"$0"; i=0; while [ $i -lt ${env.length} ]; do ` +
      `eval "printf '%s\\0' \\"\\$V$i\\""; i=$((i+1)); done >>"$0"`;
    const cmd: TmuxCommand = [
      'new-session',
      '-d',
      '-s',
      'pane',
      ...env.flatMap((v, i) => ['-e', `V${i}=${v}`]),
      '--',
      'sh',
      '-c',
      script,
      out,
      ...argv,
    ];
    source([commandFileLine([cmd])]);
    let text = '';
    for (let i = 0; i < 100 && text.split('\0').length < argv.length + env.length + 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = (() => {
        try {
          return readFileSync(out, 'utf8');
        } catch {
          return '';
        }
      })();
    }
    expect(text.split('\0').slice(0, -1)).toEqual([...argv, ...env]);
  });

  it('refuses what tmux cannot hold, and names that are not tmux commands', () => {
    expect(() => commandFileWord('a\0b')).toThrow(TmuxArgumentError);
    expect(() => commandFileLine([['set-buffer; run-shell x', 'a']])).toThrow(TmuxArgumentError);
    expect(() => commandFileLine([['']])).toThrow(TmuxArgumentError);
  });
});
