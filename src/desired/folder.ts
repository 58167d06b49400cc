// What may sit where desired state is read. Anything in a kind's folder that
// is not a file of that kind is an error naming it: a roster moved into a
// subfolder, renamed `.YAML` or `.bak`, committed as a symlink or a
// submodule must never read as "this roster is gone" (that would prune its
// agents). Markdown notes and the paths fleet.yaml lists under `ignore:` are
// the exceptions.
import type { TreeEntry } from '../git/object-parse.js';
import type { Problem } from '../errors.js';

const WHAT: Record<string, string> = {
  tree: 'a directory',
  commit: 'a submodule (gitlink)',
};

function describe(e: TreeEntry): string {
  if (e.mode === '120000') return 'a symbolic link';
  return WHAT[e.type] ?? 'a file';
}

/**
 * Why `entry` at `path` is refused (a Problem), 'ignored' for notes and
 * ignored paths, or null when it is a file of the kind.
 * - `{ kind }`: a regular file named *.yaml or *.yml inside that kind's folder (`kind` is its plural name);
 * - 'folder': the kind's folder itself, which must be a directory;
 * - 'fleet.yaml': a regular file.
 */
export function kindEntryProblem(
  path: string,
  entry: TreeEntry,
  what: { kind: string },
  ignore?: readonly string[],
): Problem | 'ignored' | null;
export function kindEntryProblem(path: string, entry: TreeEntry, what: 'folder' | 'fleet.yaml'): Problem | null;
export function kindEntryProblem(
  path: string,
  entry: TreeEntry,
  what: { kind: string } | 'folder' | 'fleet.yaml',
  ignore: readonly string[] = [],
): Problem | 'ignored' | null {
  const at = (message: string): Problem => ({ file: path, line: 1, col: 1, message });
  const regular = entry.type === 'blob' && entry.mode !== '120000';
  if (what === 'folder') {
    return entry.type === 'tree'
      ? null
      : at(`is ${describe(entry)} but fleet.yaml paths name it as a desired-state folder; allowed: a directory`);
  }
  if (what === 'fleet.yaml') return regular ? null : at(`is ${describe(entry)}; allowed: a YAML file`);
  if (ignore.some((g) => globMatch(g, path))) return 'ignored';
  if (regular && /\.md$/i.test(path)) return 'ignored';
  if (regular && /\.ya?ml$/.test(path)) return null;
  const folder = path.slice(0, path.lastIndexOf('/'));
  const kind = regular ? 'a file without the .yaml or .yml extension' : describe(entry);
  return at(
    `is ${kind} in the ${what.kind} folder, where gitfleet reads only ${folder}/*.yaml and *.yml files; ` +
      `allowed: rename or move it, or list it under ignore: in fleet.yaml`,
  );
}

/** Glob match: `**` any path, `*` and `?` within one part; a pattern without '/' matches the file name. */
export function globMatch(glob: string, path: string): boolean {
  const subject = glob.includes('/') ? path : path.slice(path.lastIndexOf('/') + 1);
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(subject);
}
