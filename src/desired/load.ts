// Read desired state from a commit (I/O) and assemble it (pure rules across
// files). A file that fails validation is replaced by its last-known-good
// version (the blob recorded in the previous status), so an invalid commit
// never makes gitfleet forget, and so prune, what that file declared.
import type { TreeEntry } from 'isomorphic-git';
import type { Repo } from '../git/repo.js';
import type { Problem } from '../errors.js';
import { DEFAULT_PATHS, defaultConfig, FLEET_FILE, parseFleetConfig, type FleetDefaults } from './fleet-config.js';
import { kindEntryProblem } from './folder.js';
import { parseRoster, type ParseContext } from './roster.js';
import type { DesiredState, FileState, FleetConfig, Roster, SourceFile } from './types.js';

export interface LoadOptions extends ParseContext {
  /** Blobs of the files that were valid at the last status commit, by path. */
  lastGood: ReadonlyMap<string, string>;
  /** Which file declared each agent (`<socket>/<session>`) at the last status: the earlier owner keeps it. */
  previousOwners?: ReadonlyMap<string, string>;
}

export interface FleetSource {
  config: FleetConfig;
  state: FileState;
}

/**
 * fleet.yaml at `commit`. When it is invalid, the newest valid version on the
 * first-parent history stands in (it names the status branch, which holds
 * every other file's last-known-good record); with none, the defaults.
 */
export async function readFleetConfig(
  repo: Repo,
  commit: string,
  d: FleetDefaults,
  maxWalk = 200,
): Promise<FleetSource> {
  const read = async (oid: string) => {
    const entry = await repo.entryAt(oid, FLEET_FILE);
    if (!entry) return { file: null, parsed: parseFleetConfig(null, d) };
    const wrong = kindEntryProblem(FLEET_FILE, entry, 'fleet.yaml');
    if (wrong) return { file: { blob: entry.oid }, parsed: { config: null, problems: [wrong] } };
    const text = await repo.readBlob(entry.oid);
    return { file: { blob: entry.oid }, parsed: parseFleetConfig(text, d) };
  };
  const { file, parsed } = await read(commit);
  const state = fileState(FLEET_FILE, file?.blob ?? null, parsed.problems);
  if (parsed.config) return { config: parsed.config, state };
  let oid: string | undefined = commit;
  for (let i = 0; i < maxWalk && oid; i++) {
    oid = await repo.firstParent(oid);
    if (!oid) break;
    const old = await read(oid);
    if (old.file && old.parsed.config)
      return { config: old.parsed.config, state: { ...state, blob: old.file.blob, usingLastKnownGood: true } };
  }
  return { config: defaultConfig(d), state };
}

export async function loadDesired(
  repo: Repo,
  commit: string,
  fleet: FleetSource,
  opts: LoadOptions,
): Promise<DesiredState> {
  const config = fleet.config;
  const rosterDir = config.paths.rosters;
  const folder = await repo.entryAt(commit, rosterDir);
  const folderProblems: Problem[] = [];
  let entries: TreeEntry[] = [];
  if (folder?.type === 'tree') entries = await repo.listDir(commit, rosterDir);
  else if (folder) folderProblems.push(kindEntryProblem(rosterDir, folder, 'folder')!);
  else if (rosterDir !== DEFAULT_PATHS.rosters) {
    // A folder fleet.yaml names explicitly must exist: a typo would otherwise read as "no agents".
    folderProblems.push({
      file: FLEET_FILE,
      line: 1,
      col: 1,
      message: `paths.rosters: "${rosterDir}" does not exist at ${commit.slice(0, 12)}; allowed: an existing folder (or remove paths.rosters for the default "rosters")`,
    });
  }
  const sources: SourceFile[] = [];
  for (const e of entries.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const problem = kindEntryProblem(`${rosterDir}/${e.path}`, e, 'roster', config.ignore);
    if (problem === null)
      sources.push({ path: `${rosterDir}/${e.path}`, blob: e.oid, text: await repo.readBlob(e.oid) });
    else if (problem !== 'ignored') folderProblems.push(problem);
  }
  // Last-known-good versions of every file that changed since the last status (a file may be
  // valid alone and still lose to a rule across files; then its last good version stands).
  const fallback = new Map<string, SourceFile>();
  for (const s of sources) {
    const good = opts.lastGood.get(s.path);
    if (good === s.blob) fallback.set(s.path, s);
    else if (good) fallback.set(s.path, { path: s.path, blob: good, text: await repo.readBlob(good) });
  }
  const desired = assembleDesired(config, fleet.state, sources, fallback, opts, opts.previousOwners);
  if (folderProblems.length === 0) return desired;
  const files = [...desired.files, ...folderProblems.map((p) => fileState(p.file, null, [p]))];
  return { ...desired, files, problems: [...desired.problems, ...folderProblems].sort(byPosition) };
}

interface Candidate {
  src: SourceFile;
  roster: Roster | null;
  problems: Problem[];
  /** The version in force: the current one, its last-known-good one, or none. */
  inForce: { roster: Roster; blob: string; lastGood: boolean } | null;
}

/**
 * Pure: parse every roster, apply the rules that span files, pick fallbacks.
 * An agent has one owner file: declared in two, it is an error in both and
 * each file falls back to its last valid version, so what ran keeps running
 * and nothing restarts. Where versions in force still clash, the file that
 * owned the agent at the last status keeps it.
 */
