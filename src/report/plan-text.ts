// The human view of a plan: one line per action, deferred items and errors
// after, a one-line count last. No-ops are not shown.
import { formatProblem } from '../errors.js';
import type { Action, Plan } from '../plan/types.js';

const SIGIL: Record<Action['kind'], string> = {
  create_session: '+',
  delete_session: '-',
  restart_session: '~',
  respawn_pane: '↻',
};

export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  out.push(`Plan for fleet ${plan.fleet} on ${plan.host} at ${plan.desiredRevision.slice(0, 12)}:`);
  for (const a of plan.actions) out.push(`  ${SIGIL[a.kind]} ${a.kind} ${a.target} (${a.reason})${describe(a)}`);
  if (plan.actions.length === 0) out.push('  no changes: the fleet matches the desired state');
  if (plan.deferred.length > 0) {
    out.push('Not done now:');
    for (const d of plan.deferred) out.push(`  · ${d.kind} ${d.target} (${d.reason})${describe(d)}`);
  }
  for (const u of plan.unobserved) out.push(`Socket ${u.socket} could not be observed, nothing planned there: ${u.error}`);
  if (plan.errors.length > 0) {
    out.push('Errors in desired state:');
    for (const e of plan.errors) out.push(`  ${formatProblem(e)}`);
  }
  out.push(summaryLine(plan));
  return out.join('\n') + '\n';
}

export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  return `Plan: ${s.create_session} to create, ${s.restart_session} to restart, ${s.respawn_pane} to respawn, ${s.delete_session} to delete; ${s.deferred} deferred, ${plan.errors.length} errors.`;
}

function describe(a: Action): string {
  const d = a.detail;
  const parts: string[] = [];
  if (d.role === 'holder') parts.push('holder');
  if (d.argv) parts.push(`exec ${d.argv.map(shellish).join(' ')}`);
  if (d.cwd) parts.push(`in ${d.cwd}`);
  if (d.exitStatus !== undefined && d.exitStatus !== null) parts.push(`exit status ${d.exitStatus}`);
  if (d.streak) parts.push(`${d.streak} respawns in a row`);
  if (d.notBefore) parts.push(`not before ${d.notBefore}`);
  if (d.runningSpec !== undefined) parts.push(`spec ${d.runningSpec ?? '?'} → ${d.specHash}`);
  return parts.length ? `: ${parts.join(', ')}` : '';
}

function shellish(s: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
