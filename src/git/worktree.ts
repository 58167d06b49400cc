// The files on disk in a repository's work tree, as a desired-state tree
// (desired/tree.ts): `validate --worktree` checks what would be committed
// with exactly the rules and positions it uses on a commit. An entry is
// described as git would record it (a file's blob id is git's hash of its
// bytes, a symbolic link is mode 120000, a folder holding a repository is a
// submodule), so desired/folder.ts judges it alike; files git ignores and
// does not track are not there, as they would not be committed. And which
// fleet files differ from HEAD: what `validate` and `plan` of a commit did
// not check. Reads only: the index is never written.
import fs from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { TreeEntry } from './object-parse.js';
import { FLEET_FILE } from '../desired/fleet-config.js';
import { globMatch } from '../desired/folder.js';
import type { DesiredTree } from '../desired/tree.js';
import { TerminalError } from '../errors.js';
import { run } from '../exec.js';
import { objectId } from './objects.js';

/** isomorphic-git (the index, .gitignore rules), loaded only when a work tree is read: not on apply's path. */
const isoGit = async () => (await import('isomorphic-git')).default;

/** A submodule's commit is not read (the folder is refused whatever it holds): any id stands in. */
const UNREAD = '0'.repeat(40);

/**
 * The work tree at `root` (of the repository at `gitdir`). `head` is its HEAD commit, where an invalid
 * fleet.yaml's last valid version is looked for (null before the first commit).
 */
export function workTreeOf(root: string, gitdir: string, head: string | null): DesiredTree {
  const texts = new Map<string, string>();
  let tracked: Promise<Set<string>> | null = null;
  const isTracked = async (p: string) => {
    tracked ??= isoGit()
      .then((git) => git.listFiles({ fs, dir: root, gitdir }))
      .then(
        (files) => new Set(files),
        () => new Set<string>(),
      );
    return (await tracked).has(p);
  };

  /** The entry for what is at `rel` (lstat'ed as `st`), or null for what git does not record (a FIFO, a socket). */
  const describe = async (rel: string, name: string, st: fs.Stats): Promise<TreeEntry | null> => {
    const abs = path.join(root, rel);
    if (st.isSymbolicLink()) {
      const oid = objectId('blob', Buffer.from(await readlink(abs), 'utf8'));
      return { mode: '120000', path: name, oid, type: 'blob' };
    }
    if (st.isDirectory()) {
      const nested = await lstat(path.join(abs, '.git')).catch(() => null);
      if (nested) return { mode: '160000', path: name, oid: UNREAD, type: 'commit' };
      return { mode: '040000', path: name, oid: UNREAD, type: 'tree' };
    }
    if (!st.isFile()) return null;
    const bytes = await readFile(abs);
    texts.set(rel, bytes.toString('utf8'));
    return { mode: st.mode & 0o111 ? '100755' : '100644', path: name, oid: objectId('blob', bytes), type: 'blob' };
  };

  const entryAt = async (filepath: string): Promise<TreeEntry | null> => {
    const parts = filepath.split('/').filter(Boolean);
    if (parts.length === 0) return { mode: '040000', path: '', oid: UNREAD, type: 'tree' };
    // Walk down as git would: a path under a link or a file is not in the tree.
    for (let i = 1; i < parts.length; i++) {
      const st = await lstat(path.join(root, ...parts.slice(0, i))).catch(() => null);
      if (!st?.isDirectory()) return null;
    }
    const st = await lstat(path.join(root, ...parts)).catch(() => null);
    return st ? describe(parts.join('/'), parts.at(-1)!, st) : null;
  };

  return {
    where: 'in the work tree',
    olderVersions: async () => head,
    entryAt,
    async listDir(dir) {
      const here = await entryAt(dir);
      if (here?.type !== 'tree') return [];
      const names = (await readdir(path.join(root, dir))).sort();
      const entries: TreeEntry[] = [];
      for (const name of names) {
        const rel = `${dir}/${name}`;
        const st = await lstat(path.join(root, rel)).catch(() => null);
        if (!st) continue; // removed while listed
        if (!(await isTracked(rel)) && (await (await isoGit()).isIgnored({ fs, dir: root, gitdir, filepath: rel })))
          continue;
        const entry = await describe(rel, name, st);
        if (entry) entries.push(entry);
      }
      return entries;
    },
    async readText(filepath) {
      return texts.get(filepath) ?? (await readFile(path.join(root, filepath), 'utf8'));
    },
  };
}

/**
 * The fleet files (fleet.yaml and the files in `folders`, less notes and `ignore:`) whose work-tree or staged
 * version differs from HEAD's, new untracked ones and deleted ones included; sorted. [] without a work tree.
 * `git status` answers in a few tens of milliseconds whatever the repository's size (isomorphic-git's
 * statusMatrix took 40-90 ms on 5 rosters and 400-600 ms on 100 rosters beside 2000 other files); it takes
 * no optional lock, so it never rewrites the index under a running git.
 */
export async function uncommittedFleetFiles(
  root: string | null,
  gitdir: string,
  folders: readonly string[],
  ignore: readonly string[],
): Promise<string[]> {
  if (!root) return [];
  const argv = ['git', '--no-optional-locks', '--literal-pathspecs', `--git-dir=${gitdir}`, `--work-tree=${root}`];
  argv.push('status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--', FLEET_FILE, ...folders);
  const r = await run(argv, { cwd: root, timeoutMs: 10_000 }).catch((e: { code?: string }) => {
    throw new TerminalError(e.code === 'ENOENT' ? 'git is not on PATH' : `cannot run git (${e.code ?? e})`);
  });
  if (r.exitCode !== 0) throw new TerminalError(`git status in ${root} failed: ${r.stderr.trim() || r.exitCode}`);
  // Each entry is "XY path" (porcelain v1, -z: NUL-terminated, paths as they are, from the work tree's top).
  const files = r.stdout
    .split('\0')
    .filter((e) => e.length > 3)
    .map((e) => e.slice(3).replace(/\/$/, '')); // an untracked repository inside shows as "path/"
  const counts = (f: string) => f === FLEET_FILE || (!/\.md$/i.test(f) && !ignore.some((g) => globMatch(g, f)));
  return [...new Set(files.filter(counts))].sort();
}
