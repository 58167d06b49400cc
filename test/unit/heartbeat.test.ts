// Heartbeat protocol v1, pure: the line the field writes, what a reader
// accepts and rejects (and says why), and health at the exact boundaries.
import { describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_ALLOWANCE_SECONDS,
  DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
  formatHeartbeat,
  judgeHeartbeat,
  parseHeartbeat,
  type Heartbeat,
  type ParsedHeartbeat,
} from '../../src/heartbeat/protocol.js';

const TS = new Date('2025-03-01T12:00:00.000Z');
const at = (secondsAfterTs: number) => new Date(TS.getTime() + secondsAfterTs * 1000);
const hb = (over: Partial<Heartbeat> = {}): Heartbeat => ({ ts: TS, pid: 4242, status: 'ok', ...over });

function parsed(text: string): Heartbeat {
  const r = parseHeartbeat(text);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(text)} to parse: ${r.error}`);
  return r.heartbeat;
}

function parseError(text: string): string {
  const r = parseHeartbeat(text);
  if (r.ok) throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
  return r.error;
}

describe('formatHeartbeat / parseHeartbeat', () => {
  it('formats the field line exactly, and parses it back', () => {
    const line = formatHeartbeat(hb({ status: 'busy' }));
    expect(line).toBe('ts=2025-03-01T12:00:00.000Z pid=4242 status=busy\n');
    expect(parseHeartbeat(line)).toEqual({ ok: true, heartbeat: hb({ status: 'busy' }) });
  });

  it('round-trips both statuses and millisecond timestamps', () => {
    for (const status of ['ok', 'busy'] as const) {
      const h = hb({ ts: new Date('2031-12-31T23:59:59.987Z'), pid: 1, status });
      expect(parsed(formatHeartbeat(h))).toEqual(h);
    }
  });

  it('accepts what field writers produce: date -Is offsets, no fraction, microseconds, lower case, any order', () => {
    expect(parsed('ts=2025-03-01T13:00:00+01:00 pid=7 status=ok').ts).toEqual(TS);
    expect(parsed('ts=2025-03-01T07:00:00-0500 pid=7 status=ok').ts).toEqual(TS);
    expect(parsed('ts=2025-03-01T12:00Z pid=7 status=ok').ts).toEqual(TS);
    expect(parsed('ts=2025-03-01T12:00:00.123456+00:00 pid=7 status=ok').ts).toEqual(
      new Date('2025-03-01T12:00:00.123Z'),
    );
    expect(parsed('ts=2025-03-01t12:00:00z pid=7 status=ok').ts).toEqual(TS);
    expect(parsed('status=busy pid=7 ts=2025-03-01T12:00:00Z')).toEqual({ ts: TS, pid: 7, status: 'busy' });
  });

  it('tolerates surrounding whitespace and unknown key=value fields (forward compatibility)', () => {
    expect(parsed('  \n\tts=2025-03-01T12:00:00Z   pid=9 status=ok agent=a1 v=2 note=\r\n\n')).toEqual({
      ts: TS,
      pid: 9,
      status: 'ok',
    });
  });

  it('rejects a missing ts, pid or status, each by name, all in one message', () => {
    expect(parseError('pid=1 status=ok')).toBe('missing ts');
    expect(parseError('ts=2025-03-01T12:00:00Z status=ok')).toBe('missing pid');
    expect(parseError('ts=2025-03-01T12:00:00Z pid=1')).toBe('missing status');
    expect(parseError('agent=a1')).toBe('missing ts; missing pid; missing status');
    expect(parseError('')).toBe('empty heartbeat; expected ts=<ISO-8601> pid=<pid> status=<ok|busy>');
    expect(parseError(' \n ')).toMatch(/^empty heartbeat/);
  });

  it('rejects timestamps that are not ISO-8601 with a zone, or not real dates', () => {
    expect(parseError('ts=yesterday pid=1 status=ok')).toBe(
      'ts "yesterday": not an ISO-8601 date-time (e.g. 2025-01-31T12:00:00Z)',
    );
    expect(parseError('ts=1740830400 pid=1 status=ok')).toMatch(/^ts "1740830400": not an ISO-8601 date-time/);
    expect(parseError('ts=2025-03-01 pid=1 status=ok')).toMatch(/not an ISO-8601 date-time/);
    expect(parseError('ts=2025-03-01T12:00:00 pid=1 status=ok')).toBe(
      'ts "2025-03-01T12:00:00": has no time zone (add Z or ±hh:mm)',
    );
    expect(parseError('ts=2025-02-30T12:00:00Z pid=1 status=ok')).toBe(
      'ts "2025-02-30T12:00:00Z": day 30 out of range for 2025-02',
    );
    expect(parseError('ts=2025-13-01T12:00:00Z pid=1 status=ok')).toBe(
      'ts "2025-13-01T12:00:00Z": month 13 out of range',
    );
    expect(parseError('ts=2025-03-01T24:00:00Z pid=1 status=ok')).toBe('ts "2025-03-01T24:00:00Z": time out of range');
    expect(parseError('ts=2025-03-01T12:00:00+25:00 pid=1 status=ok')).toBe(
      'ts "2025-03-01T12:00:00+25:00": offset +25:00 out of range',
    );
    expect(parsed('ts=2024-02-29T12:00:00Z pid=1 status=ok').ts).toEqual(new Date('2024-02-29T12:00:00Z'));
  });

  it('rejects a bad status with the allowed values, and a pid that is not a positive integer', () => {
    expect(parseError('ts=2025-03-01T12:00:00Z pid=1 status=idle')).toBe('status "idle": allowed: ok, busy');
    expect(parseError('ts=2025-03-01T12:00:00Z pid=1 status=OK')).toBe('status "OK": allowed: ok, busy');
    for (const pid of ['0', '-3', '12a', '1.5', '007', '']) {
      expect(parseError(`ts=2025-03-01T12:00:00Z pid=${pid} status=ok`)).toBe(
        `pid ${JSON.stringify(pid)}: must be a positive integer`,
      );
    }
  });

  it('rejects tokens that are not key=value, repeated keys and more than one line', () => {
    expect(parseError('ts=2025-03-01T12:00:00Z pid=1 status=ok garbage')).toBe('"garbage" is not key=value');
    expect(parseError('ts=2025-03-01T12:00:00Z pid=1 status=ok =x')).toBe('"=x" is not key=value');
    expect(parseError('ts=2025-03-01T12:00:00Z pid=1 status=ok status=busy')).toBe('status given twice');
    expect(parseError('ts=2025-03-01T12:00:00Z pid=1 status=ok\nts=2025-03-01T12:00:15Z pid=1 status=ok\n')).toBe(
      'expected one line, found 2',
    );
  });

  it('reports every problem at once', () => {
    expect(parseError('ts=noon pid=x status=done extra')).toBe(
      '"extra" is not key=value; ' +
        'ts "noon": not an ISO-8601 date-time (e.g. 2025-01-31T12:00:00Z); ' +
        'pid "x": must be a positive integer; ' +
        'status "done": allowed: ok, busy',
    );
  });

  it('formatHeartbeat refuses values the parser would reject', () => {
    expect(() => formatHeartbeat(hb({ pid: 0 }))).toThrow(RangeError);
    expect(() => formatHeartbeat(hb({ status: 'idle' as 'ok' }))).toThrow('allowed: ok, busy');
    expect(() => formatHeartbeat(hb({ ts: new Date(NaN) }))).toThrow(RangeError);
  });
});

describe('judgeHeartbeat', () => {
  it('default interval is 15 s: healthy up to and including 45 s, stale one millisecond later', () => {
    expect(DEFAULT_HEARTBEAT_INTERVAL_SECONDS).toBe(15);
    expect(judgeHeartbeat(hb(), at(45))).toEqual({
      health: 'healthy',
      ageSeconds: 45,
      status: 'ok',
      pid: 4242,
      error: null,
    });
    expect(judgeHeartbeat(hb(), at(45.001))).toEqual({
      health: 'stale',
      ageSeconds: 45.001,
      status: 'ok',
      pid: 4242,
      error: null,
    });
    expect(judgeHeartbeat(hb(), at(0)).health).toBe('healthy');
  });

  it('the boundary is exactly 3 × the runtime interval', () => {
    expect(judgeHeartbeat(hb(), at(30), 10).health).toBe('healthy');
    expect(judgeHeartbeat(hb(), at(30.001), 10).health).toBe('stale');
    expect(judgeHeartbeat(hb(), at(1.5), 0.5).health).toBe('healthy');
    expect(judgeHeartbeat(hb(), at(1.501), 0.5).health).toBe('stale');
    expect(judgeHeartbeat(hb(), at(180), 60).health).toBe('healthy');
    expect(judgeHeartbeat(hb(), at(3600), 60)).toMatchObject({ health: 'stale', ageSeconds: 3600 });
  });

  it('no file is unknown; a failed parse or read is invalid with its reason', () => {
    expect(judgeHeartbeat(null, at(0))).toEqual({
      health: 'unknown',
      ageSeconds: null,
      status: null,
      pid: null,
      error: null,
    });
    expect(judgeHeartbeat(parseHeartbeat('pid=1 status=ok'), at(0))).toEqual({
      health: 'invalid',
      ageSeconds: null,
      status: null,
      pid: null,
      error: 'missing ts',
    });
    const readError: ParsedHeartbeat = { ok: false, error: "EACCES: permission denied, open '/x.hb'" };
    expect(judgeHeartbeat(readError, at(0))).toMatchObject({ health: 'invalid', error: readError.error });
  });

  it('takes a parse result or a heartbeat alike', () => {
    const text = formatHeartbeat(hb({ status: 'busy' }));
    expect(judgeHeartbeat(parseHeartbeat(text), at(10))).toEqual(judgeHeartbeat(hb({ status: 'busy' }), at(10)));
  });

  it('busy or ok is reported as written, healthy or stale alike; health depends only on age', () => {
    expect(judgeHeartbeat(hb({ status: 'busy' }), at(5))).toMatchObject({ health: 'healthy', status: 'busy' });
    expect(judgeHeartbeat(hb({ status: 'busy' }), at(46))).toMatchObject({
      health: 'stale',
      status: 'busy',
      pid: 4242,
    });
    expect(judgeHeartbeat(hb({ status: 'ok' }), at(46))).toMatchObject({ health: 'stale', status: 'ok' });
  });

  it(`a ts ahead is healthy within the ${CLOCK_SKEW_ALLOWANCE_SECONDS} s skew allowance, invalid beyond it`, () => {
    expect(CLOCK_SKEW_ALLOWANCE_SECONDS).toBe(5);
    expect(judgeHeartbeat(hb(), at(-5))).toEqual({
      health: 'healthy',
      ageSeconds: -5,
      status: 'ok',
      pid: 4242,
      error: null,
    });
    expect(judgeHeartbeat(hb(), at(-5.001))).toEqual({
      health: 'invalid',
      ageSeconds: -5.001,
      status: 'ok',
      pid: 4242,
      error: 'ts 2025-03-01T12:00:00.000Z is 5.001 s ahead of now (allowed clock skew: 5 s)',
    });
    // A ts far ahead is never healthy for ever.
    expect(judgeHeartbeat(hb(), at(-86_400 * 365))).toMatchObject({ health: 'invalid' });
    expect(judgeHeartbeat(hb(), at(-1), 15, 0).health).toBe('invalid');
  });

  it('refuses an interval that is not a positive number', () => {
    for (const bad of [0, -15, NaN, Infinity]) expect(() => judgeHeartbeat(hb(), at(0), bad)).toThrow(RangeError);
  });
});
