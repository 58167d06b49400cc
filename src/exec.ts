// The only module that starts processes (test/unit/safety.test.ts holds it
// so): every child gets a timeout that kills its whole process group.
import { execa } from 'execa';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * Run argv (never a shell string) and return its result; a non-zero exit is
 * a result, not an exception. Only a failure to start at all throws.
 */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty argv');
  const child = execa(file, args, {
    reject: false,
    stripFinalNewline: false,
    timeout: opts.timeoutMs ?? 30_000,
    // Own process group: on timeout we kill the group, not just the child.
    detached: true,
    forceKillAfterDelay: 2_000,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: true,
  });
  const res = await child;
  if (res.timedOut && child.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* group already gone */
    }
  }
  if (res.failed && res.exitCode === undefined && !res.timedOut) {
    const code = (res as { code?: string }).code;
    throw Object.assign(new Error(`cannot run ${file}: ${res.shortMessage ?? code}`), { code });
  }
  return {
    exitCode: res.exitCode ?? (res.timedOut ? 124 : 1),
    stdout: String(res.stdout ?? ''),
    stderr: String(res.stderr ?? ''),
    timedOut: res.timedOut === true,
  };
}
