// The human view of a plan: one line per action, deferred items and errors
// after, a one-line count last. No-ops are not shown.
import { formatProblem } from '../errors.js';
import type { Action, Plan } from '../plan/types.js';
import { isMasked, type ShownValue } from '../plan/spec-diff.js';
import { MASK, maskArgv } from '../redact.js';
import { shortRevision } from '../revision.js';
import { plain, type Style, type StyleKind } from './style.js';

const SIGIL: Record<Action['kind'], string> = {
  create_session: '+',
  delete_session: '-',
  restart_session: '~',
  respawn_pane: '↻',
  install_unit: '>',
  reload_units: '↻',
  enable_unit: '+',
  start_unit: '+',
  restart_unit: '~',
  stop_unit: '-',
};

const UNIT_COUNTS: [Action['kind'], string][] = [
  ['install_unit', 'to write'],
  ['enable_unit', 'to enable'],
  ['start_unit', 'to start'],
  ['restart_unit', 'to restart'],
  ['stop_unit', 'to stop and remove'],
];

/** The marker's colour: what is added green, changed yellow, removed red (only where the caller's Style colours). */
function sigil(kind: Action['kind'], style: Style): string {
  const s = SIGIL[kind];
  const colour: Record<string, StyleKind> = { '+': 'add', '~': 'change', '↻': 'change', '-': 'remove' };
  return colour[s] ? style(colour[s], s) : s;
}

export function renderPlan(plan: Plan, style: Style = plain): string {
  const out: string[] = [];
  out.push(`Plan for fleet ${plan.fleet} on ${plan.host} at ${shortRevision(plan.desiredRevision)}:`);
  for (const a of plan.actions) {
    out.push(`  ${sigil(a.kind, style)} ${a.kind} ${a.target} (${a.reason})${describe(a)}`);
    out.push(...changeLines(a));
  }
  if (plan.actions.length === 0) out.push('  no changes: the fleet matches the desired state');
  if (plan.deferred.length > 0) {
    out.push('Not done now:');
    for (const d of plan.deferred) {
      out.push(`  · ${d.kind} ${d.target} (${d.reason})${describe(d)}`);
      out.push(...changeLines(d));
    }
  }
  for (const h of plan.pruneHeld) out.push(`PruneHeld: ${h.message}`);
  out.push(...planProblemLines(plan));
  out.push(summaryLine(plan));
  return `${out.join('\n')}\n`;
}

/** What went wrong while planning: all that `plan -q` prints (on stderr), and what renderPlan ends with. */
export function planProblemLines(plan: Plan): string[] {
  const out: string[] = [];
  for (const u of plan.unobserved)
    out.push(`Socket ${u.socket} could not be observed, nothing planned there: ${u.error}`);
  const sup = plan.supervisor;
  if (sup.mode === 'systemd' && !sup.observed)
    out.push(`The systemd user manager could not be observed, no unit is started or stopped: ${sup.error}`);
  if (plan.errors.length > 0) {
    out.push('Errors in desired state:');
    for (const e of plan.errors) out.push(`  ${formatProblem(e)}`);
  }
  return out;
}

export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  const units = UNIT_COUNTS.filter(([k]) => s[k] > 0).map(([k, what]) => `${s[k]} ${what}`);
  const unitCounts = units.length ? `units (${plan.supervisor.mode}): ${units.join(', ')}; ` : '';
  return (
    `Plan: ${s.create_session} to create, ${s.restart_session} to restart, ` +
    `${s.respawn_pane} to respawn, ${s.delete_session} to delete; ` +
    `${unitCounts}${s.deferred} deferred, ${plan.errors.length} errors.`
  );
}

function describe(a: Action): string {
  const { role, unit } = a.apply;
  const d = a.detail;
  const parts: string[] = [];
  if (role === 'holder') parts.push(unit ? 'tmux server' : 'holder');
  if (unit && unit !== a.target) parts.push(unit);
  // A spec change says what changed (changeLines), not the whole command again.
  const known = d.changes !== undefined && d.changes !== null;
  // Masked by the planner already; masking again is idempotent and keeps this view safe on its own.
  if (d.argv && !known) parts.push(`exec ${maskArgv(d.argv).map(shellish).join(' ')}`);
  if (d.cwd && !known) parts.push(`in ${d.cwd}`);
  if (d.exitStatus !== undefined && d.exitStatus !== null) parts.push(`exit status ${d.exitStatus}`);
  if (d.streak) parts.push(`${d.streak} respawns in a row`);
  if (d.notBefore) parts.push(`not before ${d.notBefore}`);
  // The hashes stay in --json as data; people are told which fields changed, or that nobody knows.
  if (d.changes === null) parts.push('spec changed (fields unknown)');
  else if (d.changes === undefined && d.runningSpec !== undefined) parts.push('spec changed');
  if (d.idle) parts.push(d.idle);
  if (d.waiting) parts.push(`waits: ${d.waiting}`);
  return parts.length ? `: ${parts.join(', ')}` : '';
}

/** One line per changed field under its action: `env.MOOD: calm → stormy`, a secret's value never. */
function changeLines(a: Action): string[] {
  return (a.detail.changes ?? []).map((c) => {
    if (isMasked(c.old) && isMasked(c.new)) return `      ${c.field}: (secret changed)`;
    return `      ${c.field}: ${shownValue(c.old)} → ${shownValue(c.new)}`;
  });
}

function shownValue(v: ShownValue): string {
  if (v === null) return '(unset)';
  if (isMasked(v)) return MASK;
  if (typeof v === 'string') return /^[^\s"'\\]+$/.test(v) && v !== '(unset)' && v !== MASK ? v : JSON.stringify(v);
  // A mapping or list (a field that changed shape): its secrets are masked by the planner already.
  return JSON.stringify(v);
}

function shellish(s: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
