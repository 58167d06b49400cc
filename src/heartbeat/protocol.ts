// Heartbeat protocol v1, as the field already writes it: one file per agent
// holding one line `ts=<ISO-8601> pid=<pid> status=<ok|busy>`, rewritten by
// the runtime (or a wrapper) every interval. Pure: formatting, parsing and
// judging take their inputs (the clock included) and touch nothing.
//
// Judging: healthy iff now - ts <= 3 × interval, stale if older, unknown if
// there is no file, invalid if it does not parse or its ts is further in the
// future than CLOCK_SKEW_ALLOWANCE_SECONDS (a clock that ran ahead, or a
// writer that lies; either way not evidence that the agent answered lately,
// and never "healthy forever"). "Healthy" means a heartbeat was written, never
// "the pane is alive".

export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 15;
/** A heartbeat older than this many intervals is stale. */
export const STALE_AFTER_INTERVALS = 3;
/**
 * How far ahead of `now` a ts may be and still count (ageSeconds down to -5):
 * covers clocks a little apart and a `now` taken just before the file was
 * read. Take `now` after reading the files to need none of it.
 */
export const CLOCK_SKEW_ALLOWANCE_SECONDS = 5;

export const HEARTBEAT_STATUSES = ['ok', 'busy'] as const;
export type HeartbeatStatus = (typeof HEARTBEAT_STATUSES)[number];

export interface Heartbeat {
  ts: Date;
  pid: number;
  status: HeartbeatStatus;
}

/** What parseHeartbeat returns: the heartbeat, or every problem with the text in one message. */
export type ParsedHeartbeat = { ok: true; heartbeat: Heartbeat } | { ok: false; error: string };

export type HeartbeatHealth = 'healthy' | 'stale' | 'unknown' | 'invalid';

export interface HeartbeatJudgement {
  health: HeartbeatHealth;
  /** now - ts in seconds (negative when ts is ahead of now); null without a parsed heartbeat. */
  ageSeconds: number | null;
  /** The last status written (also when stale); null without a parsed heartbeat. */
  status: HeartbeatStatus | null;
  pid: number | null;
  /** Why the heartbeat is invalid; null unless health is 'invalid'. */
  error: string | null;
}

export function isHeartbeatStatus(s: string): s is HeartbeatStatus {
  return (HEARTBEAT_STATUSES as readonly string[]).includes(s);
}

export function isPid(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

/** The one line a heartbeat file holds, newline included. Throws RangeError on values parse would reject. */
export function formatHeartbeat(hb: Heartbeat): string {
  if (!isPid(hb.pid)) throw new RangeError(`heartbeat pid ${hb.pid}: must be a positive integer`);
  if (!isHeartbeatStatus(hb.status))
    throw new RangeError(`heartbeat status ${JSON.stringify(hb.status)}: allowed: ${HEARTBEAT_STATUSES.join(', ')}`);
  const ts = hb.ts.toISOString(); // throws RangeError on an invalid date
  if (!/^\d{4}-/.test(ts)) throw new RangeError(`heartbeat ts ${ts}: year outside 0000..9999`);
  return `ts=${ts} pid=${hb.pid} status=${hb.status}\n`;
}

/**
 * Parse a heartbeat file's text. Surrounding whitespace and unknown
 * `key=value` fields are ignored (later versions may add fields); ts, pid and
 * status are required. Every problem is reported, in one message.
 */
export function parseHeartbeat(text: string): ParsedHeartbeat {
  const body = text.trim();
  if (body === '') return { ok: false, error: 'empty heartbeat; expected ts=<ISO-8601> pid=<pid> status=<ok|busy>' };
  const lines = body.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > 1) return { ok: false, error: `expected one line, found ${lines.length}` };
  const problems: string[] = [];
  const fields = new Map<string, string>();
  for (const token of body.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) {
      problems.push(`${JSON.stringify(token)} is not key=value`);
      continue;
    }
    const key = token.slice(0, eq);
    if (fields.has(key)) problems.push(`${key} given twice`);
    else fields.set(key, token.slice(eq + 1));
  }

  const tsText = fields.get('ts');
  let ts: Date | null = null;
  if (tsText === undefined) problems.push('missing ts');
  else {
    const r = parseIsoTimestamp(tsText);
    if (typeof r === 'string') problems.push(`ts ${JSON.stringify(tsText)}: ${r}`);
    else ts = r;
  }

  const pidText = fields.get('pid');
  let pid: number | null = null;
  if (pidText === undefined) problems.push('missing pid');
  else if (!/^[1-9][0-9]*$/.test(pidText) || !isPid(Number(pidText)))
    problems.push(`pid ${JSON.stringify(pidText)}: must be a positive integer`);
  else pid = Number(pidText);

  const statusText = fields.get('status');
  let status: HeartbeatStatus | null = null;
  if (statusText === undefined) problems.push('missing status');
  else if (!isHeartbeatStatus(statusText))
    problems.push(`status ${JSON.stringify(statusText)}: allowed: ${HEARTBEAT_STATUSES.join(', ')}`);
  else status = statusText;

  if (problems.length > 0 || ts === null || pid === null || status === null)
    return { ok: false, error: problems.join('; ') };
  return { ok: true, heartbeat: { ts, pid, status } };
}

