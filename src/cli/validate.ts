// `gitfleet validate [--worktree | FILE...]`: check desired state with the
// loader apply uses. Without arguments, the commit at the branch head (and a
// note naming fleet files left uncommitted in the work tree, which that does
// not include); --worktree, the files on disk; FILE..., those files on disk,
// judged against the rest of the work tree (a pre-commit hook runs either).
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { formatProblem, type Problem, UsageError } from '../errors.js';
import { FLEET_FILE } from '../desired/fleet-config.js';
import { KINDS } from '../desired/kinds/registry.js';
import { byPosition } from '../desired/load.js';
import type { DesiredState, FleetConfig } from '../desired/types.js';
import { readSource, readWorkTreeSource } from '../reconcile.js';
import { shortRevision } from '../revision.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import type { GlobalOptions } from './options.js';
import { noteUncommitted } from './uncommitted.js';

export async function validate(opts: GlobalOptions, args: string[], io: Io): Promise<number> {
  if (opts.worktree || args.length > 0) {
    const src = await readWorkTreeSource(opts);
    const picked = args.length > 0 ? await pickFiles(args, src.root, src.desired.config) : null;
    const report = picked ? only(src.desired, picked) : src.desired;
    const where = picked ? `in the work tree (${[...picked].join(', ')})` : 'in the work tree';
    return show(report, { revision: null, where, uncommitted: [] }, opts, io);
  }
  const src = await readSource(opts);
  const uncommitted = await noteUncommitted(src.repo, src.desired.config, 'checked', io);
  return show(
    src.desired,
    { revision: src.revision, where: `at ${shortRevision(src.revision)}`, uncommitted },
    opts,
    io,
  );
}

type Report = Pick<DesiredState, 'problems' | 'notes' | 'files' | 'rosters'>;

function show(
  d: Report,
  at: { revision: string | null; where: string; uncommitted: string[] },
  opts: GlobalOptions,
  io: Io,
): number {
  const { problems, files, notes } = d;
  if (opts.verbose) for (const f of files) io.stderr(`· ${f.valid ? 'valid  ' : 'invalid'} ${f.path}\n`);
  if (opts.json) {
    const doc = {
      valid: problems.length === 0,
      revision: at.revision,
      worktree: at.revision === null,
      files: files.map((f) => ({ path: f.path, valid: f.valid })),
      problems,
      notes,
      uncommitted: at.uncommitted,
    };
    io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
  } else if (problems.length === 0) {
    const agents = d.rosters.reduce((n, r) => n + r.agents.length, 0);
    const rosters = d.rosters.length;
    io.stdout(`valid: ${files.length} files, ${rosters} rosters, ${agents} agents ${at.where}\n`);
  } else {
    // Notes (rules that could not run on a broken file) read after that file's problems. -q: these, on stderr.
    const say = opts.quiet ? io.stderr : io.stdout;
    for (const p of [...problems, ...notes].sort(byPosition)) say(`${formatProblem(p)}\n`);
    const plural = problems.length === 1 ? '' : 's';
    const inFiles = new Set(problems.map((p) => p.file)).size;
    io.stdout(`invalid: ${problems.length} problem${plural} in ${inFiles} file(s) ${at.where}\n`);
  }
  return problems.length === 0 ? EXIT.ok : EXIT.error;
}

/** What the loader found, narrowed to the picked files (the rules across files still saw them all). */
function only(d: DesiredState, picked: ReadonlySet<string>): Report {
  const has = (file: string) => picked.has(file) || [...picked].some((dir) => file.startsWith(`${dir}/`));
  const mine = (p: Problem | { path: string }) => has('file' in p ? p.file : p.path);
  return {
    problems: d.problems.filter(mine),
    notes: d.notes.filter(mine),
    files: d.files.filter(mine),
    rosters: d.rosters.filter((r) => has(r.file)),
  };
}

/**
 * The files named on the command line (relative to the current directory, or absolute) as paths in the work
 * tree; each must be in it and be fleet.yaml or sit in a desired-state kind's folder. A folder given stands for
 * the files in it.
 */
async function pickFiles(args: string[], root: string, config: FleetConfig): Promise<Set<string>> {
  const top = await realpath(root);
  const folders = KINDS.map((k) => config.paths[k.pathKey]);
  const allowed = [FLEET_FILE, ...folders.map((f) => `${f}/*.yaml`)].join(', ');
  const picked = new Set<string>();
  for (const arg of args) {
    const abs = path.resolve(arg);
    const st = await lstat(abs).catch(() => null);
    if (!st) throw new UsageError(`${arg}: no such file`);
    // The folder is resolved, not the file: a roster that is a symbolic link must be judged as one.
    const dir = await realpath(path.dirname(abs));
    const rel = path
      .relative(top, path.join(dir, path.basename(abs)))
      .split(path.sep)
      .join('/');
    if (rel.startsWith('../') || rel === '..' || path.isAbsolute(rel))
      throw new UsageError(`${arg} is outside the work tree ${root}; give files of the fleet repository`);
    const fleetFile = rel === FLEET_FILE || folders.includes(path.posix.dirname(rel));
    if (!fleetFile && !(st.isDirectory() && folders.includes(rel)))
      throw new UsageError(
        `${arg}${rel === arg ? '' : ` (${rel || '.'} in the work tree)`} is not a desired-state file; ` +
          `allowed: ${allowed}`,
      );
    picked.add(rel);
  }
  return picked;
}
