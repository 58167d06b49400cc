// The only module that talks to a local repository. Reads committed objects
// and refs itself (git/odb.ts, git/refs.ts: loose objects and packs, loose and
// packed refs; isomorphic-git is not even loaded on this path) and writes
// status commits with git/objects.ts (crash-safe loose objects), directly in
// the object store: no work tree. A ref moves only by compare-and-swap under
// git's own `<ref>.lock` protocol, so a concurrent `git push` is never
// overwritten. A missing or damaged object is a TerminalError naming it,
// never an empty folder or a missing file.
import fs from 'node:fs';
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, GitfleetError, TerminalError, TransientError, UsageError } from '../errors.js';
import { configBoolean } from './config.js';
import type { TreeEntry } from './object-parse.js';
import { commitContent, fsyncDir, objectId, treeContent, writeObject } from './objects.js';
import { ObjectDb, ObjectNotFound } from './odb.js';
import { FILE_CONCURRENCY, pool } from '../pool.js';
import { RefStore } from './refs.js';
import { isRemoteRepo, redactUrl } from './remote-url.js';

export interface Author {
  name: string;
  email: string;
}

/** A file to write (content) or remove (null). */
/**
 * A file's text made only when it is needed: `blob` is the git blob id it is known to have (or null), so an entry
 * that already holds that blob stays without the text being made (reconcile.ts: the status dashboard).
 */
export interface LazyText {
  blob: string | null;
  text: () => string;
}
export type FileChange = { path: string; content: string | null | LazyText };

export type { TreeEntry } from './object-parse.js';

export class Repo {
  /** Objects read (and a bounded cache of them) and refs: per Repo, so a long-lived process drops them with it. */
  private readonly odb: ObjectDb;
  private readonly refs: RefStore;
  /**
   * Where this process notes the ref lock it holds (in its state dir, set by
   * apply, which holds the state dir's lock): a lock found later with the same
   * inode was left by a gitfleet killed mid-update, and is safe to remove.
   */
  lockJournal: string | null = null;
  /** What messages call it: its path, or for a private clone of a remote repository the URL (git/remote.ts). */
  label: string;
  private constructor(
    readonly gitdir: string,
    /** The work tree of a non-bare repository, or null for a bare one. */
    readonly workTree: string | null,
  ) {
    this.label = gitdir;
    this.odb = new ObjectDb(gitdir);
    this.refs = new RefStore(gitdir);
  }

  /**
   * Open a repository on this host: a bare repository, a `.git` folder, or a
   * work tree holding one. A remote `--repo` is opened by git/remote.ts
   * (a private clone); the commands that only take a path (install) refuse it here.
   */
  static async open(repoPath: string): Promise<Repo> {
    if (isRemoteRepo(repoPath)) {
      throw new UsageError(
        `--repo ${redactUrl(repoPath)}: remote repositories are not supported yet by this command; ` +
          'clone it on this host (git clone --bare URL fleet.git) and pass that path',
      );
    }
    const abs = path.resolve(repoPath);
    const dotGit = path.join(abs, '.git');
    if (isDir(dotGit)) return new Repo(dotGit, abs);
    if (isFile(path.join(abs, 'HEAD')) && isDir(path.join(abs, 'objects'))) {
      const config = readText(path.join(abs, 'config'));
      const bare = configBoolean(config, 'core', 'bare');
      const workTree = path.basename(abs) === '.git' && bare !== true ? path.dirname(abs) : null;
      return new Repo(abs, bare === false ? path.dirname(abs) : workTree);
    }
    if (!exists(abs)) throw new TerminalError(`--repo ${repoPath}: no such directory`);
    throw new TerminalError(
      `--repo ${repoPath}: not a git repository (expected a bare repository, a .git folder, or a work tree with one)`,
    );
  }

  /** The repository's name, for the default fleet name. */
  get name(): string {
    const dir = this.workTree ?? this.gitdir;
    return path.basename(dir).replace(/\.git$/, '') || 'fleet';
  }

