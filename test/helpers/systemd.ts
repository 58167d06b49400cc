// A private systemd user manager for tests (DESIGN §10): its own runtime
// and config dirs, started in its own process group and stopped by its PID.
// Works as root without systemd as PID 1 once /run/systemd/system exists.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SYSTEMD = '/lib/systemd/systemd';

export class UserManager {
  readonly runtimeDir: string;
  readonly configHome: string;
  readonly env: Record<string, string>;
  private proc: ChildProcess | null = null;

  /** A new manager in fresh dirs, or (`after`) one on the dirs of a stopped manager: a reboot, as far as units go. */
  constructor(after?: UserManager) {
    const base = after ? path.dirname(after.runtimeDir) : mkdtempSync(path.join(os.tmpdir(), 'gitfleet-systemd-'));
    this.runtimeDir = path.join(base, 'run');
    this.configHome = path.join(base, 'config');
    if (after) {
      // A boot starts with an empty runtime dir.
      rmSync(this.runtimeDir, { recursive: true, force: true });
    } else {
      mkdirSync(this.configHome);
    }
    mkdirSync(this.runtimeDir, { mode: 0o700 });
    chmodSync(this.runtimeDir, 0o700);
    this.env = {
      ...(process.env as Record<string, string>),
      XDG_RUNTIME_DIR: this.runtimeDir,
      XDG_CONFIG_HOME: this.configHome,
      DBUS_SESSION_BUS_ADDRESS: '',
    };
  }

  get unitDir(): string {
    return path.join(this.configHome, 'systemd', 'user');
  }

  /** Start the manager; resolves once `systemctl --user` can reach it. */
  async start(timeoutMs = 10_000): Promise<void> {
    mkdirSync('/run/systemd/system', { recursive: true });
    this.proc = spawn(SYSTEMD, ['--user'], { env: this.env, detached: true, stdio: 'ignore' });
    const sock = path.join(this.runtimeDir, 'systemd', 'private');
    const end = Date.now() + timeoutMs;
    while (!existsSync(sock)) {
      if (Date.now() > end || this.proc.exitCode !== null)
        throw new Error(`systemd --user did not start (exit ${this.proc.exitCode})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    while (this.systemctl('show', '-p', 'Version').code !== 0) {
      if (Date.now() > end) throw new Error('systemd --user does not answer');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  systemctl(...args: string[]): { code: number; out: string; err: string } {
    const r = spawnSync('systemctl', ['--user', ...args], { env: this.env, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
  }

  show(unit: string, ...props: string[]): Record<string, string> {
    const out = this.systemctl('show', unit, ...props.flatMap((p) => ['-p', p])).out;
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  /** `systemd-analyze --user verify` with the manager's environment. */
  verify(...files: string[]): { code: number; out: string; err: string } {
    const r = spawnSync('systemd-analyze', ['--user', 'verify', ...files], {
      env: this.env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
  }

  /**
   * Stop the manager by its own PID (and its process group), then remove its dirs (unless `keep`: a reboot follows).
   */
  async stop(keep = false): Promise<void> {
    const p = this.proc;
    if (p?.pid && p.exitCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      // A loaded machine may take a while to stop every unit; only then is a kill the fallback.
      await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
      if (p.exitCode === null) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    if (!keep) rmSync(path.dirname(this.runtimeDir), { recursive: true, force: true });
  }
}

/** Whether a user manager can run here at all (systemd installed). */
export function systemdAvailable(): boolean {
  return existsSync(SYSTEMD) && spawnSync('systemctl', ['--version']).status === 0;
}
