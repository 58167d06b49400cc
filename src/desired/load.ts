// Read desired state from a commit or the work tree (I/O, through
// desired/tree.ts) and assemble it (pure), the same way for every kind in
// the registry (desired/kinds/registry.ts): read the kind's folder, parse
// each file, apply the kind's rules across files. A file that fails is
// replaced by its last-known-good version (the blob recorded in the
// previous status), so an invalid commit never makes gitfleet forget, and so
// prune, what that file declared.
//
// Parses are remembered across runs (desired/parse-memo.ts), and the code that parses is imported only for a file
// whose parse is not: a kind's parser through its registry entry's load(), fleet.yaml's (desired/fleet-parse.ts)
// here. This module must not import either, so a no-op run never loads the YAML parser or the schema validators.
import type { TreeEntry } from '../git/object-parse.js';
import type { Repo } from '../git/repo.js';
import type { Problem } from '../errors.js';
import {
  DEFAULT_PATHS,
  defaultConfig,
  FLEET_FILE,
  FLEET_KIND,
  type FleetDefaults,
  type FleetSettings,
  fleetConfigOf,
} from './fleet-config.js';
import { kindEntryProblem } from './folder.js';
import type { AnyKind, AnyKindEntry, Candidate, DesiredKind, ParseContext, Parsed, Version } from './kinds/kind.js';
import { valuesOf } from './kinds/kind.js';
import { KINDS } from './kinds/registry.js';
import { rosterAbout } from './kinds/roster/about.js';
import type { ParseMemo } from './parse-memo.js';
import { commitTree, type DesiredTree } from './tree.js';
import type { DesiredState, FileState, FleetConfig, SourceFile } from './types.js';

export interface AssembleContext extends ParseContext {
  /** The kinds to read, with their parsers. */
  kinds: readonly AnyKind[];
  /** Parses remembered from earlier runs (parse-memo.ts); without it every file is parsed. */
  memo?: ParseMemo | null;
}

export interface LoadOptions extends Omit<AssembleContext, 'kinds'> {
  /** The kinds to read: the registry's unless a test brings its own (with their parsers, or entries to load). */
  kinds?: readonly (AnyKind | AnyKindEntry)[];
  /** Blobs of the files that were valid at the last status commit, by path. */
  lastGood: ReadonlyMap<string, string>;
  /** Which file declared each agent (`<socket>/<session>`) at the last status: the earlier owner keeps it. */
  previousOwners?: ReadonlyMap<string, string>;
}

/** How far back the first-parent history is searched for a valid fleet.yaml. */
const MAX_WALK = 200;

export interface FleetSource {
  config: FleetConfig;
  state: FileState;
}

/**
 * fleet.yaml at `at` (a commit, or a tree such as the work tree). When it is
 * invalid, the newest valid version on the first-parent history stands in
 * (it names the status branch, which holds every other file's last-known-good
 * record); with none, the defaults. A parse the memo holds is not parsed again (nor is its text read).
 */
export async function readFleetConfig(
  repo: Repo,
  at: string | DesiredTree,
  d: FleetDefaults,
  memo: ParseMemo | null = null,
): Promise<FleetSource> {
  const tree = typeof at === 'string' ? commitTree(repo, at) : at;
  const read = async (t: DesiredTree): Promise<{ file: { blob: string } | null; parsed: Parsed<FleetSettings> }> => {
    const entry = await t.entryAt(FLEET_FILE);
    if (!entry) return { file: null, parsed: { value: {}, problems: [] } };
    const wrong = kindEntryProblem(FLEET_FILE, entry, 'fleet.yaml');
    if (wrong) return { file: { blob: entry.oid }, parsed: { value: null, problems: [wrong] } };
    const file = { path: FLEET_FILE, blob: entry.oid };
    // fleet.yaml's parse reads nothing but the file: the memo's home is the same for every operator.
    if (memo?.has(FLEET_KIND, file, '')) return { file, parsed: memo.parse(FLEET_KIND, file, '', unreachable) };
    const [text, { parseFleetSettings }] = await Promise.all([
      t.readText(FLEET_FILE, entry),
      import('./fleet-parse.js'),
    ]);
    const parse = () => parseFleetSettings(text);
    return { file, parsed: memo ? memo.parse(FLEET_KIND, file, '', parse) : parse() };
  };
  const { file, parsed } = await read(tree);
  const state = fileState(FLEET_FILE, file?.blob ?? null, parsed.problems);
  if (parsed.value) return { config: fleetConfigOf(parsed.value, d), state };
  let oid = await tree.olderVersions();
  for (let i = 0; i < MAX_WALK && oid; i++) {
    const old = await read(commitTree(repo, oid));
    if (old.file && old.parsed.value)
      return {
        config: fleetConfigOf(old.parsed.value, d),
        state: { ...state, blob: old.file.blob, usingLastKnownGood: true },
      };
    oid = (await repo.firstParent(oid)) ?? null;
  }
  return { config: defaultConfig(d), state };
}