  async resolve(ref: string): Promise<string | null> {
    const full = ref === 'HEAD' || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const oid = this.refs.resolve(full);
    if (oid === null && /^[0-9a-f]{40}$/.test(ref)) return ref;
    return oid;
  }

  /** An object id from a prefix (at least 4 hex digits), or null when none or several match. */
  async expandOid(prefix: string): Promise<string | null> {
    const hex = prefix.toLowerCase();
    if (!/^[0-9a-f]{4,40}$/.test(hex)) return null;
    const found = this.odb.expand(hex);
    return found.length === 1 ? found[0]! : null;
  }

  /**
   * The tree entry at `filepath` in a commit ('' is the root tree), or null
   * when the path is absent (or runs through something that is not a folder).
   * Its `type`/`mode` tell a file (blob 100644/100755) from a symbolic link
   * (blob 120000), a folder (tree 040000) and a submodule (commit 160000).
   */
  async entryAt(commit: string, filepath: string): Promise<TreeEntry | null> {
    const parts = filepath.split('/').filter(Boolean);
    let entry: TreeEntry = { mode: '040000', path: '', oid: (await this.commitOf(commit)).tree, type: 'tree' };
    for (let i = 0; i < parts.length; i++) {
      if (entry.type !== 'tree') return null;
      const entries = await this.treeEntries(entry.oid, folderLabel(parts.slice(0, i).join('/'), commit));
      const found = entries.find((e) => e.path === parts[i]);
      if (!found) return null;
      entry = found;
    }
    return entry;
  }

  /**
   * Entries of a folder in a commit's tree; [] when the folder is absent.
   * A path that is there but not a folder, or a folder whose tree object is
   * missing, is a TerminalError: never read as "no files".
   */
  async listDir(commit: string, dir: string): Promise<TreeEntry[]> {
    const entry = await this.entryAt(commit, dir);
    if (!entry) return [];
    if (entry.type !== 'tree') {
      throw new TerminalError(`${dir} at commit ${commit} is ${entryKind(entry)}, not a folder`);
    }
    return this.treeEntries(entry.oid, folderLabel(dir, commit));
  }

  /** A blob's text; `where` (its path) names it when the object is missing or damaged. */
  async readBlob(oid: string, where = 'blob'): Promise<string> {
    try {
      return this.odb.blob(oid).toString('utf8');
    } catch (e) {
      throw this.damaged(e, oid, where);
    }
  }

  /** A file at a commit, or null when absent; a folder, link or submodule there is a TerminalError. */
  async readFileAt(commit: string, filepath: string): Promise<{ blob: string; text: string } | null> {
    const entry = await this.entryAt(commit, filepath);
    if (!entry) return null;
    if (entry.type !== 'blob' || entry.mode === '120000') {
      throw new TerminalError(`${filepath} at commit ${commit} is ${entryKind(entry)}, not a file`);
    }
    return { blob: entry.oid, text: await this.readBlob(entry.oid, filepath) };
  }

