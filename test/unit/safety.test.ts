// Structural safety rules that must keep holding as the code grows.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmuxArgv } from '../../src/tmux/client.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('safety rules', () => {
  it('only src/exec.ts starts processes', () => {
    const spawners = sources('src').filter((f) =>
      /from ['"](node:)?child_process['"]|from ['"]execa['"]/.test(readFileSync(f, 'utf8')),
    );
    expect(spawners).toEqual([path.join('src', 'exec.ts')]);
  });

  it('tmux is always run on a named socket, never the default server', () => {
    expect(tmuxArgv('fleet-sock', [['list-panes', '-a']])).toEqual([
      'tmux',
      '-u',
      '-L',
      'fleet-sock',
      'list-panes',
      '-a',
    ]);
    expect(() => tmuxArgv('', [['kill-server']])).toThrow(/socket/);
    // No module builds a tmux argv by hand.
    const byHand = sources('src').filter(
      (f) =>
        f !== path.join('src', 'tmux', 'client.ts') &&
        /run\(\s*\[\s*['"]tmux['"]|\[\s*['"]tmux['"]\s*,\s*['"]-/.test(readFileSync(f, 'utf8')),
    );
    expect(byHand).toEqual([]);
  });

  it('several tmux commands become one process, separated by a ";" argument', () => {
    expect(
      tmuxArgv('s', [
        ['kill-session', '-t', '=a'],
        ['new-session', '-d', '-s', 'a;b'],
      ]),
    ).toEqual(['tmux', '-u', '-L', 's', 'kill-session', '-t', '=a', ';', 'new-session', '-d', '-s', 'a;b']);
  });
});
