// The human dashboard: status/<host>.md, rendered from the status document
// only, so it changes exactly when the JSON does. A forge shows it to people
// who did not run gitfleet: what is wrong comes first, in plain words, with
// links into the repository; then every agent. Times are lastTransitionTimes,
// which move only on transitions: a converged fleet's dashboard never churns.
// Links are relative to status/, which GitHub, Gitea and GitLab all resolve.
import type { Problem } from '../errors.js';
import { CONDITION_REASONS, PROGRESSING } from '../status/condition-kinds.js';
import type { AgentRecord, Condition, FileRecord, StatusDoc } from '../status/types.js';
import { agentFlags, agentRank, agentState, attentionConditions } from './agent-state.js';
import { supervisorLines } from './status-text.js';
import { shortRevision } from '../revision.js';

/** `name`: the status name the file is written under (status/read.ts statusName), the host's unless a tenant's. */
export function renderStatusMarkdown(s: StatusDoc, name = s.host): string {
  const out: string[] = [...headline(s), ...attention(s), ...agentTable(s), ...unmanaged(s), ...about(s, name)];
  return `${out.join('\n').trimEnd()}\n`;
}

function headline(s: StatusDoc): string[] {
  const n = s.summary;
  const counts = n.agents === 0 ? ['no agents run on this host'] : [`${plural(n.agents, 'agent')}: ${n.ready} ready`];
  const starting = s.agents.filter((a) => a.enabled && a.conditions.some(isStarting)).length;
  if (n.notReady > starting) counts.push(`**${n.notReady - starting} not ready**`);
  if (starting > 0) counts.push(`${starting} starting`);
  if (n.disabled > 0) counts.push(`${n.disabled} disabled`);
  const facts = [counts.join(', ')];
  if (n.errors > 0) facts.push(`**${plural(n.errors, 'error')} in desired-state files**`);
  if (n.unmanaged > 0) facts.push(plural(n.unmanaged, 'unmanaged session'));
  facts.push(`desired revision \`${shortRevision(s.desiredRevision)}\``);
  const changed = lastChange(s);
  if (changed) facts.push(`last change ${utc(changed)}`);
  const [mark, verdict] = s.converged
    ? ['✅', 'converged']
    : s.progressing
      ? ['⏳', 'progressing']
      : ['⚠️', 'not converged'];
  return [`# ${mark} ${text(s.fleet)} on ${text(s.host)}: ${verdict}`, '', `${capitalise(facts.join(' · '))}.`, ''];
}

const isStarting = (c: Condition) => c.type === PROGRESSING && c.status === 'True';

/** The newest transition of any condition: when the fleet's state last changed. */
function lastChange(s: StatusDoc): string | null {
  const times = s.agents.flatMap((a) => a.conditions.map((c) => c.lastTransitionTime)).filter(Boolean);
  return times.length ? times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) : null;
}

// ---- needs attention ---------------------------------------------------------

function attention(s: StatusDoc): string[] {
  const parts = [...fileErrors(s), ...agentProblems(s), ...fleetProblems(s)];
  return parts.length ? ['## Needs attention', '', ...parts] : [];
}

/** Each problem once, grouped by file, linked to its line. */
function fileErrors(s: StatusDoc): string[] {
  if (s.errors.length === 0) return [];
  const byFile = new Map<string, Problem[]>();
  for (const p of s.errors) byFile.set(p.file, [...(byFile.get(p.file) ?? []), p]);
  const out = ['### Errors in desired-state files', ''];
  for (const [file, problems] of byFile) {
    out.push(`- ${link(`**${text(file)}**`, file)}${fileFate(s.files.find((f) => f.path === file))}`);
    for (const p of problems) out.push(`  - ${link(`line ${p.line}`, file, p.line)}: ${prose(p.message)}`);
  }
  out.push('');
  return out;
}

/** What an invalid file means for its agents (the table lists only agents in force). */
function fileFate(f: FileRecord | undefined): string {
  if (!f || f.valid) return '';
  if (f.usingLastKnownGood)
    return (
      ': its last valid version stays in force; what changed in it since (agents added or edited) waits, ' +
      'and is not listed below, until it is fixed'
    );
  return ': no valid version of it is in force, so none of the agents it declares runs or is listed below';
}

function agentProblems(s: StatusDoc): string[] {
  const rows = s.agents
    .filter((a) => agentRank(a) === 0)
    .sort(byName)
    .flatMap((a) => attentionConditions(a).map((c) => `- **${text(a.name)}**: ${problem(a, c)}`));
  return rows.length ? ['### Agents', '', ...rows, ''] : [];
}

/** One condition in words, with since when; never a spec hash or blob id. */
function problem(a: AgentRecord, c: Condition): string {
  const since = `since ${utc(c.lastTransitionTime)}`;
  switch (c.type) {
    case 'Ready':
      return `${agentState(a)} ${since}: ${prose(c.message)}${streak(a, c)}`;
    case 'Stalled': {
      const { file, line } = source(a);
      const where = link(text(file), file, line);
      return `Stalled ${since}: declared in ${where}, which has errors (above); its last valid version stays in force`;
    }
    case 'PendingRestart':
      return `PendingRestart ${since}: ${prose(CONDITION_REASONS[c.reason])}`;
    default:
      return `${c.type} (${c.reason}) ${since}: ${prose(c.message)}`;
  }
}