/**
 * Health of one agent's heartbeat at `now`. `hb` is null when there is no
 * file, a parse result (a failed one, or a read error wrapped as
 * `{ ok: false, error }`, is invalid), or a heartbeat.
 */
export function judgeHeartbeat(
  hb: Heartbeat | ParsedHeartbeat | null,
  now: Date,
  intervalSeconds: number = DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
  skewSeconds: number = CLOCK_SKEW_ALLOWANCE_SECONDS,
): HeartbeatJudgement {
  if (!(Number.isFinite(intervalSeconds) && intervalSeconds > 0))
    throw new RangeError(`heartbeat interval ${intervalSeconds}: must be a positive number of seconds`);
  if (hb === null) return { health: 'unknown', ageSeconds: null, status: null, pid: null, error: null };
  if ('ok' in hb && !hb.ok) return { health: 'invalid', ageSeconds: null, status: null, pid: null, error: hb.error };
  const h = 'ok' in hb ? hb.heartbeat : hb;
  const ageMs = now.getTime() - h.ts.getTime();
  if (!Number.isFinite(ageMs))
    return { health: 'invalid', ageSeconds: null, status: h.status, pid: h.pid, error: 'ts is not a valid date' };
  const seen = { ageSeconds: ageMs / 1000, status: h.status, pid: h.pid };
  if (-ageMs > skewSeconds * 1000) {
    return {
      health: 'invalid',
      ...seen,
      error:
        `ts ${h.ts.toISOString()} is ${formatSeconds(-ageMs / 1000)} s ahead of now ` +
        `(allowed clock skew: ${skewSeconds} s)`,
    };
  }
  const healthy = ageMs <= STALE_AFTER_INTERVALS * intervalSeconds * 1000;
  return { health: healthy ? 'healthy' : 'stale', ...seen, error: null };
}

function formatSeconds(s: number): string {
  return Number.isInteger(s) ? String(s) : s.toFixed(3).replace(/\.?0+$/, '');
}

// ---- ISO-8601 ----------------------------------------------------------------

// Date and time with a zone, as `date -Is`, `date -u +%FT%TZ`, toISOString()
// and Python's isoformat() write them: seconds and fraction optional,
// offset as Z, ±hh:mm or ±hhmm. No zone is rejected: a local time is ambiguous.
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A Date, or why the text is not an ISO-8601 date-time with a zone. */
export function parseIsoTimestamp(text: string): Date | string {
  const m = ISO.exec(text);
  if (!m) return 'not an ISO-8601 date-time (e.g. 2025-01-31T12:00:00Z)';
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = m;
  if (zone === undefined) return 'has no time zone (add Z or ±hh:mm)';
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return `month ${mo} out of range`;
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0); // day 0 of the next month: this month's last day
  const days = last.getUTCDate();
  if (day < 1 || day > days) return `day ${d} out of range for ${y}-${mo}`;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return 'time out of range';
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.replace(':', '').slice(3) || '0');
    if (zh > 23 || zm > 59) return `offset ${zone} out of range`;
    offsetMin = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0..99 to 1900..1999
  date.setUTCHours(Number(h), Number(mi), Number(s), Number(frac.slice(0, 3).padEnd(3, '0')));
  date.setTime(date.getTime() - offsetMin * 60_000);
  return date;
}