/** Desired state at `at`: a commit of `repo`, or a tree such as the work tree (last-good blobs come from `repo`). */
export async function loadDesired(
  repo: Repo,
  at: string | DesiredTree,
  fleet: FleetSource,
  opts: LoadOptions,
): Promise<DesiredState> {
  const tree = typeof at === 'string' ? commitTree(repo, at) : at;
  const folderProblems: Problem[] = [];
  const sources: SourceFile[] = [];
  for (const kind of opts.kinds ?? KINDS) {
    const read = await readKindFolder(tree, fleet.config, kind);
    sources.push(...read.sources);
    folderProblems.push(...read.problems);
  }
  // Last-known-good versions of every file that changed since the last status (a file may be
  // valid alone and still lose to a rule across files; then its last good version stands).
  const fallback = new Map<string, SourceFile>();
  for (const s of sources) {
    const good = opts.lastGood.get(s.path);
    if (good === s.blob) fallback.set(s.path, s);
    else if (good) fallback.set(s.path, { path: s.path, blob: good, text: await repo.readBlob(good) });
  }
  const kinds: AnyKind[] = [];
  for (const kind of opts.kinds ?? KINDS) kinds.push(await withParser(kind, sources, fallback, fleet.config, opts));
  const ctx = { home: opts.home, kinds, memo: opts.memo };
  const desired = assembleDesired(fleet.config, fleet.state, sources, fallback, ctx, opts.previousOwners);
  if (folderProblems.length === 0) return desired;
  const files = [...desired.files, ...folderProblems.map((p) => fileState(p.file, null, [p]))];
  return { ...desired, files, problems: [...desired.problems, ...folderProblems].sort(byPosition) };
}

/**
 * The kind with its parser, loaded only when a parse the memo does not hold may be asked for: a file of the kind,
 * or the last-known-good version of one that changed (its rules across files may need it). Otherwise every parse
 * is answered from the memo, and the kind goes on without its parser.
 */
async function withParser(
  kind: AnyKind | AnyKindEntry,
  sources: readonly SourceFile[],
  fallback: ReadonlyMap<string, SourceFile>,
  config: FleetConfig,
  opts: LoadOptions,
): Promise<AnyKind> {
  if ('parse' in kind) return kind;
  const { memo, home } = opts;
  const mine = sources.filter((s) => folderOf(s.path) === config.paths[kind.pathKey]);
  const versions = mine.flatMap((s) => [s, fallback.get(s.path) ?? s]);
  if (!memo || versions.some((v) => !memo.has(kind.name, v, home))) return kind.load();
  return { ...kind, parse: unreachable };
}

/** The parser of a kind or file whose every parse the memo holds: never called. */
function unreachable(): never {
  throw new Error('internal error: a parse the memo holds was asked of a parser that was not loaded');
}

const folderOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));

/** The files of one kind in `tree`: its folder's YAML files, and a problem for anything else there. */
async function readKindFolder(
  tree: DesiredTree,
  config: FleetConfig,
  kind: Pick<AnyKind, 'name' | 'pathKey'>,
): Promise<{ sources: SourceFile[]; problems: Problem[] }> {
  const dir = config.paths[kind.pathKey];
  const folder = await tree.entryAt(dir);
  const problems: Problem[] = [];
  let entries: TreeEntry[] = [];
  if (folder?.type === 'tree') entries = await tree.listDir(dir);
  else if (folder) problems.push(kindEntryProblem(dir, folder, 'folder')!);
  else if (dir !== DEFAULT_PATHS[kind.pathKey]) {
    // A folder fleet.yaml names explicitly must exist: a typo would otherwise read as "no agents".
    problems.push({
      file: FLEET_FILE,
      line: 1,
      col: 1,
      message:
        `paths.${kind.pathKey}: "${dir}" does not exist ${tree.where}; allowed: ` +
        `an existing folder (or remove paths.${kind.pathKey} for the default "${DEFAULT_PATHS[kind.pathKey]}")`,
    });
  }
  const sources: SourceFile[] = [];
  for (const e of entries.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const path = `${dir}/${e.path}`;
    const problem = kindEntryProblem(path, e, { kind: kind.name }, config.ignore);
    if (problem === null) sources.push({ path, blob: e.oid, text: await tree.readText(path, e) });
    else if (problem !== 'ignored') problems.push(problem);
  }
  return { sources, problems };
}

