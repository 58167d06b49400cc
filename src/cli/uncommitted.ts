// Fleet files left uncommitted in the work tree are not part of what
// `validate` or `plan` read from a commit: say so, rather than let an edit be
// silently ignored. Only these two commands look (apply's no-op run stays as
// cheap as it was), and only when the repository has a work tree.
import { errorMessage } from '../errors.js';
import { KINDS } from '../desired/kinds/registry.js';
import type { FleetConfig } from '../desired/types.js';
import { uncommittedFleetFiles } from '../git/worktree.js';
import type { Io } from './io.js';

/** The uncommitted fleet files (sorted), after a note on stderr when there are any. */
export async function noteUncommitted(
  repo: { workTree: string | null; gitdir: string },
  config: Pick<FleetConfig, 'paths' | 'ignore'>,
  what: 'checked' | 'planned',
  io: Io,
): Promise<string[]> {
  const folders = [...new Set(KINDS.map((k) => config.paths[k.pathKey]))];
  let files: string[];
  try {
    files = await uncommittedFleetFiles(repo.workTree, repo.gitdir, folders, config.ignore);
  } catch (e) {
    // The check itself stands without it (gitfleet reads git objects itself): say what could not be told.
    io.stderr(`note: cannot tell which fleet files are uncommitted: ${errorMessage(e)}\n`);
    return [];
  }
  if (files.length > 0) io.stderr(`${uncommittedNote(files, what)}\n`);
  return files;
}

export function uncommittedNote(files: readonly string[], what: 'checked' | 'planned'): string {
  const shown = files.length > 5 ? `${files.slice(0, 5).join(', ')} and ${files.length - 5} more` : files.join(', ');
  const one = files.length === 1;
  return (
    `note: ${files.length} uncommitted change${one ? ' is' : 's are'} not part of what was ${what} (${shown}); ` +
    `commit ${one ? 'it' : 'them'}, or use validate --worktree`
  );
}
