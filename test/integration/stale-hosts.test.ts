// Two hosts on one local repository (each its own --host and state dir, the CLI in-process), schedule every 2 s:
// a host that stops becomes stale to the other after three intervals, in `ps --all-hosts` and in the other's
// committed status, at the cost of one commit when it goes stale and one when it comes back; a fleet whose
// hosts all run commits nothing more. The clock is set for each run (vi's Date only; timers run as they are), so
// "three intervals later" does not depend on how fast a loaded machine runs gitfleet.
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { roster, sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();

let fleet: TestFleet;
afterEach(() => {
  vi.useRealTimers();
  fleet?.cleanup();
});

async function as(host: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => (stdout += s), stderr: (s: string) => (stderr += s), env: process.env };
  const state = path.join(fleet.dir, `state-${host}`);
  const code = await main([...args, '--repo', fleet.bare, '--state-dir', state, '--host', host], io);
  return { code, stdout, stderr };
}

const T0 = Date.parse('2026-12-01T12:00:00Z');
/** The time gitfleet sees from now on: `s` seconds after T0. */
const clockAt = (s: number) => vi.setSystemTime(new Date(T0 + s * 1000));
const iso = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');
const statusOf = (host: string) => JSON.parse(fleet.show(`main:status/${host}.json`));
const aliveRefs = () => sh('git', ['--git-dir', fleet.bare, 'for-each-ref', '--format=%(refname)', 'refs/gitfleet/']);

describe('stale hosts', { timeout: 120_000 }, () => {
  it('a stopped host is stale to the other within three intervals; commits only on the transitions', async () => {
    fleet = new TestFleet();
    vi.useFakeTimers({ toFake: ['Date'] });
    clockAt(0);
    // Every agent runs elsewhere: these hosts' statuses change only through liveness.
    fleet.commit({
      'fleet.yaml': 'fleet: stale\nhosts: [hosta, hostb, elsewhere]\nreconcile:\n  schedule: "*/2 * * * * *"\n',
      'rosters/team.yaml': roster(fleet.socket, '  - name: alpha\n    runtime: stub\n    host: elsewhere\n'),
    });
    for (const host of ['hostb', 'hosta']) {
      const r = await as(host, 'apply');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect(aliveRefs().trim().split('\n')).toEqual(['refs/gitfleet/alive/hosta', 'refs/gitfleet/alive/hostb']);
    expect(statusOf('hosta').staleReconcilers).toBeUndefined();

    // hostb stops. hosta runs on: no commit while hostb is within three intervals of its last run.
    const calm = fleet.headOf('main');
    clockAt(6);
    expect((await as('hosta', 'apply')).code).toBe(0);
    expect(fleet.headOf('main')).toBe(calm);

    // More than three intervals (6 s) after hostb's last run: hosta's next run says so, once.
    clockAt(7);
    expect((await as('hosta', 'apply')).code).toBe(0);
    const staleAt = fleet.headOf('main');
    expect(staleAt).not.toBe(calm);
    const listed = statusOf('hosta').staleReconcilers;
    expect(listed).toEqual([
      {
        host: 'hostb',
        tenant: expect.any(String),
        lastSeen: iso(0),
        staleSince: iso(6),
      },
    ]);
    expect(fleet.show('main:status/hosta.md')).toMatch(/### Stale reconcilers\n\n- \*\*hostb\*\* \(tenant .*\): last/);
    const ps = await as('hosta', 'ps', '--all-hosts', '--json');
    expect(ps.code).toBe(0);
    const rows = JSON.parse(ps.stdout).reconcilers;
    expect(rows.map((r: { name: string; state: string }) => [r.name, r.state])).toEqual([
      ['hosta', 'alive'],
      ['hostb', 'stale'],
    ]);
    expect(rows[1]).toMatchObject({ lastSeen: listed[0].lastSeen, staleSince: listed[0].staleSince });
    const text = await as('hosta', 'ps', '--all-hosts');
    expect(text.stdout).toMatch(/^hostb\s+hostb\s+\S+\s+\S+Z\s+2s\s+STALE since /m);

    // Still stale, hosta runs again (its liveness ref moves): nothing to commit.
    clockAt(60);
    expect((await as('hosta', 'apply')).code).toBe(0);
    expect(fleet.headOf('main')).toBe(staleAt);
    const seenAt = sh('git', ['--git-dir', fleet.bare, 'log', '-1', '--format=%ct', 'refs/gitfleet/alive/hosta']);
    expect(Number(seenAt) * 1000).toBe(T0 + 60_000);

    // hostb comes back: hosta's next run clears it, once; then quiet again.
    clockAt(61);
    expect((await as('hostb', 'apply')).code).toBe(0);
    const back = fleet.headOf('main');
    expect((await as('hosta', 'apply')).code).toBe(0);
    expect(fleet.headOf('main')).not.toBe(back);
    expect(statusOf('hosta').staleReconcilers).toBeUndefined();
    expect(fleet.show('main:status/hosta.md')).not.toContain('Stale reconcilers');
    const cleared = fleet.headOf('main');
    clockAt(64);
    expect((await as('hosta', 'apply')).code).toBe(0);
    expect(fleet.headOf('main')).toBe(cleared);
    // The liveness refs are on no branch: main's history holds only the status commits of the transitions.
    expect(sh('git', ['--git-dir', fleet.bare, 'branch', '--contains', 'refs/gitfleet/alive/hosta']).trim()).toBe('');
    sh('git', ['--git-dir', fleet.bare, 'fsck', '--strict']);
  });
});
