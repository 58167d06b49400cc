// systemctl --user: the only way gitfleet talks to the user manager.
import { existsSync } from 'node:fs';
import { TerminalError } from '../errors.js';
import { run, type RunResult } from '../exec.js';

export type UnitProps = Record<string, string>;

/** What systemctl says when it cannot reach the manager at all. */
const UNREACHABLE = [
  /Failed to connect to .*bus/,
  /Failed to get D-Bus connection/,
  /\$DBUS_SESSION_BUS_ADDRESS and \$XDG_RUNTIME_DIR not defined/,
  /System has not been booted with systemd/,
  /Connection refused/,
  /No medium found/,
  /Transport endpoint is not connected/,
];

/** The manager could not be reached at all (no bus, no runtime dir), as opposed to a command failing. */
export function isUnreachable(stderr: string): boolean {
  return UNREACHABLE.some((re) => re.test(stderr));
}

/** `systemctl show` output: blocks of KEY=VALUE lines separated by blank lines, one block per unit. */
export function parseShow(stdout: string): UnitProps[] {
  return stdout
    .split(/\n\n+/)
    .map((block) => {
      const props: UnitProps = {};
      for (const line of block.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return props;
    })
    .filter((p) => Object.keys(p).length > 0);
}

/**
 * The environment systemctl --user needs. Cron runs have no XDG_RUNTIME_DIR:
 * the user's manager, if any, listens in /run/user/<uid>, so use that.
 */
export function managerEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const uid = process.getuid?.();
  if (!out.XDG_RUNTIME_DIR && uid !== undefined && existsSync(`/run/user/${uid}/systemd/private`))
    out.XDG_RUNTIME_DIR = `/run/user/${uid}`;
  return out;
}

/** How a failed systemctl call is reported, everywhere. */
export function failureMessage(args: readonly string[], r: RunResult): string {
  const said = (r.stderr || r.stdout).trim() || 'no output';
  return `systemctl --user ${args.join(' ')} failed (exit ${r.exitCode}): ${said}`;
}

export class Systemctl {
  protected readonly envVars: Record<string, string>;

  constructor(env: NodeJS.ProcessEnv) {
    this.envVars = managerEnv(env);
  }

  argv(args: readonly string[]): string[] {
    return ['systemctl', '--user', ...args];
  }

  async call(...args: string[]): Promise<RunResult> {
    return run(this.argv(args), { env: this.envVars, timeoutMs: 60_000 });
  }

  async must(...args: string[]): Promise<RunResult> {
    const r = await this.call(...args);
    if (r.exitCode !== 0) throw this.failure(args, r);
    return r;
  }

  failure(args: readonly string[], r: RunResult): TerminalError {
    return new TerminalError(failureMessage(args, r));
  }

  /** Properties of one unit. */
  async show(unit: string, props: readonly string[]): Promise<UnitProps> {
    const r = await this.must('show', unit, ...props.flatMap((p) => ['-p', p]));
    return parseShow(r.stdout)[0] ?? {};
  }
}
