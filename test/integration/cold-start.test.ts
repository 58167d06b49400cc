// A cold `gitfleet apply` (the built CLI, as bench/bench.mjs runs it) of 300 agents on two sockets creates
// every session, holder included, with one tmux process per socket; an agent's environment goes to tmux on
// stdin, never in a tmux argv (which `ps` shows to every user). Processes are counted as the bench counts them:
// wrappers first on PATH log each start with its parent pid, and only the CLI's own children count.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TestFleet, usePrivateTmux } from '../helpers/fleet.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const privateTmux = usePrivateTmux();
let fleets: TestFleet[] = [];
afterEach(() => {
  for (const f of fleets) f.cleanup();
  fleets = [];
});

const SECRET = 'sk-cold-start-0123456789';

function roster(socket: string, prefix: string, n: number, cwd: string): string {
  const agents = Array.from({ length: n }, (_, i) => `  - name: ${prefix}${String(i).padStart(3, '0')}\n`)
    .map((a) => `${a}    runtime: idle\n`)
    .join('');
  return (
    `version: 1\ntransport: tmux\ntmux:\n  socket_name: ${socket}\n` +
    `runtimes:\n  idle:\n    command: [sleep, infinity]\n    env: {API_TOKEN: '${SECRET}'}\n` +
    `defaults:\n  working_directory: ${cwd}\nagents:\n${agents}`
  );
}

/** A `tmux` first on PATH that logs `<parent pid> TAB <its arguments>` and runs the real one. */
function tmuxWrapper(): { bin: string; log: string } {
  const bin = path.join(privateTmux.dir, 'cold-wrappers');
  mkdirSync(bin, { recursive: true });
  const log = path.join(bin, 'starts.log');
  writeFileSync(log, '');
  const real = spawnSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).stdout.trim();
  const w = path.join(bin, 'tmux');
  writeFileSync(w, `#!/bin/sh\nprintf '%s\\t%s\\n' "$PPID" "$*" >>'${log}'\nexec '${real}' "$@"\n`);
  chmodSync(w, 0o755);
  return { bin, log };
}

describe('cold apply', () => {
  it('300 agents on two sockets: one tmux process per socket creates every session', () => {
    const f = new TestFleet('cold');
    fleets.push(f);
    const other = `${f.socket}-b`;
    f.commit({
      'fleet.yaml': 'fleet: cold\nsupervisor: tmux\n',
      'rosters/a.yaml': roster(f.socket, 'a', 150, path.join(f.dir, 'cwd')),
      'rosters/b.yaml': roster(other, 'b', 150, path.join(f.dir, 'cwd')),
    });
    const { bin, log } = tmuxWrapper();
    try {
      const r = spawnSync(
        process.execPath,
        [CLI, 'apply', '--repo', f.bare, '--state-dir', f.stateDir, '--host', f.host],
        { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', timeout: 240_000 },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const own = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'))
        .filter(([ppid]) => ppid === String(r.pid))
        .map(([, args]) => args!);
      const batches = own.filter((a) => a.includes('source-file'));
      expect(batches.sort()).toEqual([f.socket, other].sort().map((s) => `-u -L ${s} start-server ; source-file -`));
      expect(own.filter((a) => a.includes('new-session'))).toEqual([]);
      expect(own.join('\n')).not.toContain(SECRET);
      for (const [socket, prefix] of [
        [f.socket, 'a'],
        [other, 'b'],
      ] as const) {
        const listed = spawnSync(
          'tmux',
          ['-L', socket, 'list-sessions', '-F', '#{session_name} #{@gitfleet-fleet} #{@gitfleet-role}'],
          { encoding: 'utf8' },
        ).stdout;
        const names = listed.split('\n').filter(Boolean).sort();
        expect(names).toHaveLength(151);
        expect(names[0]).toBe('_holder cold holder');
        expect(names.slice(1).every((l) => l.startsWith(prefix) && l.endsWith(' cold '))).toBe(true);
        const env = spawnSync('tmux', ['-L', socket, 'show-environment', '-t', `=${prefix}149`, 'API_TOKEN'], {
          encoding: 'utf8',
        }).stdout;
        expect(env).toBe(`API_TOKEN=${SECRET}\n`);
      }
    } finally {
      spawnSync('tmux', ['-L', other, 'kill-server']);
    }
  }, 300_000);
});
