// One reconciler per state dir, held as a kernel object that dies with its
// holder: a Linux abstract-namespace unix socket named after the state dir.
// Binding it is atomic; the kernel releases it the instant the holder exits,
// however it exits (SIGKILL included), so there is no lock file to go stale,
// be left empty, or be taken over by mistake. Whoever holds it answers a
// connection with who it is, for the "lock held" message.
import { createHash } from 'node:crypto';
import { mkdir, realpath, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { TerminalError, TransientError } from './errors.js';

export interface Lock {
  name: string;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
  since: string;
  command: string;
}

/** The state dir must be a directory we can use: say so plainly when it is not. */
export async function ensureStateDir(stateDir: string): Promise<void> {
  const st = await stat(stateDir).catch(() => null);
  if (st && !st.isDirectory())
    throw new TerminalError(
      `--state-dir ${stateDir}: is a file, not a directory; allowed: a directory gitfleet may create and write`,
    );
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new TerminalError(
      `--state-dir ${stateDir}: cannot create it (${(e as NodeJS.ErrnoException).code ?? 'error'}); ` +
        'allowed: a directory gitfleet may create and write',
    );
  }
}

/**
 * `reconcile`: held by whoever reconciles (apply, a daemon's reconcile). `daemon`: held by `gitfleet run` for its
 * lifetime, so one host and tenant has one daemon, while `apply` by hand still runs between its reconciles.
 * `clone`: held around each write to a remote repository's private clone (git/clone-lock.ts).
 */
export type LockPurpose = 'reconcile' | 'daemon' | 'clone';

export async function lockName(dir: string, purpose: LockPurpose = 'reconcile'): Promise<string> {
  const real = await realpath(dir);
  return `\0gitfleet-${purpose}-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
}

export async function acquireLock(
  stateDir: string,
  command: string,
  waitMs = 5_000,
  purpose: LockPurpose = 'reconcile',
): Promise<Lock> {
  await ensureStateDir(stateDir);
  return acquireNamedLock(await lockName(stateDir, purpose), command, waitMs, {
    held: (who) =>
      new TransientError(
        `another gitfleet holds the lock of state dir ${stateDir}: ${who}; try again when it has finished`,
      ),
  });
}

export interface LockWait {
  /** The error thrown when the lock is still held after the wait; `who` names the holder. */
  held: (who: string) => Error;
  /** Called once, with who holds it, when the wait passes `slowMs`. */
  slow?: (who: string) => void;
  slowMs?: number;
}

/** Take the lock `name`, polling every 100 ms for up to `waitMs` while someone else holds it. */
export async function acquireNamedLock(name: string, command: string, waitMs: number, w: LockWait): Promise<Lock> {
  const me: Holder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), command };
  const started = Date.now();
  let said = false;
  for (;;) {
    const server = await bind(name, JSON.stringify(me));
    if (server) {
      return { name, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    }
    const waited = Date.now() - started;
    if (waited >= waitMs) throw w.held(await holderText(name));
    if (w.slow && !said && waited >= (w.slowMs ?? 1000)) {
      said = true;
      w.slow(await holderText(name));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function holderText(name: string): Promise<string> {
  const holder = await askHolder(name);
  return holder ? `pid ${holder.pid} (${holder.command}), since ${holder.since}` : 'another process';
}

/** Bind the name, or null when someone holds it. */
function bind(name: string, whoAmI: string): Promise<net.Server | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((c) => c.end(whoAmI));
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(null) : reject(e)));
    server.listen(name, () => {
      server.unref(); // the lock never keeps the process alive
      resolve(server);
    });
  });
}

async function askHolder(name: string): Promise<Holder | null> {
  return new Promise((resolve) => {
    let text = '';
    const c = net.connect(name);
    const done = (h: Holder | null) => {
      c.destroy();
      resolve(h);
    };
    c.setTimeout(1000, () => done(null));
    c.on('data', (d) => (text += d.toString()));
    c.on('end', () => {
      try {
        done(JSON.parse(text) as Holder);
      } catch {
        done(null);
      }
    });
    c.on('error', () => done(null));
  });
}
