// The terminal view of a status document.
import { formatProblem } from '../errors.js';
import type { StatusDoc } from '../status/types.js';
import { agentFlags, agentState } from './agent-state.js';
import { shortRevision } from '../revision.js';

export function renderStatusText(s: StatusDoc): string {
  const rows = s.agents.map((a) => [
    a.name,
    a.socket,
    agentState(a),
    String(a.session.pid ?? '-'),
    String(a.restarts),
    agentFlags(a).join(','),
  ]);
  const head = ['AGENT', 'SOCKET', 'STATE', 'PID', 'RESTARTS', 'FLAGS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(head), ...rows.map(line)];
  for (const u of s.unmanaged) out.push(`unmanaged: ${u.socket}/${u.session} (${u.command})`);
  out.push(...supervisorLines(s));
  for (const h of s.pruneHeld ?? []) out.push(`PruneHeld: ${h.message}`);
  for (const e of s.errors) out.push(`error: ${formatProblem(e)}`);
  const { ready, agents, disabled } = s.summary;
  out.push(
    `${s.converged ? 'Converged' : s.progressing ? 'Progressing (agents starting)' : 'Not converged'}: ` +
      `${ready}/${agents - disabled} ready ` +
      `at ${shortRevision(s.desiredRevision)} (host ${s.host}, fleet ${s.fleet}).`,
  );
  return `${out.join('\n')}\n`;
}

/** Which supervisor runs the fleet, and what a person must do about it (shared with the dashboard). */
export function supervisorLines(s: StatusDoc): string[] {
  const sup = s.supervisor;
  if (!sup) return [];
  const out = [`supervisor: ${sup.mode} (${sup.reason})`];
  if (!sup.observed)
    out.push(
      'warning: the systemd user manager could not be observed; ' +
        `nothing was started or stopped through units: ${sup.error}`,
    );
  if (sup.linger === false)
    out.push(
      `warning: lingering is off for ${s.tenant_id}: the fleet's units start only at ${s.tenant_id}'s login, ` +
        `not at boot, and stop (with the agents) at logout. Fix: ${sup.lingerFix}`,
    );
  return out;
}
