// The only module that starts processes (test/unit/safety.test.ts holds it
// so): every child gets a timeout that kills its whole process group.
// run() uses node's child_process directly: it is on every reconcile's path,
// and execa (243 KB of bundle with its dependencies) cost a no-op apply ~25 ms
// of module compile and start-up (docs/performance.md). execa is loaded only
// for the interactive verbs (runInteractive).
import { spawn } from 'node:child_process';
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

/** How long a child that ignored SIGTERM at its timeout has before SIGKILL. */
const FORCE_KILL_AFTER_MS = 2_000;

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
  const res = await spawnCollect(file, args, opts);
  trace?.(traced(argv, { exitCode: res.exitCode ?? undefined, timedOut: res.timedOut }, performance.now() - started));
  if (res.timedOut) killGroup(res.pid);
  if (res.error) {
    const code = res.error.code;
    // The words execa used for a program that cannot start, kept so messages read as before.
    const why = `Command failed with ${code ?? 'an error'}: ${argv.join(' ')}\n${res.error.message}`;
    throw Object.assign(new TerminalError(`cannot run ${file}: ${why}`), { code });
  }
  return {
    exitCode: res.exitCode ?? (res.timedOut ? 124 : 1),
    stdout: res.stdout,
    stderr: res.stderr,
    timedOut: res.timedOut,
  };
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* group already gone */
  }
}

interface Collected {
  pid: number | undefined;
  /** null when a signal ended it. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES...). */
  error: NodeJS.ErrnoException | null;
}

/**
 * Start `file` in its own process group (so a timeout can kill the group), feed it `input`, collect its output
 * as UTF-8 and settle once it has exited and its output is closed. At the timeout it gets SIGTERM, and its
 * process group SIGKILL FORCE_KILL_AFTER_MS later if it is still there.
 */
function spawnCollect(file: string, args: readonly string[], opts: RunOptions): Promise<Collected> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      detached: true,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    let forceKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      // The whole group: a grandchild holding the output open would otherwise keep the run waiting.
      forceKill = setTimeout(() => killGroup(child.pid), FORCE_KILL_AFTER_MS);
    }, opts.timeoutMs ?? 30_000);
    const settle = (exitCode: number | null, error: NodeJS.ErrnoException | null) => {
      clearTimeout(timer);
      clearTimeout(forceKill);
      resolve({
        pid: child.pid,
        exitCode,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        error,
      });
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      // Only a failure to start ends the run here; once started, 'close' does.
      if (child.pid === undefined) settle(null, e);
    });
    child.once('close', (code) => settle(code, null));
    if (child.stdin) {
      // A program that exits without reading its input (EPIPE) is judged by its exit status, as before.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
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
  const { execa } = await import('execa');
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
