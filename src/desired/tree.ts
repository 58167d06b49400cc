// Where desired state is read from: a commit's tree (what apply and plan
// reconcile), or the files on disk in a work tree (validate --worktree,
// git/worktree.ts). The loader (desired/load.ts) sees only this interface,
// so both are checked by exactly the same rules, with the same positions.
import type { TreeEntry } from '../git/object-parse.js';
import type { Repo } from '../git/repo.js';
import { shortRevision } from '../revision.js';

export interface DesiredTree {
  /** Where the tree is, for messages: "at <revision>" or "in the work tree". */
  readonly where: string;
  /**
   * Where an invalid fleet.yaml looks for its last valid version: the first commit to look at (a commit tree
   * starts at its parent, a work tree at its HEAD), or null when there is none.
   */
  olderVersions(): Promise<string | null>;
  /** The entry at a path ('' is the root), or null when absent (or under something that is not a folder). */
  entryAt(filepath: string): Promise<TreeEntry | null>;
  /** A folder's entries (`path` is the name in the folder); [] when absent. */
  listDir(dir: string): Promise<TreeEntry[]>;
  /** The text of a file that entryAt or listDir returned, by its path in the tree. */
  readText(filepath: string, entry: TreeEntry): Promise<string>;
}

/** The tree of `commit`, read from the object store. */
export function commitTree(repo: Repo, commit: string): DesiredTree {
  return {
    where: `at ${shortRevision(commit)}`,
    olderVersions: async () => (await repo.firstParent(commit)) ?? null,
    entryAt: (filepath) => repo.entryAt(commit, filepath),
    listDir: (dir) => repo.listDir(commit, dir),
    readText: (filepath, entry) => repo.readBlob(entry.oid, filepath),
  };
}
