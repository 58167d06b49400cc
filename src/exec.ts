// The only module that starts processes (test/unit/safety.test.ts holds it
// so): every child gets a timeout that kills its whole process group.
import { execa } from 'execa';
import { TerminalError } from './errors.js';
import { maskArgv } from './redact.js';

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

/** -v: told of each command run (program and first words, secrets masked), with its exit status and time. */
let trace: ((line: string) => void) | null = null;

export function traceRuns(to: ((line: string) => void) | null): void {
  trace = to;
}

/** The first words of argv, masked: enough to say which command ran, never a roster's env values. */
function traced(argv: readonly string[], res: { exitCode?: number; timedOut?: boolean }, ms: number): string {
  const words = maskArgv(argv.slice(0, 5));
  const end = res.timedOut ? 'timed out' : `exit ${res.exitCode ?? '?'}`;
  return `${words.join(' ')}${argv.length > 5 ? ' …' : ''} (${end}, ${Math.round(ms)} ms)`;
}

/**
 * Run argv (never a shell string) and return its result; a non-zero exit is
 * a result, not an exception. Only a failure to start at all throws.
 */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty argv');
  const started = performance.now();
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
  trace?.(traced(argv, res, performance.now() - started));
  if (res.timedOut && child.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* group already gone */
    }
  }
  if (res.failed && res.exitCode === undefined && !res.timedOut) {
    const code = (res as { code?: string }).code;
    throw Object.assign(new TerminalError(`cannot run ${file}: ${res.shortMessage ?? code}`), { code });
  }
  return {
    exitCode: res.exitCode ?? (res.timedOut ? 124 : 1),
    stdout: String(res.stdout ?? ''),
    stderr: String(res.stderr ?? ''),
    timedOut: res.timedOut === true,
  };
}

/**
 * Run argv on this terminal (stdio inherited) and return its exit status:
 * for the interactive verbs (`agent watch`, `agent attach`) only. No timeout,
 * no own process group (the child must be in the terminal's foreground group).
 * While it runs we ignore SIGINT/SIGQUIT as system(3) does and pass
 * SIGTERM/SIGHUP on, so the caller lives to clean up after it.
 */
export async function runInteractive(argv: readonly string[]): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new Error('runInteractive: empty argv');
  const child = execa(file, args, { reject: false, stdio: 'inherit', extendEnv: true });
  const ignore = () => {};
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  const signals = ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, s === 'SIGINT' || s === 'SIGQUIT' ? ignore : forward);
  try {
    const res = await child;
    if (res.failed && res.exitCode === undefined && !res.signal) {
      const code = (res as { code?: string }).code;
      throw Object.assign(new TerminalError(`cannot run ${file}: ${res.shortMessage ?? code}`), { code });
    }
    return res.exitCode ?? 128 + signalNumber(res.signal);
  } finally {
    for (const s of signals) {
      process.off(s, ignore);
      process.off(s, forward);
    }
  }
}

function signalNumber(signal: string | undefined): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal ?? ''] ?? 0;
}
