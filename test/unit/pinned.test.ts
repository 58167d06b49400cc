// Settings pinned in the state dir (src/pinned.ts): the first apply pins the
// environment's values, later runs use them whatever their own environment,
// read-only runs never write, --repin takes the current ones, a pinned program
// that is gone is taken from now, an unreadable file is replaced.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalError } from '../../src/errors.js';
import { currentSettings, pinnedFile, readPinned, settingsFor, type Pinned } from '../../src/pinned.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
const stateDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-pinned-'));
  dirs.push(d);
  return path.join(d, 'state');
};

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const at = (p: string, lang: string | null): Pinned => ({
  formatVersion: 1,
  path: p,
  lang,
  tmuxTmpdir: null,
  node: process.execPath,
  cli,
  tmux: '/bin/sh',
});
const timer = at('/usr/bin:/bin', 'C.UTF-8');
const shell = at('/home/op/bin:/usr/bin:/bin', 'en_US.UTF-8');

describe('settingsFor', () => {
  it('pins at the first write (0600), then keeps the pinned values for every caller', () => {
    const dir = stateDir();
    expect(settingsFor(dir, timer, { write: true })).toEqual(timer);
    expect(statSync(pinnedFile(dir)).mode & 0o777).toBe(0o600);
    expect(settingsFor(dir, shell, { write: true })).toEqual(timer);
    expect(settingsFor(dir, shell, { write: false })).toEqual(timer);
    expect(JSON.parse(readFileSync(pinnedFile(dir), 'utf8'))).toEqual(timer);
  });

  it('read-only runs use the current values while nothing is pinned, and write nothing', () => {
    const dir = stateDir();
    expect(settingsFor(dir, shell, { write: false })).toEqual(shell);
    expect(existsSync(pinnedFile(dir))).toBe(false);
  });

  it('--repin takes the current values', () => {
    const dir = stateDir();
    settingsFor(dir, timer, { write: true });
    expect(settingsFor(dir, shell, { write: true, repin: true })).toEqual(shell);
    expect(settingsFor(dir, timer, { write: false })).toEqual(shell);
  });

  it('takes a pinned program that no longer exists from now, keeping the rest', () => {
    const dir = stateDir();
    settingsFor(dir, { ...timer, node: '/gone/node', tmux: '/gone/tmux' }, { write: true });
    const healed = { ...timer, node: shell.node, tmux: shell.tmux };
    expect(settingsFor(dir, shell, { write: false })).toEqual(healed);
    expect(readPinned(dir)).toMatchObject({ node: '/gone/node' }); // read-only: not rewritten
    expect(settingsFor(dir, shell, { write: true })).toEqual(healed);
    expect(readPinned(dir)).toEqual(healed);
  });

  it('replaces a file it cannot use at the next write', () => {
    const dir = stateDir();
    settingsFor(dir, timer, { write: true });
    const broken = [
      { ...timer, formatVersion: 2 },
      { ...timer, path: '' },
      { ...timer, lang: 7 },
    ];
    const unusable = ['{ not json', ...broken.map((x) => JSON.stringify(x))];
    for (const bad of unusable) {
      writeFileSync(pinnedFile(dir), bad);
      expect(readPinned(dir)).toBe('unusable');
      expect(settingsFor(dir, shell, { write: false })).toEqual(shell);
      expect(settingsFor(dir, shell, { write: true })).toEqual(shell);
      expect(readPinned(dir)).toEqual(shell);
    }
  });

  it('says which state dir it could not write to', () => {
    const file = stateDir(); // a file where the state dir should be
    writeFileSync(file, '');
    expect(() => settingsFor(file, timer, { write: true })).toThrow(TerminalError);
    const said = new RegExp(`^--state-dir ${file}: cannot write pinned.json: `);
    expect(() => settingsFor(file, timer, { write: true })).toThrow(said);
  });
});

describe('currentSettings', () => {
  it('takes PATH (as given), LANG, an absolute TMUX_TMPDIR and tmux from the environment', () => {
    const here = { panePath: '/p:/usr/bin', node: '/n', cli: '/c' };
    const s = currentSettings({ PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', TMUX_TMPDIR: 'rel/tmp' }, here);
    expect(s).toMatchObject({ formatVersion: 1, path: '/p:/usr/bin', lang: 'C.UTF-8' });
    expect(s.tmuxTmpdir).toBe(path.resolve('rel/tmp'));
    expect(s).toMatchObject({ node: '/n', cli: '/c' });
    expect(s.tmux).toMatch(/\/tmux$/);
    const bare = currentSettings({}, { panePath: '/p', node: '/n', cli: '/c' });
    expect(bare).toMatchObject({ lang: null, tmuxTmpdir: null, tmux: '/usr/bin/tmux' });
  });
});
