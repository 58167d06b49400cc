// Roster rules across files (pure). An agent has one owner file: declared in
// two, it is an error in both and each file falls back to its last valid
// version, so what ran keeps running and nothing restarts. Where versions in
// force still clash, the file that owned the agent at the last status keeps it.
import type { Problem } from '../../../errors.js';
import type { FleetConfig } from '../../types.js';
import type { Candidate, RuleContext } from '../kind.js';
import type { Roster } from './types.js';

export const ROSTER_RULES_ACROSS_FILES = 'one owner file per agent, one holder per socket, hosts from fleet.yaml';

export function rosterRulesAcrossFiles(cands: Candidate<Roster>[], { config, previousOwners }: RuleContext): void {
  const holders = new Map<string, string>(); // socket/holder -> first file naming it
  for (const { path, value } of cands)
    if (value && !holders.has(`${value.socket}/${value.holder}`)) holders.set(`${value.socket}/${value.holder}`, path);

  // Rules on the current versions: holders and hosts per file, then one owner per agent.
  const declarers = new Map<string, Candidate<Roster>[]>();
  for (const c of cands) {
    if (!c.value) continue;
    c.problems.push(...fileRuleProblems(c.value, config, holders));
    for (const a of c.value.agents) declarers.set(agentKey(a), [...(declarers.get(agentKey(a)) ?? []), c]);
  }
  for (const [key, list] of declarers) {
    if (list.length < 2) continue;
    for (const c of list) {
      const a = c.value!.agents.find((x) => agentKey(x) === key)!;
      const others = list
        .filter((o) => o !== c)
        .map((o) => o.path)
        .join(', ');
      c.problems.push({
        file: c.path,
        line: a.source.line,
        col: a.source.col,
        message:
          `agent "${a.name}" is also declared in ${others} on socket "${a.socket}"; an agent has one owner file: ` +
          `remove one declaration (until then neither applies, and the last valid spec stays in force)`,
      });
    }
  }

  // What is in force: the current version of a valid file, else its last good version if it keeps these rules.
  const lastGood = (c: Candidate<Roster>) => {
    const good = c.lastGood();
    return good && fileRuleProblems(good.value, config, holders).length === 0 ? { ...good, lastGood: true } : null;
  };
  for (const c of cands)
    c.inForce = c.problems.length === 0 && c.value ? { value: c.value, blob: c.blob, lastGood: false } : lastGood(c);

  // Versions in force that still clash (a valid file newly declaring what another file's last good version
  // declares): the earlier owner keeps the agent; the other file falls back, or contributes nothing.
  for (let round = 0; round <= cands.length; round++) {
    const holdersOf = new Map<string, Candidate<Roster>[]>();
    for (const c of cands)
      for (const a of c.inForce?.value.agents ?? [])
        holdersOf.set(agentKey(a), [...(holdersOf.get(agentKey(a)) ?? []), c]);
    const clash = [...holdersOf].find(([, list]) => list.length > 1);
    if (!clash) break;
    const [key, list] = clash;
    const rank = (c: Candidate<Roster>) => (previousOwners.get(key) === c.path ? 0 : c.inForce!.lastGood ? 2 : 1);
    const keeper = [...list].sort((x, y) => rank(x) - rank(y) || (x.path < y.path ? -1 : 1))[0]!;
    for (const c of list) {
      if (c === keeper) continue;
      const a = c.inForce!.value.agents.find((x) => agentKey(x) === key)!;
      if (!c.inForce!.lastGood) {
        c.problems.push({
          file: c.path,
          line: a.source.line,
          col: a.source.col,
          message:
            `agent "${a.name}" is also declared in ${keeper.path} on socket "${a.socket}" (in force there); ` +
            `agent names are unique per socket`,
        });
        c.inForce = lastGood(c);
        if (c.inForce?.value.agents.some((x) => agentKey(x) === key)) c.inForce = null;
      } else c.inForce = null;
    }
  }
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
        message:
          `${mine} differs from "${holder}" in ${file}, which shares socket "${socket}"; ` +
          `rosters on one socket name the same holder (set tmux.holder_session)`,
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
        `agent "${a.name}" names no host; ` +
          `fleet.yaml declares several hosts, so every agent names one of: ${config.hosts.join(', ')}`,
      );
    } else if (config.hosts.length > 0 && a.host !== null && !config.hosts.includes(a.host)) {
      at(`agent "${a.name}": host "${a.host}" is not in fleet.yaml hosts; allowed: ${config.hosts.join(', ')}`);
    }
  }
  return problems;
}