/**
 * Pure: parse every file of every kind, apply each kind's rules across its
 * files, pick fallbacks. A file belongs to the kind whose folder holds it.
 */
export function assembleDesired(
  config: FleetConfig,
  fleetState: FileState,
  sources: readonly SourceFile[],
  fallback: ReadonlyMap<string, SourceFile>,
  ctx: AssembleContext,
  previousOwners: ReadonlyMap<string, string> = new Map(),
): DesiredState {
  const kinds = ctx.kinds;
  const files: FileState[] = [fleetState];
  const values: Record<string, readonly unknown[]> = {};
  const notes: Problem[] = [];
  for (const kind of kinds) {
    const mine = sources.filter((s) => folderOf(s.path) === config.paths[kind.pathKey]);
    const assembled = assembleKind(kind, mine, fallback, ctx, { config, previousOwners });
    files.push(...assembled.files);
    values[kind.name] = assembled.values;
    notes.push(...assembled.notes);
  }
  const stray = sources.find((s) => !kinds.some((k) => folderOf(s.path) === config.paths[k.pathKey]));
  if (stray) throw new Error(`${stray.path} is in no desired-state kind's folder`);
  const problems = files.flatMap((f) => f.problems).sort(byPosition);
  const desired: DesiredState = { config, rosters: [], kinds: values, files, problems, notes: notes.sort(byPosition) };
  return { ...desired, rosters: [...valuesOf(desired, rosterAbout)] };
}

/** One kind: parse, fall back per file, the kind's rules across files, the files' states. */
function assembleKind<T>(
  kind: DesiredKind<T>,
  sources: readonly SourceFile[],
  fallback: ReadonlyMap<string, SourceFile>,
  ctx: AssembleContext,
  rules: { config: FleetConfig; previousOwners: ReadonlyMap<string, string> },
): { files: FileState[]; values: T[]; notes: Problem[] } {
  const parse = (src: SourceFile) =>
    ctx.memo ? ctx.memo.parse(kind.name, src, ctx.home, () => kind.parse(src, ctx)) : kind.parse(src, ctx);
  const cands = sources.map((src): Candidate<T> => {
    const { value, problems } = parse(src);
    let good: Version<T> | null | undefined;
    const lastGood = (): Version<T> | null => {
      if (good !== undefined) return good;
      const old = fallback.get(src.path);
      // An unchanged file is not parsed twice: its last good version is the current one, if that parsed.
      const parsed = !old ? null : old.blob === src.blob ? value : parse(old).value;
      good = old && parsed ? { value: parsed, blob: old.blob } : null;
      return good;
    };
    return { path: src.path, blob: src.blob, value, problems: [...problems], lastGood, inForce: null };
  });
  for (const c of cands) {
    const good = c.value && c.problems.length === 0 ? null : c.lastGood();
    c.inForce =
      c.value && c.problems.length === 0
        ? { value: c.value, blob: c.blob, lastGood: false }
        : good && { ...good, lastGood: true };
  }
  const notes: Problem[] = [];
  if (kind.acrossFiles) {
    kind.acrossFiles.apply(cands, rules);
    // A file with problems of its own was not judged against the others: say so once, after its problems.
    for (const c of cands) {
      if (c.value !== null || c.problems.length === 0) continue;
      const last = [...c.problems].sort(byPosition).at(-1)!;
      const message = `rules across files not checked (${kind.acrossFiles.what}): this file has errors of its own`;
      notes.push({ file: c.path, line: last.line, col: last.col, message });
    }
  }
  const files: FileState[] = [];
  const values: T[] = [];
  for (const c of cands) {
    const state = fileState(c.path, c.blob, c.problems);
    if (c.inForce) {
      values.push(c.inForce.value);
      if (c.inForce.lastGood) Object.assign(state, { blob: c.inForce.blob, usingLastKnownGood: true });
    }
    files.push(state);
  }
  return { files, values, notes };
}

function fileState(path: string, blob: string | null, problems: Problem[]): FileState {
  return {
    path,
    blob: problems.length ? null : blob,
    valid: problems.length === 0,
    usingLastKnownGood: false,
    problems,
  };
}

export function byPosition(a: Problem, b: Problem): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col;
}