  /**
   * Refuse, before anything is applied, to run while `refs/heads/<branch>.lock`
   * exists: a ref update would fail after the actions ran. A lock held by a
   * running git goes away in moments, so wait up to `waitMs` for that.
   */
  async assertRefUnlocked(branch: string, waitMs = 2000): Promise<void> {
    const lock = path.join(this.gitdir, 'refs', 'heads', `${branch}.lock`);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const st = statOf(lock);
      if (!st) return;
      if (await this.removeOwnStaleLock(lock, st)) return;
      if (Date.now() >= deadline) {
        const age = Math.max(0, Math.round((Date.now() - st.mtimeMs) / 1000));
        throw new TransientError(
          `${lock} exists (age ${age} s): a git process crashed while updating ${branch}, or one is running now; ` +
            'if no git process is running, remove it',
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A ref lock this state dir's gitfleet took and was killed holding (see lockJournal): remove it. */
  private async removeOwnStaleLock(lock: string, st: { ino: number; ctimeMs: number }): Promise<boolean> {
    if (!this.lockJournal) return false;
    let noted: { lock?: string; ino?: number; at?: number } | null = null;
    try {
      noted = JSON.parse(await readFile(this.lockJournal, 'utf8'));
    } catch {
      return false; // none, or unreadable: not known to be ours
    }
    if (!noted || noted.lock !== lock) return false;
    // Noted before the lock was taken (killed before its inode was): ours only if it was made right after.
    const ours =
      typeof noted.ino === 'number'
        ? noted.ino === st.ino
        : typeof noted.at === 'number' && st.ctimeMs >= noted.at - 1000 && st.ctimeMs <= noted.at + 5000;
    if (!ours) return false;
    await rm(lock, { force: true });
    await rm(this.lockJournal, { force: true });
    return true;
  }

  private async commitOf(oid: string) {
    try {
      return this.odb.commit(oid);
    } catch (e) {
      throw this.damaged(e, oid, 'commit');
    }
  }

  private async treeEntries(oid: string, where: string): Promise<TreeEntry[]> {
    try {
      return this.odb.tree(oid);
    } catch (e) {
      throw this.damaged(e, oid, where);
    }
  }

  /** A missing or unreadable object: the repository is damaged. */
  private damaged(e: unknown, oid: string, where: string): GitfleetError {
    if (e instanceof GitfleetError) return e;
    const what =
      e instanceof ObjectNotFound && e.oid === oid
        ? `is missing from ${this.gitdir}`
        : `cannot be read from ${this.gitdir} (${errorMessage(e)})`;
    return new TerminalError(`object ${oid} (${where}) ${what}: the repository is damaged; run git fsck`, { cause: e });
  }

  /**
   * The newest commit on the first-parent line from `head` that changed
   * anything outside `ownDirs`: gitfleet's own status commits are not
   * desired-state changes, so they never make it reconcile anew.
   */
  async desiredRevision(head: string, ownDirs: readonly string[], maxWalk = 500): Promise<string> {
    let oid = head;
    for (let i = 0; i < maxWalk; i++) {
      const commit = await this.commitOf(oid);
      const parent = commit.parent[0];
      if (!parent) return oid;
      const p = await this.commitOf(parent);
      if (!(await this.onlyTouches(p.tree, commit.tree, ownDirs))) return oid;
      oid = parent;
    }
    return oid;
  }

  private async onlyTouches(treeA: string, treeB: string, ownDirs: readonly string[]): Promise<boolean> {
    if (treeA === treeB) return true;
    const [a, b] = await Promise.all([treeA, treeB].map((t) => this.treeEntries(t, 'root tree')));
    const key = (e: TreeEntry) => `${e.mode} ${e.oid}`;
    const ma = new Map(a!.filter((e) => !ownDirs.includes(e.path)).map((e) => [e.path, key(e)]));
    const mb = b!.filter((e) => !ownDirs.includes(e.path));
    return ma.size === mb.length && mb.every((e) => ma.get(e.path) === key(e));
  }

  /**
   * The commit that wrote the version of `filepath` seen at `head`: walk the
   * first-parent line while the file is unchanged (at most `maxWalk` steps;
   * the oldest commit reached then).
   */
  async lastChange(head: string, filepath: string, maxWalk = 500): Promise<string | null> {
    const blob = (await this.entryAt(head, filepath))?.oid;
    if (!blob) return null;
    let oid = head;
    for (let i = 0; i < maxWalk; i++) {
      const parent = await this.firstParent(oid);
      if (!parent || (await this.entryAt(parent, filepath))?.oid !== blob) return oid;
      oid = parent;
    }
    return oid;
  }

  /** The paths a commit changes against its first parent (every path, for a root commit), and its parent count. */
  async changedPaths(oid: string): Promise<{ parents: number; paths: string[] }> {
    const commit = await this.commitOf(oid);
    const parent = commit.parent[0] ? (await this.commitOf(commit.parent[0])).tree : null;
    const paths: string[] = [];
    await this.diffTrees(parent, commit.tree, '', paths);
    return { parents: commit.parent.length, paths };
  }

  private async diffTrees(a: string | null, b: string | null, dir: string, out: string[]): Promise<void> {
    if (a === b) return;
    const list = async (t: string | null) =>
      new Map((t ? await this.treeEntries(t, dir || 'root tree') : []).map((e) => [e.path, e]));
    const [ea, eb] = await Promise.all([list(a), list(b)]);
    for (const name of new Set([...ea.keys(), ...eb.keys()])) {
      const x = ea.get(name);
      const y = eb.get(name);
      if (x && y && x.oid === y.oid && x.mode === y.mode) continue;
      const p = dir ? `${dir}/${name}` : name;
      const tree = (e: TreeEntry | undefined) => (e?.type === 'tree' ? e.oid : null);
      if (x?.type === 'tree' || y?.type === 'tree') {
        // A file replaced by a folder (or back) changes the file's path too.
        if ((x && x.type !== 'tree') || (y && y.type !== 'tree')) out.push(p);
        await this.diffTrees(tree(x), tree(y), p, out);
      } else out.push(p);
    }
  }

  async firstParent(oid: string): Promise<string | undefined> {
    return (await this.commitOf(oid)).parent[0];
  }

  /** Local branch names, for error messages. */
  async branches(): Promise<string[]> {
    try {
      return [...this.refs.under('refs/heads/').keys()];
    } catch {
      return [];
    }
  }

  /**
   * Where `branch` is checked out in a work tree (this repository's or a
   * linked one), or null. Moving such a branch would leave that work tree out
   * of step with its HEAD.
   */
  async checkedOutAt(branch: string): Promise<string | null> {
    const ref = `refs/heads/${branch}`;
    const heads: { head: string; tree: string }[] = [];
    if (this.workTree) heads.push({ head: path.join(this.gitdir, 'HEAD'), tree: this.workTree });
    const wt = path.join(this.gitdir, 'worktrees');
    for (const name of readNames(wt)) {
      const gitdirFile = readText(path.join(wt, name, 'gitdir'));
      heads.push({ head: path.join(wt, name, 'HEAD'), tree: path.dirname(gitdirFile.trim()) || name });
    }
    for (const h of heads) {
      const text = readText(h.head);
      if (text.trim() === `ref: ${ref}`) return h.tree;
    }
    return null;
  }

  /** Refuse, before anything is done, to move a branch a work tree has checked out. */
  async assertCanMove(branch: string): Promise<void> {
    const where = await this.checkedOutAt(branch);
    if (where) {
      throw new TerminalError(
        `refusing to commit status to branch "${branch}": it is checked out in the work tree ${where}, ` +
          'which would be left out of step. Use a bare repository (git clone --bare), ' +
          'or set status.branch in fleet.yaml to a branch nobody checks out.',
      );
    }
  }

  /** Refs under `prefix` (e.g. `refs/gitfleet/alive/`): name below it → commit. */
  async refsUnder(prefix: string): Promise<Map<string, string>> {
    return this.refs.under(prefix.endsWith('/') ? prefix : `${prefix}/`);
  }

  /** A commit's message and committer time; null when it is missing or not a commit. */
  async commitInfo(oid: string): Promise<{ message: string; committedAt: Date } | null> {
    try {
      const c = this.odb.commit(oid);
      return { message: c.message, committedAt: new Date(c.committer.timestamp * 1000) };
    } catch {
      return null;
    }
  }

  /** A commit with no parent and an empty tree (a liveness record, status/liveness.ts), written durably. */
  async writeOrphanCommit(opts: { message: string; author: Author; now: Date }): Promise<string> {
    const tree = await writeObject(this.gitdir, 'tree', Buffer.alloc(0));
    const when = { timestamp: Math.floor(opts.now.getTime() / 1000), timezoneOffset: 0 };
    const content = commitContent({
      message: opts.message,
      tree,
      parent: [],
      author: { ...opts.author, ...when },
      committer: { ...opts.author, ...when },
    });
    return writeObject(this.gitdir, 'commit', content);
  }

  /**
   * Point `ref` at `oid` (null: delete it), whatever it held: for refs only this reconciler writes (its liveness
   * ref). Still under git's `<ref>.lock`, so a concurrent git never reads it half written.
   */
  async setRef(ref: string, oid: string | null): Promise<void> {
    if (oid === null) {
      await this.refs.delete(ref);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const swap = await this.compareAndSwap(ref, await this.resolve(ref), oid);
      if (swap === 'done') return;
      if (attempt >= 5) throw new TransientError(`${ref} is locked (${ref}.lock); will retry next run`);
    }
  }

  /**
   * Commit `changes` on top of `branch` (or of `base` when the branch does
   * not exist yet). Only the given paths change; everything else is kept
   * from the parent, so a retry on a moved head never undoes a human's
   * commit. Returns the new commit, or null when nothing would change.
   */
  async commitFiles(opts: {
    branch: string;
    base: string;
    changes: readonly FileChange[];
    message: string;
    author: Author;
    now: Date;
    attempts?: number;
    /** Called with each parent the commit would be made on; throws to write nothing (reconcile.ts: a file's owner). */
    guard?: (parent: string) => Promise<void>;
  }): Promise<string | null> {
    await this.assertCanMove(opts.branch);
    await this.assertRefUnlocked(opts.branch);
    const ref = `refs/heads/${opts.branch}`;
    const attempts = opts.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const current = await this.resolve(opts.branch);
      const parent = current ?? opts.base;
      await opts.guard?.(parent);
      const commit = await this.commitOf(parent);
      const tree =
        (await this.rewriteTree(commit.tree, '', opts.changes)) ??
        (await writeObject(this.gitdir, 'tree', Buffer.alloc(0)));
      if (tree === commit.tree && current) return null;
      const when = { timestamp: Math.floor(opts.now.getTime() / 1000), timezoneOffset: 0 };
      const content = commitContent({
        message: opts.message,
        tree,
        parent: [parent],
        author: { ...opts.author, ...when },
        committer: { ...opts.author, ...when },
      });
      const oid = await writeObject(this.gitdir, 'commit', content);
      const swap = await this.compareAndSwap(ref, current, oid);
      if (swap === 'done') return oid;
      if (attempt >= attempts) {
        // A lock that stayed through every attempt is reported as what it is.
        if (swap === 'locked') await this.assertRefUnlocked(opts.branch);
        throw new TransientError(`${ref} kept moving while gitfleet committed status; will retry next run`);
      }
    }
  }

  /**
   * Rewrite a tree with `changes` (paths relative to it), writing only the
   * blobs and subtrees on changed paths. Null when the result is empty.
   */
  private async rewriteTree(
    treeOid: string | null,
    dir: string,
    changes: readonly FileChange[],
  ): Promise<string | null> {
    const entries = new Map<string, TreeEntry>();
    if (treeOid) {
      for (const e of await this.treeEntries(treeOid, dir ? `${dir}/` : 'root tree')) entries.set(e.path, e);
    }
    const byName = new Map<string, FileChange[]>();
    for (const c of changes) {
      const slash = c.path.indexOf('/');
      const name = slash < 0 ? c.path : c.path.slice(0, slash);
      if (!name) continue;
      // Appended in place: copying the list per change was quadratic in the files of one folder (evidence).
      let list = byName.get(name);
      if (!list) {
        list = [];
        byName.set(name, list);
      }
      list.push({ path: slash < 0 ? '' : c.path.slice(slash + 1), content: c.content });
    }
    // A folder's new blobs are written a few at a time: one after the other, each object's write, fsync, rename
    // and folder fsync made the evidence of a cold start (one file per action) most of its status commit.
    const blobs: { name: string; content: Buffer }[] = [];
    for (const [name, list] of byName) {
      const leaf = list.find((c) => c.path === '');
      if (leaf?.content === null) entries.delete(name);
      else if (leaf) {
        const same = entries.get(name);
        const lazy = typeof leaf.content === 'string' ? null : leaf.content;
        if (lazy && same?.type === 'blob' && lazy.blob === same.oid) {
          entries.set(name, { mode: '100644', path: name, oid: same.oid, type: 'blob' });
          continue;
        }
        const content = Buffer.from(lazy ? lazy.text() : (leaf.content as string), 'utf8');
        // Unchanged (the status of a no-op run): the parent's tree already holds that blob; hashing says so without
        // reading it back and inflating it, as writeObject does to reuse a loose copy.
        if (same?.type === 'blob' && same.oid === objectId('blob', content)) {
          entries.set(name, { mode: '100644', path: name, oid: same.oid, type: 'blob' });
        } else blobs.push({ name, content });
      } else {
        const existing = entries.get(name);
        const sub = dir ? `${dir}/${name}` : name;
        const oid = await this.rewriteTree(existing?.type === 'tree' ? existing.oid : null, sub, list);
        if (oid === null) entries.delete(name);
        else entries.set(name, { mode: '040000', path: name, oid, type: 'tree' });
      }
    }
    await pool(blobs, FILE_CONCURRENCY, async ({ name, content }) => {
      const oid = await writeObject(this.gitdir, 'blob', content);
      entries.set(name, { mode: '100644', path: name, oid, type: 'blob' });
    });
    if (entries.size === 0) return null;
    const tree = treeContent([...entries.values()]);
    return treeOid === objectId('tree', tree) ? treeOid : writeObject(this.gitdir, 'tree', tree);
  }

  /**
   * git's ref locking: create `<ref>.lock` exclusively, check, write, fsync,
   * rename. The objects it names were fsynced before, so after a crash the
   * ref is either the old one or a commit that is whole.
   */
  private async compareAndSwap(
    ref: string,
    expected: string | null,
    next: string,
  ): Promise<'done' | 'moved' | 'locked'> {
    const refFile = path.join(this.gitdir, ref);
    const lock = `${refFile}.lock`;
    await fs.promises.mkdir(path.dirname(refFile), { recursive: true });
    let handle: FileHandle | undefined;
    // Noted before it is taken, so a kill between taking it and noting its inode still leaves it known as ours.
    if (this.lockJournal) await writeFileDurably(this.lockJournal, `${JSON.stringify({ lock, at: Date.now() })}\n`);
    try {
      handle = await open(lock, 'wx');
    } catch (e) {
      if (this.lockJournal) await rm(this.lockJournal, { force: true });
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        await new Promise((r) => setTimeout(r, 100));
        return 'locked';
      }
      throw e;
    }
    let renamed = false;
    try {
      if (this.lockJournal) {
        // Note the lock by inode, so a later run can tell it is ours if this process dies holding it.
        const { ino } = await handle.stat();
        await writeFileDurably(this.lockJournal, `${JSON.stringify({ lock, ino, pid: process.pid })}\n`);
      }
      const now = await this.resolve(ref);
      if (now !== expected) return 'moved';
      await handle.writeFile(`${next}\n`);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(lock, refFile);
      renamed = true;
    } finally {
      if (handle) await handle.close();
      // Once renamed, the lock name may already be another writer's: leave it.
      if (!renamed) await rm(lock, { force: true });
      if (this.lockJournal) await rm(this.lockJournal, { force: true });
    }
    await fsyncDir(path.dirname(refFile));
    return 'done';
  }
}

/** Whole or not at all: a kill mid-write leaves the old file (or none), never a torn one. */
async function writeFileDurably(file: string, content: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const h = await open(tmp, 'w', 0o600);
  try {
    await h.writeFile(content);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

function folderLabel(dir: string, commit: string): string {
  return dir ? `${dir}/` : `root tree of commit ${commit}`;
}

function entryKind(e: TreeEntry): string {
  if (e.mode === '120000') return 'a symbolic link';
  if (e.type === 'commit') return 'a submodule (gitlink)';
  return e.type === 'tree' ? 'a folder' : 'a file';
}

// Synchronous, like git/odb.ts and git/refs.ts: a stat or a tiny file read costs less than the thread-pool round
// trip fs/promises adds to each.
/** A path's stat, or undefined when there is nothing there (or it cannot be looked at). */
function statOf(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
function isDir(p: string): boolean {
  return statOf(p)?.isDirectory() ?? false;
}
function isFile(p: string): boolean {
  return statOf(p)?.isFile() ?? false;
}
function exists(p: string): boolean {
  return statOf(p) !== undefined;
}
/** A small file's text, '' when it cannot be read. */
function readText(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
function readNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
