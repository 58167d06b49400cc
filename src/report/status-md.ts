// The human dashboard: status/<host>.md, rendered from the status document
// only, so it changes exactly when the JSON does.
import { formatProblem } from '../errors.js';
import type { AgentRecord, StatusDoc } from '../status/types.js';
import { supervisorLines } from './status-text.js';

export function renderStatusMarkdown(s: StatusDoc): string {
  const out: string[] = [];
  out.push(`# ${s.fleet} on ${s.host}`, '');
  const { ready, agents, disabled, errors } = s.summary;
  out.push(
    `${s.converged ? '✅ Converged' : '⚠️ Not converged'} at \`${s.desiredRevision.slice(0, 12)}\`: ` +
      `${ready}/${agents - disabled} agents ready` +
      `${disabled ? `, ${disabled} disabled` : ''}${errors ? `, ${errors} errors in desired state` : ''}.`,
    '',
  );
  for (const line of supervisorLines(s))
    out.push(line.startsWith('warning: ') ? `> ⚠️ ${line.slice(9)}` : `${line[0]!.toUpperCase()}${line.slice(1)}.`, '');
  if (s.agents.length > 0) {
    out.push(
      '| agent | runtime | socket | session | pid | restarts | ready | notes |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const a of s.agents) out.push(row(a));
    out.push('');
  }
  if (s.pruneHeld?.length) {
    out.push('## Deletes held (PruneHeld)', '');
    for (const h of s.pruneHeld) out.push(`- ${h.message}. Agents: ${h.agents.map((a) => `\`${a}\``).join(', ')}`);
    out.push('');
  }
  if (s.errors.length > 0) {
    out.push('## Errors in desired state', '');
    for (const e of s.errors) out.push(`- \`${formatProblem(e)}\``);
    out.push('');
  }
  const down = s.sockets.filter((x) => !x.observed);
  if (down.length > 0) {
    out.push('## Sockets not observed', '');
    for (const x of down) out.push(`- \`${x.name}\`: ${x.error}`);
    out.push('');
  }
  if (s.unmanaged.length > 0) {
    out.push(
      '## Unmanaged sessions',
      '',
      "Sessions on the fleet's sockets that this fleet did not start; gitfleet leaves them alone.",
      '',
    );
    for (const u of s.unmanaged)
      out.push(`- \`${u.socket}/${u.session}\` runs \`${u.command}\`${u.fleet ? ` (fleet ${u.fleet})` : ''}`);
    out.push('');
  }
  return out.join('\n');
}

function row(a: AgentRecord): string {
  const ready = a.conditions.find((c) => c.type === 'Ready');
  const notes = a.conditions
    .filter((c) => (c.type !== 'Ready' ? c.status === 'True' : c.status !== 'True'))
    .map((c) => `${c.type === 'Ready' ? '' : `${c.type}: `}${c.reason}: ${c.message}`)
    .join('; ');
  const cell = (v: unknown) => String(v ?? '').replace(/\|/g, '\\|');
  const readyCell = ready?.status === 'True' ? 'yes' : ready?.status === 'Unknown' ? '?' : 'no';
  const cells = [a.name, a.runtime, a.socket, a.session.name, a.session.pid ?? '—'].map(cell);
  return `| ${[...cells, a.restarts, readyCell, cell(notes)].join(' | ')} |`;
}
