// The terminal view of the fleet table.
import type { PsResult, PsRow } from '../ps.js';
import { shortRevision } from '../revision.js';

/** What the pane is: a disabled agent has none by design, so it is neither dead nor missing. */
function paneWord(a: PsRow): string {
  if (a.pane.alive) return 'alive';
  if (a.pane.exitStatus !== null) return `dead(${a.pane.exitStatus})`;
  if (a.reason === 'Disabled') return '-';
  return a.reason === 'SessionMissing' ? 'missing' : 'dead';
}

export function renderPs(r: PsResult): string {
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
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(head), ...rows.map(line)];
  const sup = r.supervisor;
  const live = r.agents.filter((a) => a.source.kind === 'live').length;
  const unobserved = sup.observed ? '' : `: NOT OBSERVED: ${sup.error}`;
  out.push(
    `${live} agents on ${r.host} (fleet ${r.fleet}, supervisor ${sup.mode}${unobserved})` +
      (sup.linger === false ? `; lingering is off: ${sup.lingerFix}` : ''),
  );
  return `${out.join('\n')}\n`;
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
