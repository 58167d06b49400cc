// The only module that talks to git. Reads committed objects and writes
// status commits with isomorphic-git, directly in the object store: no work
// tree. A ref moves only by compare-and-swap under git's own `<ref>.lock`
// protocol, so a concurrent `git push` is never overwritten.
import fs from 'node:fs';
import { open, readFile, rename, rm, stat, readdir } from 'node:fs/promises';
import path from 'node:path';
import git, { type TreeEntry } from 'isomorphic-git';
import { TerminalError, TransientError, UsageError } from '../errors.js';

export interface Author {
  name: string;
  email: string;
}

/** A file to write (content) or remove (null). */
export type FileChange = { path: string; content: string | null };

const isRemote = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/]+@[^/]+:/.test(s);

export class Repo {
  private readonly cache = {};
  private constructor(
    readonly gitdir: string,
    /** The work tree of a non-bare repository, or null for a bare one. */
    readonly workTree: string | null,
  ) {}

  /** Open `--repo`: a bare repository, a `.git` folder, or a work tree holding one. */
  static async open(repoPath: string): Promise<Repo> {
    if (isRemote(repoPath)) {
      throw new UsageError(
        `--repo ${redactUrl(repoPath)}: remote repositories are not supported yet; ` +
          'clone it on this host (git clone --bare URL fleet.git) and pass that path',
      );
    }
    const abs = path.resolve(repoPath);
    const dotGit = path.join(abs, '.git');
    if (await isDir(dotGit)) return new Repo(dotGit, abs);
    if ((await isFile(path.join(abs, 'HEAD'))) && (await isDir(path.join(abs, 'objects')))) {
      const bare = await git.getConfig({ fs, gitdir: abs, path: 'core.bare' }).catch(() => undefined);
      const workTree = path.basename(abs) === '.git' && bare !== true ? path.dirname(abs) : null;
      return new Repo(abs, bare === false ? path.dirname(abs) : workTree);
    }
    if (!(await exists(abs))) throw new TerminalError(`--repo ${repoPath}: no such directory`);
    throw new TerminalError(`--repo ${repoPath}: not a git repository (expected a bare repository, a .git folder, or a work tree with one)`);
  }

  /** The repository's name, for the default fleet name. */
  get name(): string {
    const dir = this.workTree ?? this.gitdir;
    return path.basename(dir).replace(/\.git$/, '') || 'fleet';
  }