/** A crash streak the Ready message does not already tell (it does while a respawn waits). */
function streak(a: AgentRecord, c: Condition): string {
  if (!a.backoff || c.reason !== 'PaneDead') return '';
  const n = a.backoff.streak;
  const when = utc(a.backoff.lastRestart);
  const respawned = n === 1 ? `respawned at ${when}` : `respawned ${n} times in a row, last at ${when}`;
  return `; ${respawned}, and exited again; further respawns are spaced out`;
}

function fleetProblems(s: StatusDoc): string[] {
  const out: string[] = [];
  // In the words of `gitfleet status` (status-text.ts).
  for (const line of supervisorLines(s))
    if (line.startsWith('warning: ')) out.push(`- ${capitalise(prose(line.slice('warning: '.length)))}`);
  for (const x of s.sockets.filter((x) => !x.observed))
    out.push(`- Socket \`${x.name}\` could not be observed: ${prose(x.error ?? '')}`);
  if (out.length) out.unshift('### Fleet', '');
  if (s.pruneHeld?.length) {
    if (out.length) out.push('');
    out.push('### Deletes held (PruneHeld)', '');
    for (const h of s.pruneHeld)
      out.push(`- ${prose(h.message)}. Agents: ${h.agents.map((a) => `\`${a}\``).join(', ')}`);
  }
  if (s.staleReconcilers?.length) {
    if (out.length) out.push('');
    out.push('### Stale reconcilers', '');
    for (const r of s.staleReconcilers)
      out.push(
        `- **${text(r.host)}** (tenant ${text(r.tenant)}): last seen ${utc(r.lastSeen)}, stale since ` +
          `${utc(r.staleSince)}; its gitfleet has stopped or cannot reach the repository`,
      );
  }
  return out.length ? [...out, ''] : [];
}

// ---- every agent -------------------------------------------------------------

function agentTable(s: StatusDoc): string[] {
  if (s.agents.length === 0) return [];
  const units = s.agents.some((a) => a.unit);
  const head = ['Agent', 'State', 'Since', 'Runtime', 'Socket', 'PID', 'Restarts', ...(units ? ['Unit'] : [])];
  const rows = [...s.agents]
    .sort((x, y) => agentRank(x) - agentRank(y) || byName(x, y))
    .map((a) => {
      const ready = a.conditions.find((c) => c.type === 'Ready');
      const { file, line } = source(a);
      return [
        `**${text(a.name)}**`,
        [agentState(a), ...agentFlags(a).filter((f) => f !== 'disabled')].join(' · '),
        // A table cell may wrap: keep the date and the time together.
        ready ? utc(ready.lastTransitionTime).replace(/ /g, '\u00a0') : '—',
        text(a.runtime),
        text(a.socket),
        String(a.session.pid ?? '—'),
        String(a.restarts),
        ...(units ? [a.unit ? text(`${a.unit.active}/${a.unit.enabled}`) : '—'] : []),
        // Rosters sit flat in rosters/: the file's name is enough in a narrow column.
        link(`${text(file.slice(file.lastIndexOf('/') + 1))}:${line}`, file, line),
      ];
    });
  head.push('Declared in');
  return [
    '## All agents',
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ];
}

function unmanaged(s: StatusDoc): string[] {
  if (s.unmanaged.length === 0) return [];
  return [
    '## Unmanaged sessions',
    '',
    "Sessions on the fleet's sockets that this fleet did not start; gitfleet leaves them alone.",
    '',
    ...s.unmanaged.map(
      (u) => `- \`${u.socket}/${u.session}\` runs \`${u.command}\`${u.fleet ? ` (fleet ${text(u.fleet)})` : ''}`,
    ),
    '',
  ];
}

function about(s: StatusDoc, name: string): string[] {
  const sup = s.supervisor ? [`- Supervisor: ${text(s.supervisor.mode)} (${prose(s.supervisor.reason)}).`] : [];
  return [
    '## About this host',
    '',
    ...sup,
    `- Evidence of every action and observed event: ${link(text(`evidence/${name}/`), `evidence/${name}/`)}.`,
    `- The same status as data: ${link(text(`${name}.json`), null, undefined, `${name}.json`)}.`,
    '',
  ];
}

// ---- words -------------------------------------------------------------------

/** `1 error`, `2 errors`. */
export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** An ISO time as people read it: 2026-11-29 22:31 UTC. */
export function utc(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return text(iso);
  const d = new Date(t).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 16)} UTC`;
}

/** A message as prose: Markdown escaped, ISO times as people read them. */
const prose = (message: string): string =>
  text(message).replace(/\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?Z\b/g, '$1 $2 UTC');

/** Plain text in Markdown: characters that would start markup (or end a table cell) escaped. */
const text = (v: string): string => v.replace(/[\\`*_[\]<>|~#]/g, '\\$&');

const capitalise = (v: string): string => v.charAt(0).toUpperCase() + v.slice(1);

/** `[label](../file#Lline)`: relative to status/, where the dashboard lives. */
function link(label: string, file: string | null, line?: number, raw?: string): string {
  const path = encodeURI(file ?? '').replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const target = raw ?? `../${path}${line ? `#L${line}` : ''}`;
  return `[${label}](${target})`;
}

/** The record's declaring file and line (`rosters/a.yaml:7`). */
function source(a: AgentRecord): { file: string; line: number } {
  const m = /^(.*):(\d+)$/.exec(a.source);
  return m ? { file: m[1]!, line: Number(m[2]) } : { file: a.source, line: 1 };
}

const byName = (x: AgentRecord, y: AgentRecord): number =>
  x.name < y.name ? -1 : x.name > y.name ? 1 : x.socket < y.socket ? -1 : x.socket > y.socket ? 1 : 0;
