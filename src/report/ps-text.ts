// The terminal view of the fleet table.
import type { PsResult, PsRow, ReconcilerRow } from '../ps.js';
import { plain, type Style } from './style.js';
import { shortRevision } from '../revision.js';

/** What the pane is: a disabled agent has none by design, so it is neither dead nor missing. */
function paneWord(a: PsRow): string {
  if (a.pane.alive) return 'alive';
  if (a.pane.exitStatus !== null) return `dead(${a.pane.exitStatus})`;
  if (a.reason === 'Disabled') return '-';
  return a.reason === 'SessionMissing' ? 'missing' : 'dead';
}

/** Not Ready but not failing either: disabled by choice, not known yet, or on its way (a first heartbeat). */
const NOT_FAILING = new Set(['Disabled', 'Unknown', 'Progressing']);

/** READY's colour: Ready green, failing red, the others uncoloured. */
function readyCell(a: PsRow, text: string, style: Style): string {
  if (a.ready === 'True') return style('good', text);
  return NOT_FAILING.has(a.state) ? text : style('bad', text);
}

export function renderPs(r: PsResult, style: Style = plain): string {
  const head = ['AGENT', 'HOST', 'TENANT', 'RUNTIME', 'UNIT', 'PANE', 'PID', 'IDLE', 'HEARTBEAT', 'READY', 'FLAGS'];
  const rows = r.agents.map((a) => [
    a.name,
    a.host + (a.source.kind === 'status' ? `@${shortRevision(a.source.commit)}` : ''),
    a.tenant_id,
    a.runtime,
    a.unit ? `${a.unit.active}/${a.unit.enabled}` : '-',
    paneWord(a),
    String(a.pane.pid ?? '-'),
    a.idleSeconds === null ? '-' : duration(a.idleSeconds),
    heartbeat(a),
    a.ready === 'True' ? 'yes' : `no (${a.state})`,
    a.flags.join(','),
  ]);
  for (const u of r.unmanaged)
    rows.push([
      u.session,
      r.host,
      u.tenant_id,
      '-',
      '-',
      'alive',
      '-',
      '-',
      '-',
      '-',
      `unmanaged (${u.command} on ${u.socket})`,
    ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const READY = head.indexOf('READY');
  // Padded by the plain text's width, coloured after: escape codes take no column.
  const line = (row: string[], a?: PsRow) =>
    row
      .map((c, i) => {
        const padded = c.padEnd(widths[i]!);
        return a && i === READY ? readyCell(a, c, style) + padded.slice(c.length) : padded;
      })
      .join('  ')
      .trimEnd();
  const out = [line(head), ...rows.map((row, i) => line(row, r.agents[i]))];
  const sup = r.supervisor;
  const live = r.agents.filter((a) => a.source.kind === 'live').length;
  const unobserved = sup.observed ? '' : `: NOT OBSERVED: ${sup.error}`;
  out.push(
    `${live} agents on ${r.host} (fleet ${r.fleet}, supervisor ${sup.mode}${unobserved})` +
      (sup.linger === false ? `; lingering is off: ${sup.lingerFix}` : ''),
  );
  if (r.reconcilers) out.push('', ...reconcilers(r.reconcilers, style));
  return `${out.join('\n')}\n`;
}

/** --all-hosts: which reconcilers still run (their liveness refs); STALE ones stand out. */
function reconcilers(rows: readonly ReconcilerRow[], style: Style): string[] {
  const when = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');
  const head = ['RECONCILER', 'HOST', 'TENANT', 'LAST SEEN', 'EVERY', 'STATE'];
  const cells = rows.map((x) => [
    x.name,
    x.host,
    x.tenant,
    when(x.lastSeen),
    x.intervalSeconds === null ? '-' : duration(x.intervalSeconds),
    x.state === 'stale' ? `STALE since ${when(x.staleSince)}` : x.state,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...cells.map((c, i) => (rows[i]!.state === 'stale' ? style('bad', line(c)) : line(c)))];
}

function heartbeat(a: PsRow): string {
  if (!a.heartbeat) return '-';
  const age = a.heartbeat.ageSeconds === null ? '' : ` ${duration(Math.max(0, a.heartbeat.ageSeconds))}`;
  return `${a.heartbeat.health}${age}${a.heartbeat.status ? ` ${a.heartbeat.status}` : ''}`;
}

function duration(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}