export function assembleDesired(
  config: FleetConfig,
  fleetState: FileState,
  sources: readonly SourceFile[],
  fallback: ReadonlyMap<string, SourceFile>,
  ctx: ParseContext,
  previousOwners: ReadonlyMap<string, string> = new Map(),
): DesiredState {
  const cands: Candidate[] = sources.map((src) => ({ src, ...parseRoster(src.path, src.text, ctx), inForce: null }));
  const holders = new Map<string, string>(); // socket/holder -> first file naming it
  for (const { src, roster } of cands)
    if (roster && !holders.has(`${roster.socket}/${roster.holder}`))
      holders.set(`${roster.socket}/${roster.holder}`, src.path);

  // Rules on the current versions: holders and hosts per file, then one owner per agent.
  const declarers = new Map<string, Candidate[]>();
  for (const c of cands) {
    if (!c.roster) continue;
    c.problems = fileRuleProblems(c.roster, config, holders);
    for (const a of c.roster.agents) declarers.set(agentKey(a), [...(declarers.get(agentKey(a)) ?? []), c]);
  }
  for (const [key, list] of declarers) {
    if (list.length < 2) continue;
    for (const c of list) {
      const a = c.roster!.agents.find((x) => agentKey(x) === key)!;
      const others = list
        .filter((o) => o !== c)
        .map((o) => o.src.path)
        .join(', ');
      c.problems.push({
        file: c.src.path,
        line: a.source.line,
        col: a.source.col,
        message: `agent "${a.name}" is also declared in ${others} on socket "${a.socket}"; an agent has one owner file: remove one declaration (until then neither applies, and the last valid spec stays in force)`,
      });
    }
  }

  // What is in force: the current version of a valid file, else its last good version.
  const lastGood = (c: Candidate) => {
    const good = fallback.get(c.src.path);
    const roster = good ? parseRoster(good.path, good.text, ctx).roster : null;
    return good && roster && fileRuleProblems(roster, config, holders).length === 0
      ? { roster, blob: good.blob, lastGood: true }
      : null;
  };
  for (const c of cands)
    c.inForce =
      c.problems.length === 0 && c.roster ? { roster: c.roster, blob: c.src.blob, lastGood: false } : lastGood(c);

  // Versions in force that still clash (a valid file newly declaring what another file's last good version
  // declares): the earlier owner keeps the agent; the other file falls back, or contributes nothing.
  for (let round = 0; round <= cands.length; round++) {
    const holdersOf = new Map<string, Candidate[]>();
    for (const c of cands)
      for (const a of c.inForce?.roster.agents ?? [])
        holdersOf.set(agentKey(a), [...(holdersOf.get(agentKey(a)) ?? []), c]);
    const clash = [...holdersOf].find(([, list]) => list.length > 1);
    if (!clash) break;
    const [key, list] = clash;
    const rank = (c: Candidate) => (previousOwners.get(key) === c.src.path ? 0 : c.inForce!.lastGood ? 2 : 1);
    const keeper = [...list].sort((x, y) => rank(x) - rank(y) || (x.src.path < y.src.path ? -1 : 1))[0]!;
    for (const c of list) {
      if (c === keeper) continue;
      const a = c.inForce!.roster.agents.find((x) => agentKey(x) === key)!;
      if (!c.inForce!.lastGood) {
        c.problems.push({
          file: c.src.path,
          line: a.source.line,
          col: a.source.col,
          message: `agent "${a.name}" is also declared in ${keeper.src.path} on socket "${a.socket}" (in force there); agent names are unique per socket`,
        });
        c.inForce = lastGood(c);
        if (c.inForce?.roster.agents.some((x) => agentKey(x) === key)) c.inForce = null;
      } else c.inForce = null;
    }
  }

  const files: FileState[] = [fleetState];
  const rosters: Roster[] = [];
  for (const c of cands) {
    const state = fileState(c.src.path, c.src.blob, c.problems);
    if (c.inForce) {
      rosters.push(c.inForce.roster);
      if (c.inForce.lastGood) Object.assign(state, { blob: c.inForce.blob, usingLastKnownGood: true });
    }
    files.push(state);
  }
  const problems = files.flatMap((f) => f.problems).sort(byPosition);
  return { config, rosters, files, problems };
}

const agentKey = (a: { socket: string; session: string }) => `${a.socket}/${a.session}`;

/** Rules that span files but judge one file: holders shared per socket, hosts from fleet.yaml. */
function fileRuleProblems(roster: Roster, config: FleetConfig, holders: ReadonlyMap<string, string>): Problem[] {
  const problems: Problem[] = [];
  // One tmux server has one holder: rosters sharing a socket must agree on it.
  for (const [key, file] of holders) {
    const [socket, holder] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
    if (socket === roster.socket && holder !== roster.holder && file < roster.file) {
      const mine = roster.holderAt
        ? `tmux.holder_session "${roster.holder}"`
        : `the default holder session "${roster.holder}"`;
      problems.push({
        file: roster.file,
        ...(roster.holderAt ?? { line: 1, col: 1 }),
        message: `${mine} differs from "${holder}" in ${file}, which shares socket "${socket}"; rosters on one socket name the same holder (set tmux.holder_session)`,
      });
      break;
    }
  }
  for (const a of roster.agents) {
    const at = (message: string) =>
      problems.push({ file: roster.file, line: a.source.line, col: a.source.col, message });
    const holderOf = holders.get(agentKey(a));
    if (holderOf && holderOf !== roster.file)
      at(`agent "${a.name}" is the holder session of ${holderOf} on socket "${a.socket}"; choose another name`);
    if (config.hosts.length > 1 && a.host === null) {
      at(
        `agent "${a.name}" names no host; fleet.yaml declares several hosts, so every agent names one of: ${config.hosts.join(', ')}`,
      );
    } else if (config.hosts.length > 0 && a.host !== null && !config.hosts.includes(a.host)) {
      at(`agent "${a.name}": host "${a.host}" is not in fleet.yaml hosts; allowed: ${config.hosts.join(', ')}`);
    }
  }
  return problems;
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
