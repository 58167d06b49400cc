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
import { actionEvidence, type EvidenceContext } from './evidence.js';

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
        const p = n === 1 ? file.path : file.path.replace(/(\.json)?$/, `-${n}$1`);
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
    const out: PendingFile[] = [];
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
        else if (d.isFile()) out.push({ path: p, content: await readFile(path.join(this.root, p), 'utf8') });
      }
    };
    await walk('');
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Forget files a commit now holds; empty folders go too. */
  async remove(paths: readonly string[]): Promise<void> {
    for (const p of paths) {
      await unlink(this.local(p)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      for (let dir = path.dirname(this.local(p)); dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
      }
    }
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
  const unsaved: ActionResult[] = [];
  return {
    onResult: async (r: ActionResult): Promise<void> => {
      await store.add(actionEvidence(r, ctx), taken).catch(() => unsaved.push(r));
    },
    /** What the status commit must hold: every pending file, and any this run could not keep. */
    files: async (): Promise<PendingFile[]> => {
      const memory: PendingFile[] = [];
      for (const r of unsaved.splice(0)) {
        const file = actionEvidence(r, ctx);
        await store.add(file, taken).catch(() => memory.push(file));
      }
      let kept: PendingFile[];
      try {
        kept = await store.list();
      } catch (e) {
        throw new TransientError(`cannot read the pending evidence in ${store.root}: ${errorMessage(e)}`);
      }
      const used = new Set(kept.map((f) => f.path));
      for (const f of memory) {
        let p = f.path;
        for (let n = 2; used.has(p) || (await taken(p)); n++) p = f.path.replace(/(\.json)?$/, `-${n}$1`);
        used.add(p);
        kept.push({ ...f, path: p });
      }
      return kept;
    },
    /** After the commit: forget what the branch now holds. */
    remove: (files: readonly PendingFile[]): Promise<void> => store.remove(files.map((f) => f.path)),
  };
}
