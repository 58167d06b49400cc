// Liveness refs judged (src/status/liveness.ts): stale after three of the writer's own intervals, with times that
// only move on a transition; refreshed only when half an interval old.
import { describe, expect, it } from 'vitest';
import { reconcilerRows } from '../../src/ps.js';
import { renderPs } from '../../src/report/ps-text.js';
import { statusFileText } from '../../src/report/status-json.js';
import { renderStatusMarkdown } from '../../src/report/status-md.js';
import { parseStatusJson } from '../../src/status/read.js';
import { previousStatus } from './builders.js';
import {
  type AliveRecord,
  aliveIntervalSeconds,
  aliveMessageText,
  judge,
  parseAlive,
  refreshDue,
  staleOthers,
} from '../../src/status/liveness.js';

const T0 = new Date('2026-01-01T10:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const rec = (name: string, lastSeen: Date, intervalSeconds = 60): AliveRecord => ({
  name,
  host: name.split('@')[0]!,
  tenant: name.split('@')[1] ?? 'ops',
  intervalSeconds,
  revision: 'abc',
  lastSeen,
});

describe('liveness judgement', () => {
  it('is stale only after more than three of its own intervals, and staleSince does not move', () => {
    const r = rec('b', T0, 60);
    expect(judge(r, at(180))).toEqual({ state: 'alive', lastSeen: T0, staleSince: at(180) });
    expect(judge(r, at(181))).toEqual({ state: 'stale', lastSeen: T0, staleSince: at(180) });
    expect(judge(r, at(5000)).staleSince).toEqual(at(180));
    // Another host's interval, not the reader's, counts.
    expect(judge(rec('c', T0, 3600), at(5000)).state).toBe('alive');
  });

  it('lists only the other stale ones, sorted, with times that are the same at every later run', () => {
    const records = [rec('z', at(0)), rec('a', at(100)), rec('self', at(0)), rec('m@bob', at(290))];
    const first = staleOthers(records, 'self', at(400));
    expect(first).toEqual([
      { host: 'a', tenant: 'ops', lastSeen: '2026-01-01T10:01:40Z', staleSince: '2026-01-01T10:04:40Z' },
      { host: 'z', tenant: 'ops', lastSeen: '2026-01-01T10:00:00Z', staleSince: '2026-01-01T10:03:00Z' },
    ]);
    expect(staleOthers(records, 'self', at(460))).toEqual(first);
    // Everyone seen lately: nothing listed.
    expect(staleOthers([rec('a', at(390)), rec('z', at(395))], 'self', at(400))).toEqual([]);
  });

  it('refreshes at most every half interval, and at once when there is none or the interval changed', () => {
    const msg = { host: 'a', tenant: 'ops', intervalSeconds: 60, revision: 'abc' };
    expect(refreshDue(null, msg, T0)).toBe(true);
    const last = rec('a', T0, 60);
    expect(refreshDue(last, msg, at(30))).toBe(false);
    expect(refreshDue(last, { ...msg, revision: 'def' }, at(10))).toBe(false);
    expect(refreshDue(last, msg, at(31))).toBe(true);
    expect(refreshDue(last, { ...msg, intervalSeconds: 300 }, at(1))).toBe(true);
  });

  it('reads back what it writes; anything else under the prefix is no record', () => {
    const msg = { host: 'a', tenant: 'ops', intervalSeconds: 60, revision: 'abc' };
    expect(parseAlive('a', aliveMessageText(msg), T0)).toEqual({ ...msg, name: 'a', lastSeen: T0 });
    expect(parseAlive('a', 'not json', T0)).toBeNull();
    expect(parseAlive('a', '{"host":"a","tenant":"ops","intervalSeconds":0,"revision":"x"}', T0)).toBeNull();
    expect(parseAlive('a', '{"host":"a","tenant":"ops","revision":"x"}', T0)).toBeNull();
  });

  it('ps: a host with a status but no liveness ref is unknown, never stale', () => {
    const rows = reconcilerRows(
      [rec('a', at(0)), rec('b', at(390))],
      [
        { name: 'a', host: 'a', tenant: 'ops' },
        { name: 'old', host: 'old', tenant: 'ops' },
      ],
      at(400),
    );
    expect(rows.map((r) => [r.name, r.state, r.lastSeen?.toISOString() ?? null])).toEqual([
      ['a', 'stale', '2026-01-01T10:00:00.000Z'],
      ['b', 'alive', '2026-01-01T10:06:30.000Z'],
      ['old', 'unknown', null],
    ]);
  });

  it('status: the stale list is written, read back and shown under "Needs attention"; absent while none', () => {
    const stale = staleOthers([rec('b', at(0)), rec('c@bob', at(390))], 'a', at(400));
    const doc = { ...previousStatus([], []), staleReconcilers: stale };
    const text = statusFileText(doc);
    expect(JSON.parse(text).staleReconcilers).toEqual([
      { host: 'b', tenant: 'ops', lastSeen: '2026-01-01T10:00:00Z', staleSince: '2026-01-01T10:03:00Z' },
    ]);
    expect(parseStatusJson(JSON.parse(text)).staleReconcilers).toEqual(stale);
    expect(renderStatusMarkdown(doc)).toContain(
      '### Stale reconcilers\n\n' +
        '- **b** (tenant ops): last seen 2026-01-01 10:00 UTC, stale since 2026-01-01 10:03 UTC;',
    );
    const quiet = previousStatus([], []);
    expect(statusFileText({ ...quiet, staleReconcilers: [] })).toBe(statusFileText(quiet));
    expect(JSON.parse(statusFileText(quiet))).not.toHaveProperty('staleReconcilers');
  });

  it('ps text: a STALE row says since when', () => {
    const result = {
      formatVersion: 1 as const,
      fleet: 'lab',
      host: 'a',
      supervisor: previousStatus([], []).supervisor,
      agents: [],
      unmanaged: [],
      reconcilers: reconcilerRows([rec('a', at(399)), rec('b', at(0), 30)], [], at(400)),
    };
    const lines = renderPs(result).split('\n');
    expect(lines).toContain('RECONCILER  HOST  TENANT  LAST SEEN             EVERY  STATE');
    expect(lines).toContain('a           a     ops     2026-01-01T10:06:39Z  60s    alive');
    expect(lines).toContain('b           b     ops     2026-01-01T10:00:00Z  30s    STALE since 2026-01-01T10:01:30Z');
  });
});

describe('the interval a liveness record announces', () => {
  it("is the schedule's, or the timer's (GITFLEET_RUN_EVERY from install) when that is longer", () => {
    expect(aliveIntervalSeconds(300_000, undefined)).toBe(300);
    expect(aliveIntervalSeconds(300_000, '900')).toBe(900); // a 15-minute timer is not stale between its runs
    expect(aliveIntervalSeconds(300_000, '60')).toBe(300); // a daemon's full reconciles follow the schedule
    expect(aliveIntervalSeconds(400, undefined)).toBe(1);
  });

  it('ignores a value that is not a whole number of seconds', () => {
    for (const bad of ['', '0', '-5', '1.5', '15min', ' 90', '99999999']) {
      expect(aliveIntervalSeconds(300_000, bad)).toBe(300);
    }
  });
});