  async resolve(ref: string): Promise<string | null> {
    const full = ref === 'HEAD' || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    try {
      return await git.resolveRef({ fs, gitdir: this.gitdir, ref: full });
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFoundError') {
        if (/^[0-9a-f]{40}$/.test(ref)) return ref;
        return null;
      }
      throw e;
    }
  }

  /** Entries of a directory in a commit's tree; [] when the directory is absent. */
  async listDir(commit: string, dir: string): Promise<TreeEntry[]> {
    try {
      const { tree } = await git.readTree({ fs, gitdir: this.gitdir, oid: commit, filepath: dir, cache: this.cache });
      return tree;
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  }

  async readBlob(oid: string): Promise<string> {
    const { blob } = await git.readBlob({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    return Buffer.from(blob).toString('utf8');
  }

  /** A file at a commit, or null when absent. */
  async readFileAt(commit: string, filepath: string): Promise<{ blob: string; text: string } | null> {
    try {
      const { oid, blob } = await git.readBlob({ fs, gitdir: this.gitdir, oid: commit, filepath, cache: this.cache });
      return { blob: oid, text: Buffer.from(blob).toString('utf8') };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /**
   * The newest commit on the first-parent line from `head` that changed
   * anything outside `ownDirs`: gitfleet's own status commits are not
   * desired-state changes, so they never make it reconcile anew.
   */
  async desiredRevision(head: string, ownDirs: readonly string[], maxWalk = 500): Promise<string> {
    let oid = head;
    for (let i = 0; i < maxWalk; i++) {
      const { commit } = await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache });
      const parent = commit.parent[0];
      if (!parent) return oid;
      const { commit: p } = await git.readCommit({ fs, gitdir: this.gitdir, oid: parent, cache: this.cache });
      if (!(await this.onlyTouches(p.tree, commit.tree, ownDirs))) return oid;
      oid = parent;
    }
    return oid;
  }

  private async onlyTouches(treeA: string, treeB: string, ownDirs: readonly string[]): Promise<boolean> {
    if (treeA === treeB) return true;
    const top = (t: string) => git.readTree({ fs, gitdir: this.gitdir, oid: t, cache: this.cache });
    const [a, b] = await Promise.all([top(treeA), top(treeB)]);
    const key = (e: TreeEntry) => `${e.mode} ${e.oid}`;
    const ma = new Map(a.tree.filter((e) => !ownDirs.includes(e.path)).map((e) => [e.path, key(e)]));
    const mb = b.tree.filter((e) => !ownDirs.includes(e.path));
    return ma.size === mb.length && mb.every((e) => ma.get(e.path) === key(e));
  }

  /**
   * The commit that wrote the version of `filepath` seen at `head`: walk the
   * first-parent line while the file is unchanged (at most `maxWalk` steps;
   * the oldest commit reached then).
   */
  async lastChange(head: string, filepath: string, maxWalk = 500): Promise<string | null> {
    const blob = (await this.readFileAt(head, filepath))?.blob;
    if (!blob) return null;
    let oid = head;
    for (let i = 0; i < maxWalk; i++) {
      const parent = await this.firstParent(oid);
      if (!parent || (await this.readFileAt(parent, filepath))?.blob !== blob) return oid;
      oid = parent;
    }
    return oid;
  }

  async firstParent(oid: string): Promise<string | undefined> {
    const { commit } = await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    return commit.parent[0];
  }

  /** Local branch names, for error messages. */
  async branches(): Promise<string[]> {
    return git.listBranches({ fs, gitdir: this.gitdir }).catch(() => []);
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
    for (const name of await readdir(wt).catch(() => [] as string[])) {
      const gitdirFile = await readFile(path.join(wt, name, 'gitdir'), 'utf8').catch(() => '');
      heads.push({ head: path.join(wt, name, 'HEAD'), tree: path.dirname(gitdirFile.trim()) || name });
    }
    for (const h of heads) {
      const text = await readFile(h.head, 'utf8').catch(() => '');
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
  }): Promise<string | null> {
    await this.assertCanMove(opts.branch);
    const ref = `refs/heads/${opts.branch}`;
    const attempts = opts.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const current = await this.resolve(opts.branch);
      const parent = current ?? opts.base;
      const { commit } = await git.readCommit({ fs, gitdir: this.gitdir, oid: parent, cache: this.cache });
      const tree = (await this.rewriteTree(commit.tree, opts.changes)) ?? (await git.writeTree({ fs, gitdir: this.gitdir, tree: [] }));
      if (tree === commit.tree && current) return null;
      const when = { timestamp: Math.floor(opts.now.getTime() / 1000), timezoneOffset: 0 };
      const oid = await git.writeCommit({
        fs,
        gitdir: this.gitdir,
        commit: {
          message: opts.message.endsWith('\n') ? opts.message : `${opts.message}\n`,
          tree,
          parent: [parent],
          author: { ...opts.author, ...when },
          committer: { ...opts.author, ...when },
        },
      });
      if (await this.compareAndSwap(ref, current, oid)) return oid;
      if (attempt >= attempts) throw new TransientError(`${ref} kept moving while gitfleet committed status; will retry next run`);
    }
  }

  /**
   * Rewrite a tree with `changes` (paths relative to it), writing only the
   * blobs and subtrees on changed paths. Null when the result is empty.
   */
  private async rewriteTree(treeOid: string | null, changes: readonly FileChange[]): Promise<string | null> {
    const entries = new Map<string, TreeEntry>();
    if (treeOid) {
      const { tree } = await git.readTree({ fs, gitdir: this.gitdir, oid: treeOid, cache: this.cache });
      for (const e of tree) entries.set(e.path, e);
    }
    const byName = new Map<string, FileChange[]>();
    for (const c of changes) {
      const slash = c.path.indexOf('/');
      const name = slash < 0 ? c.path : c.path.slice(0, slash);
      if (!name) continue;
      byName.set(name, [...(byName.get(name) ?? []), { path: slash < 0 ? '' : c.path.slice(slash + 1), content: c.content }]);
    }
    for (const [name, list] of byName) {
      const leaf = list.find((c) => c.path === '');
      if (leaf?.content === null) entries.delete(name);
      else if (leaf) {
        const oid = await git.writeBlob({ fs, gitdir: this.gitdir, blob: Buffer.from(leaf.content, 'utf8') });
        entries.set(name, { mode: '100644', path: name, oid, type: 'blob' });
      } else {
        const existing = entries.get(name);
        const oid = await this.rewriteTree(existing?.type === 'tree' ? existing.oid : null, list);
        if (oid === null) entries.delete(name);
        else entries.set(name, { mode: '040000', path: name, oid, type: 'tree' });
      }
    }
    if (entries.size === 0) return null;
    return git.writeTree({ fs, gitdir: this.gitdir, tree: [...entries.values()] });
  }

  /** git's ref locking: create `<ref>.lock` exclusively, check, write, rename. */
  private async compareAndSwap(ref: string, expected: string | null, next: string): Promise<boolean> {
    const refFile = path.join(this.gitdir, ref);
    const lock = `${refFile}.lock`;
    await fs.promises.mkdir(path.dirname(refFile), { recursive: true });
    let handle;
    try {
      handle = await open(lock, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        await new Promise((r) => setTimeout(r, 100));
        return false;
      }
      throw e;
    }
    try {
      const now = await this.resolve(ref);
      if (now !== expected) return false;
      await handle.writeFile(`${next}\n`);
      await handle.close();
      handle = undefined;
      await rename(lock, refFile);
      return true;
    } finally {
      if (handle) await handle.close();
      await rm(lock, { force: true });
    }
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'NotFoundError' || code === 'ObjectTypeError';
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}
async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isFile() ?? false;
}
async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null)) !== null;
}
