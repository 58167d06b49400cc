// Test fixtures on real parts: a bare git repository with a work clone made
// by the system git, a private tmux socket, and gitfleet's CLI run
// in-process. Every test cleans up what it started, by socket name.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import type { StatusDoc } from '../../src/status/types.js';

/**
 * All test tmux servers live under a private TMUX_TMPDIR, so even a bug could
 * not reach the user's default server or any socket we did not create. The
 * same empty dir is XDG_RUNTIME_DIR, so no systemd user manager answers:
 * `supervisor: auto` means tmux, and no test reaches the user's real manager
 * (systemd tests start their own, test/helpers/systemd.ts).
 */
export function isolateTmux(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-tmux-'));
  process.env.TMUX_TMPDIR = dir;
  process.env.XDG_RUNTIME_DIR = dir;
  delete process.env.DBUS_SESSION_BUS_ADDRESS;
  delete process.env.TMUX;
  return dir;
}

/**
 * For a test file: a private TMUX_TMPDIR (and XDG_RUNTIME_DIR) for all its
 * tests, removed after them. `dir` is set once the file's tests start.
 */
export function usePrivateTmux(): { dir: string } {
  const holder = { dir: '' };
  beforeAll(() => {
    holder.dir = isolateTmux();
  });
  afterAll(() => rmSync(holder.dir, { recursive: true, force: true }));
  return holder;
}

/** Every regular file under `dir`, recursively, as absolute paths ([] when `dir` does not exist). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

export function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function tmux(socket: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestFleet {
  readonly dir: string;
  readonly bare: string;
  readonly work: string;
  readonly socket: string;
  readonly stateDir: string;
  readonly host = 'testhost';

  constructor(name = 'fleet') {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-test-'));
    this.bare = path.join(this.dir, `${name}.git`);
    this.work = path.join(this.dir, 'work');
    this.stateDir = path.join(this.dir, 'state');
    this.socket = `gitfleet-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    sh('git', ['init', '-q', '--bare', '-b', 'main', this.bare]);
    sh('git', ['init', '-q', '-b', 'main', this.work]);
    this.git('remote', 'add', 'origin', this.bare);
  }

  git(...args: string[]): string {
    return sh('git', ['-c', 'user.name=Operator', '-c', 'user.email=op@example.invalid', ...args], this.work);
  }

  /** Write files (null deletes), commit and push; pulls gitfleet's status commits first. */
  commit(files: Record<string, string | null>, message = 'change desired state'): string {
    if (this.headOf('main')) this.git('pull', '-q', '--rebase', 'origin', 'main');
    for (const [rel, content] of Object.entries(files)) {
      const p = path.join(this.work, rel);
      if (content === null) unlinkSync(p);
      else {
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(p, content);
      }
    }
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
    // A reconciler (the daemon, a unit) may commit status to main between the pull and the push, as it would
    // under a person: pull again and push, as they would.
    for (let attempt = 1; ; attempt++) {
      try {
        this.git('push', '-q', 'origin', 'HEAD:main');
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
        this.git('pull', '-q', '--rebase', 'origin', 'main');
      }
    }
    return this.headOf('main')!;
  }

  headOf(branch: string): string | null {
    const r = spawnSync('git', ['--git-dir', this.bare, 'rev-parse', '--verify', '-q', `refs/heads/${branch}`], {
      encoding: 'utf8',
    });
    return r.status === 0 ? r.stdout.trim() : null;
  }

  show(spec: string): string {
    return sh('git', ['--git-dir', this.bare, 'show', spec]);
  }

  status(): StatusDoc {
    return JSON.parse(this.show(`main:status/${this.host}.json`));
  }

  async gitfleet(...args: string[]): Promise<Run> {
    return this.gitfleetWith(process.env, ...args);
  }

  /** The CLI in-process on this fleet, with the given environment. */
  async gitfleetWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const io = { stdout: (s: string) => (stdout += s), stderr: (s: string) => (stderr += s), env };
    const code = await main([...args, '--repo', this.bare, '--state-dir', this.stateDir, '--host', this.host], io);
    return { code, stdout, stderr };
  }

  tmux(...args: string[]) {
    return tmux(this.socket, ...args);
  }

  /** session name -> pane pid / dead / command */
  panes(): Map<string, { pid: number; dead: boolean; cmd: string; fleet: string; spec: string }> {
    const r = this.tmux(
      'list-panes',
      '-a',
      '-F',
      '#{session_name}|#{pane_pid}|#{pane_dead}|#{pane_current_command}|#{@gitfleet-fleet}|#{@gitfleet-spec}',
    );
    const m = new Map();
    if (r.code !== 0) return m;
    for (const line of r.out.trim().split('\n').filter(Boolean)) {
      const [s, pid, dead, cmd, fleet, spec] = line.split('|');
      m.set(s, { pid: Number(pid), dead: dead === '1', cmd, fleet, spec });
    }
    return m;
  }

  cleanup(): void {
    this.tmux('kill-server');
    // Pane wrappers write their exit files as the server ends them, and on a loaded CI machine some only seconds
    // later: retry while the dir is still filling, for up to 10 s.
    const until = Date.now() + 10_000;
    for (;;) {
      try {
        rmSync(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || Date.now() > until) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      }
    }
  }
}

/** A roster on the fleet's private socket. */
export function roster(
  socket: string,
  agents: string,
  runtimes = 'stub:\n    command: [cat]\n    reset_command: /clear',
): string {
  return `version: 1\ntransport: tmux\ntmux:\n  socket_name: ${socket}\nruntimes:\n  ${runtimes}\nagents:\n${agents}`;
}

export async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The entry of `list` called `name`; a missing one fails the test here, naming it, rather than as a TypeError later.
 */
export function named<T extends { name: string }>(list: readonly T[], name: string): T {
  const found = list.find((x) => x.name === name);
  if (!found) throw new Error(`no entry named ${name} (have: ${list.map((x) => x.name).join(', ')})`);
  return found;
}
