// `gitfleet run` as a child process of the test: the built dist/cli.js, its log lines collected as they come.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestFleet } from './fleet.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export class DaemonProcess {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(fleet: TestFleet, args: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    const argv = [CLI, 'run', '--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host, ...args];
    this.proc = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.stdout += d.toString()));
    this.proc.stderr!.on('data', (d) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  get lines(): string[] {
    return this.stdout.split('\n').filter(Boolean);
  }

  /** The reconcile log lines (human format). */
  reconciles(trigger?: string): string[] {
    return this.lines.filter((l) => / reconcile /.test(l) && (!trigger || l.includes(` trigger=${trigger} `)));
  }

  /** Wait until a log line matches; fails naming what the daemon said. */
  async waitForLine(re: RegExp, ms = 30_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit) return hit;
      if (Date.now() > end || this.proc.exitCode !== null)
        throw new Error(`no log line ${re} in time; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Wait until `count` lines match. */
  async waitForCount(re: RegExp, count: number, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (this.lines.filter((l) => re.test(l)).length < count) {
      if (Date.now() > end || this.proc.exitCode !== null)
        throw new Error(
          `fewer than ${count} log lines ${re} in time; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The listener's address, from the `started` line. */
  async address(): Promise<string> {
    const line = await this.waitForLine(/ started /);
    const m = / listen=(\S+)/.exec(line);
    if (!m) throw new Error(`no listen= in ${line}`);
    return `http://${m[1]}`;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill(signal);
    return this.exited;
  }
}
