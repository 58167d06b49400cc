// Read desired state from a commit (I/O) and assemble it (pure rules across
// files). A file that fails validation is replaced by its last-known-good
// version (the blob recorded in the previous status), so an invalid commit
// never makes gitfleet forget, and so prune, what that file declared.
import type { Repo } from '../git/repo.js';
import type { Problem } from '../errors.js';
import { FLEET_FILE, parseFleetConfig, type FleetDefaults } from './fleet-config.js';
import { parseRoster, type ParseContext } from './roster.js';
import type { DesiredState, FileState, FleetConfig, Roster, SourceFile } from './types.js';

export interface LoadOptions extends ParseContext {
  /** Blobs of the files that were valid at the last status commit, by path. */
  lastGood: ReadonlyMap<string, string>;
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
export async function readFleetConfig(repo: Repo, commit: string, d: FleetDefaults, maxWalk = 200): Promise<FleetSource> {
  const file = await repo.readFileAt(commit, FLEET_FILE);
  const parsed = parseFleetConfig(file?.text ?? null, d);
  const state = fileState(FLEET_FILE, file?.blob ?? null, parsed.problems);
  if (parsed.config) return { config: parsed.config, state };
  let oid: string | undefined = commit;
  for (let i = 0; i < maxWalk && oid; i++) {
    oid = await repo.firstParent(oid);
    if (!oid) break;
    const old = await repo.readFileAt(oid, FLEET_FILE);
    const good = old ? parseFleetConfig(old.text, d).config : null;
    if (old && good) return { config: good, state: { ...state, blob: old.blob, usingLastKnownGood: true } };
  }
  return { config: parseFleetConfig(null, d).config!, state };
}

export async function loadDesired(repo: Repo, commit: string, fleet: FleetSource, opts: LoadOptions): Promise<DesiredState> {
  const config = fleet.config;
  const rosterDir = config.paths.rosters;
  const entries = (await repo.listDir(commit, rosterDir))
    .filter((e) => e.type === 'blob' && /\.ya?ml$/.test(e.path))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const sources: SourceFile[] = await Promise.all(
    entries.map(async (e) => ({ path: `${rosterDir}/${e.path}`, blob: e.oid, text: await repo.readBlob(e.oid) })),
  );
  // Last-known-good versions of roster files that fail on their own.
  const fallback = new Map<string, SourceFile>();
  for (const s of sources) {
    const good = opts.lastGood.get(s.path);
    if (good && good !== s.blob && parseRoster(s.path, s.text, opts).roster === null) {
      fallback.set(s.path, { path: s.path, blob: good, text: await repo.readBlob(good) });
    }
  }
  return assembleDesired(config, fleet.state, sources, fallback, opts);
}

/** Pure: parse every roster, apply the rules that span files, pick fallbacks. */
export function assembleDesired(
  config: FleetConfig,
  fleetState: FileState,
  sources: readonly SourceFile[],
  fallback: ReadonlyMap<string, SourceFile>,
  ctx: ParseContext,
): DesiredState {
  const files: FileState[] = [fleetState];
  const rosters: Roster[] = [];
  const owner = new Map<string, string>(); // socket/session -> file
  const parsed = sources.map((src) => ({ src, ...parseRoster(src.path, src.text, ctx) }));
  const holders = new Map<string, string>(); // socket/holder -> first file naming it
  for (const { src, roster } of parsed) if (roster && !holders.has(`${roster.socket}/${roster.holder}`)) holders.set(`${roster.socket}/${roster.holder}`, src.path);
  for (const { src, ...first } of parsed) {
    let { roster, problems } = first;
    if (roster) problems = crossFileProblems(roster, config, owner, holders);
    const state = fileState(src.path, src.blob, problems);
    if (problems.length > 0) {
      const good = fallback.get(src.path);
      const prev = good ? parseRoster(good.path, good.text, ctx).roster : null;
      roster = prev && crossFileProblems(prev, config, owner, holders).length === 0 ? prev : null;
      if (roster) Object.assign(state, { blob: good!.blob, usingLastKnownGood: true });
    }
    if (roster) {
      for (const a of roster.agents) owner.set(`${a.socket}/${a.session}`, src.path);
      rosters.push(roster);
    }
    files.push(state);
  }
  const problems = files.flatMap((f) => f.problems).sort(byPosition);
  return { config, rosters, files, problems };
}

function crossFileProblems(roster: Roster, config: FleetConfig, owner: ReadonlyMap<string, string>, holders: ReadonlyMap<string, string>): Problem[] {
  const problems: Problem[] = [];
  // One tmux server has one holder: rosters sharing a socket must agree on it.
  for (const [key, file] of holders) {
    const [socket, holder] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
    if (socket === roster.socket && holder !== roster.holder && file < roster.file) {
      const mine = roster.holderAt ? `tmux.holder_session "${roster.holder}"` : `the default holder session "${roster.holder}"`;
      problems.push({ file: roster.file, ...(roster.holderAt ?? { line: 1, col: 1 }), message: `${mine} differs from "${holder}" in ${file}, which shares socket "${socket}"; rosters on one socket name the same holder (set tmux.holder_session)` });
      break;
    }
  }
  for (const a of roster.agents) {
    const at = (message: string) => problems.push({ file: roster.file, line: a.source.line, col: a.source.col, message });
    const other = owner.get(`${a.socket}/${a.session}`);
    const holderOf = holders.get(`${a.socket}/${a.session}`);
    if (other) at(`agent "${a.name}" is also declared in ${other} on socket "${a.socket}"; agent names are unique per socket`);
    else if (holderOf && holderOf !== roster.file) at(`agent "${a.name}" is the holder session of ${holderOf} on socket "${a.socket}"; choose another name`);
    if (config.hosts.length > 1 && a.host === null) {
      at(`agent "${a.name}" names no host; fleet.yaml declares several hosts, so every agent names one of: ${config.hosts.join(', ')}`);
    } else if (config.hosts.length > 0 && a.host !== null && !config.hosts.includes(a.host)) {
      at(`agent "${a.name}": host "${a.host}" is not in fleet.yaml hosts; allowed: ${config.hosts.join(', ')}`);
    }
  }
  return problems;
}

function fileState(path: string, blob: string | null, problems: Problem[]): FileState {
  return { path, blob: problems.length ? null : blob, valid: problems.length === 0, usingLastKnownGood: false, problems };
}

export function byPosition(a: Problem, b: Problem): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col;
}
