// Evidence waits in the state dir until a status commit holds it. Each
// action's file is written as soon as the action finishes, so a kill or a
// failed commit loses none: the next status commit (of this run, or of a later
// one) takes every pending file, and they are removed only after the branch
// moved. A file is never overwritten: a path already pending or committed gets
// a `-2`, `-3`, ... suffix.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ActionResult } from '../apply/types.js';
import { TransientError, errorMessage } from '../errors.js';
import { fsyncDir } from '../git/objects.js';
import { FILE_CONCURRENCY, pool } from '../pool.js';
import type { Action } from '../plan/types.js';
import { writeAtomic } from '../files.js';
import { actionEvidence, interruptedEvidence, suffixed, type EvidenceContext } from './evidence.js';

/** One action's attempt id: ties its write-ahead record to its final one. */
const newAttempt = (): string => `${process.pid}-${randomBytes(6).toString('hex')}`;

export interface PendingFile {
  /** Repository-relative: evidence/<host>/<day>/<file>.json */
  path: string;
  content: string;
}

/** Whether a repository path is already used (committed) on the status branch. */
export type Taken = (repoPath: string) => Promise<boolean>;

export class PendingEvidence {
  /** <stateDir>/pending/<fleet>: holds evidence/... as in the repository. */
  readonly root: string;

  constructor(stateDir: string, fleet: string) {
    const safe = fleet.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+$/, '_');
    this.root = path.join(stateDir, 'pending', safe);
  }

  /**
   * Keep `file` (durably: fsync, then a hard link, which never replaces an
   * existing file) at its path or the first free suffixed one; returns the
   * path used.
   */
  async add(file: PendingFile, taken: Taken): Promise<string> {
    const dir = path.dirname(this.local(file.path));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const h = await open(tmp, 'wx', 0o600);
    try {
      await h.writeFile(file.content);
      await h.sync();
    } finally {
      await h.close();
    }
    try {
      for (let n = 1; ; n++) {
        const p = suffixed(file.path, n);
        if (await taken(p)) continue;
        try {
          await link(tmp, this.local(p));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
          throw e;
        }
        await fsyncDir(dir);
        return p;
      }
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Every pending file, this run's and any an earlier run left, by path. */
  async list(): Promise<PendingFile[]> {
    const files: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const dirents = await readdir(path.join(this.root, rel), { withFileTypes: true }).catch(
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return [];
          throw e;
        },
      );
      for (const d of dirents) {
        if (d.name.startsWith('.')) continue; // a temporary file of a killed writer
        const p = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) await walk(p);
        else if (d.isFile()) files.push(p);
      }
    };
    await walk('');
    const out = await pool(files, FILE_CONCURRENCY, async (p) => ({
      path: p,
      content: await readFile(path.join(this.root, p), 'utf8'),
    }));
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Forget files a commit now holds; empty folders go too. */
  async remove(paths: readonly string[]): Promise<void> {
    await pool(paths, FILE_CONCURRENCY, (p) =>
      unlink(this.local(p)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      }),
    );
    // Then each folder that held them, deepest first (a child's path is longer than its parent's): one that is
    // not empty stays.
    const dirs = new Set<string>();
    for (const p of paths) {
      for (let dir = path.dirname(this.local(p)); dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) {
        dirs.add(dir);
      }
    }
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await rmdir(dir).catch(() => undefined);
  }

  /** Write-ahead record of an action about to start (src/status/evidence.ts interruptedEvidence). */
  async writeIntent(attempt: string, file: PendingFile): Promise<void> {
    await writeAtomic(this.intentPath(attempt), `${JSON.stringify(file)}\n`, 0o600, 0o700);
  }

  async dropIntent(attempt: string): Promise<void> {
    await unlink(this.intentPath(attempt)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  /**
   * Turn intents left by a run that was killed mid-action into pending
   * evidence, unless the attempt's final record is already pending (killed
   * after writing it) or the intent is this run's own (`skip`).
   */
  async recoverIntents(taken: Taken, skip: (attempt: string) => boolean): Promise<void> {
    const dir = path.join(this.root, '.intents');
    const names = await readdir(dir).catch(() => [] as string[]);
    const left = names.filter((n) => n.endsWith('.json') && !skip(n.slice(0, -5)));
    if (left.length === 0) return;
    const pending = await this.list();
    for (const name of left) {
      const attempt = name.slice(0, -5);
      const text = await readFile(path.join(dir, name), 'utf8').catch(() => null);
      const file = text === null ? null : (JSON.parse(text) as PendingFile);
      const finished = pending.some((f) => f.content.includes(`"attempt": ${JSON.stringify(attempt)}`));
      if (file && !finished) await this.add(file, taken);
      await this.dropIntent(attempt);
    }
  }

  private intentPath(attempt: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(attempt)) throw new Error(`not an attempt id: ${attempt}`);
    return path.join(this.root, '.intents', `${attempt}.json`);
  }

  private local(repoPath: string): string {
    const parts = repoPath.split('/');
    if (parts[0] !== 'evidence' || parts.some((s) => s === '' || s === '.' || s === '..')) {
      throw new Error(`not an evidence path: ${repoPath}`);
    }
    return path.join(this.root, ...parts);
  }
}

/**
 * apply's `onResult` hook: keeps each action's evidence as it finishes. A
 * write that fails is tried again by `files()` before the commit, and kept in
 * memory for the commit if it fails again.
 */
export function evidenceRecorder(store: PendingEvidence, ctx: EvidenceContext, taken: Taken) {
  const unsaved: { r: ActionResult; attempt: string }[] = [];
  // Write-ahead: an action's "interrupted" record exists before it starts, so a kill between the
  // action and its final record still leaves evidence. Keyed by the action object of this run.
  const attempts = new Map<Action, string>();
  return {
    onStart: async (action: Action, startedAt: string): Promise<void> => {
      const attempt = newAttempt();
      attempts.set(action, attempt);
      await store.writeIntent(attempt, interruptedEvidence(action, startedAt, ctx, attempt));
    },
    onResult: async (r: ActionResult): Promise<void> => {
      const attempt = attempts.get(r.action) ?? newAttempt();
      try {
        await store.add(actionEvidence(r, ctx, attempt), taken);
        await store.dropIntent(attempt);
      } catch {
        unsaved.push({ r, attempt });
      }
    },
    /** What the status commit must hold: every pending file, and any this run could not keep. */
    files: async (): Promise<PendingFile[]> => {
      const memory: PendingFile[] = [];
      for (const { r, attempt } of unsaved.splice(0)) {
        const file = actionEvidence(r, ctx, attempt);
        await store.add(file, taken).catch(() => memory.push(file));
      }
      // Intents an earlier (killed) run left: kept as "interrupted" evidence unless its final record made it.
      const mine = new Set(attempts.values());
      await store.recoverIntents(taken, (attempt) => mine.has(attempt));
      let kept: PendingFile[];
      try {
        kept = await store.list();
      } catch (e) {
        throw new TransientError(`cannot read the pending evidence in ${store.root}: ${errorMessage(e)}`);
      }
      const used = new Set(kept.map((f) => f.path));
      for (const f of memory) {
        let p = f.path;
        for (let n = 2; used.has(p) || (await taken(p)); n++) p = suffixed(f.path, n);
        used.add(p);
        kept.push({ ...f, path: p });
      }
      return kept;
    },
    /** After the commit: forget what the branch now holds (and this run's intents, now settled). */
    remove: async (files: readonly PendingFile[]): Promise<void> => {
      await store.remove(files.map((f) => f.path));
      for (const attempt of attempts.values()) await store.dropIntent(attempt);
    },
  };
}
