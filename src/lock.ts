// One reconciler per state dir: an exclusive lock file holding who took it.
// A lock whose holder process is gone is stale and taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TransientError } from './errors.js';
import { processExists } from './files.js';

export interface Lock {
  path: string;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
  since: string;
  command: string;
}

export async function acquireLock(stateDir: string, command: string, waitMs = 5_000): Promise<Lock> {
  await mkdir(stateDir, { recursive: true });
  const file = path.join(stateDir, 'reconcile.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const h = await open(file, 'wx');
      const me: Holder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), command };
      await h.writeFile(JSON.stringify(me) + '\n');
      await h.close();
      return { path: file, release: () => rm(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(file);
    if (holder && holder.host === os.hostname() && !processExists(holder.pid)) {
      await rm(file, { force: true }); // stale: its process is gone
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `pid ${holder.pid} on ${holder.host} (${holder.command}), since ${holder.since}` : 'an unknown process';
      throw new TransientError(`another gitfleet holds the lock ${file}: ${who}; try again when it has finished`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function readHolder(file: string): Promise<Holder | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Holder;
  } catch {
    return null;
  }
}

