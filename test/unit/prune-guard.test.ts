// Issue #8: a desired state that would delete every agent of a socket, or
// more than reconcile.max_prune, holds those deletes until confirmed; a
// socket another fleet uses is left alone entirely; fleets of one name are
// told apart by their id.
import { describe, expect, it } from 'vitest';
import { joinedRegExp } from '../helpers/regexp.js';
import { markForeign } from '../../src/fleet-identity.js';
import { plan } from '../../src/plan/plan.js';
import { pruneLimit } from '../../src/plan/prune-guard.js';
import type { Action } from '../../src/plan/types.js';
import { buildStatus } from '../../src/status/build.js';
import { renderStatusMarkdown } from '../../src/report/status-md.js';
import {
  desired,
  desiredFrom,
  FLEET,
  holder,
  observed,
  pane,
  context,
  planInput,
  running,
  SOCKET,
  socket,
  spec,
} from './builders.js';

const lines = (xs: Action[]) => xs.map((a) => `${a.kind} ${a.target} ${a.reason}`);
const tagged = (name: string) => pane(name, { fleet: FLEET, role: 'agent', agent: name, spec: 'x' });

describe('PruneHeld', () => {
  it('holds the deletes of every agent of a socket (an empty or unreadable desired state), holder included', () => {
    const d = desiredFrom({}); // no roster at all: what a moved rosters folder looks like
    const obs = observed(socket(SOCKET, [holder(), tagged('a'), tagged('b')]));
    const p = plan(planInput(d, obs, { formatVersion: 1, sockets: [{ name: SOCKET }] } as never), context());
    expect(p.actions).toEqual([]);
    expect(lines(p.deferred)).toEqual([
      'delete_session mosaic-factory/a prune_held',
      'delete_session mosaic-factory/b prune_held',
      'delete_session mosaic-factory/_holder prune_held',
    ]);
    expect(p.pruneHeld).toEqual([
      {
        socket: SOCKET,
        deletes: 2,
        running: 2,
        agents: ['a', 'b'],
        message: expect.stringMatching(
          joinedRegExp(
            /^2 of 2 agents on socket mosaic-factory would be deleted \(all of them\); /,
            /held until revision rev-1 is confirmed: gitfleet apply --confirm-prune rev-1/,
          ),
        ),
      },
    ]);
  });

  it('holds more than half by default, lets half through', () => {
    const d = desired(['a', 'b']);
    const four = observed(
      socket(SOCKET, [holder(), running(spec(d, 'a')), running(spec(d, 'b')), tagged('c'), tagged('d')]),
    );
    expect(lines(plan(planInput(d, four, null), context()).actions)).toEqual([
      'delete_session mosaic-factory/c not_in_roster',
      'delete_session mosaic-factory/d not_in_roster',
    ]);
    const d1 = desired(['a']);
    const p = plan(planInput(d1, four, null), context());
    expect(p.actions).toEqual([]);
    expect(p.pruneHeld[0]).toMatchObject({
      deletes: 3,
      running: 4,
      message: expect.stringContaining('more than reconcile.max_prune allows: 2'),
    });
  });

  it('a confirmed revision releases them', () => {
    const d = desired(['a']);
    const obs = observed(socket(SOCKET, [holder(), running(spec(d, 'a')), tagged('b'), tagged('c')]));
    const p = plan(planInput(d, obs, null), context({ pruneConfirmed: true }));
    expect(lines(p.actions)).toEqual([
      'delete_session mosaic-factory/b not_in_roster',
      'delete_session mosaic-factory/c not_in_roster',
    ]);
    expect(p.pruneHeld).toEqual([]);
  });

  it('reconcile.max_prune takes a count or a share', () => {
    expect(pruneLimit(10, { percent: 50 })).toBe(5);
    expect(pruneLimit(3, { percent: 50 })).toBe(1);
    expect(pruneLimit(10, { count: 3 })).toBe(3);
    const d = desired(['a'], {}, 'reconcile:\n  max_prune: 3\n');
    const obs = observed(socket(SOCKET, [holder(), running(spec(d, 'a')), tagged('b'), tagged('c'), tagged('d')]));
    expect(plan(planInput(d, obs, null), context()).actions).toHaveLength(3);
    const d2 = desired(['a'], {}, 'reconcile:\n  max_prune: "10%"\n');
    expect(plan(planInput(d2, obs, null), context()).pruneHeld).toHaveLength(1);
  });

  it('enabled: false is a decision about an agent, never held', () => {
    const d = desired([{ name: 'a', enabled: false }]);
    const p = plan(planInput(d, observed(socket(SOCKET, [holder(), running(spec(d, 'a'))])), null), context());
    expect(lines(p.actions)).toEqual([
      'delete_session mosaic-factory/a disabled',
      'delete_session mosaic-factory/_holder not_in_roster',
    ]);
  });

  it('status says what is held and how to confirm, and is not converged', () => {
    const d = desiredFrom({});
    const obs = observed(socket(SOCKET, [holder(), tagged('a')]));
    const prev = { formatVersion: 1, sockets: [{ name: SOCKET }], agents: [] } as never;
    const p = plan(planInput(d, obs, prev), context());
    const s = buildStatus(
      {
        desired: d,
        plan: p,
        observed: { tmux: obs, supervisor: { mode: 'tmux', reason: 'test' }, heartbeats: new Map() },
        results: [],
        previous: null,
      },
      context(),
    );
    expect(s.converged).toBe(false);
    expect(s.pruneHeld).toHaveLength(1);
    expect(renderStatusMarkdown(s)).toContain('## Deletes held (PruneHeld)');
    expect(renderStatusMarkdown(s)).toContain('gitfleet apply --confirm-prune rev-1');
  });
});

describe('one fleet per socket', () => {
  it('a socket where another fleet has sessions gets no action at all, and says why', () => {
    const d = desired(['a', 'b']);
    const obs = observed(
      socket(SOCKET, [
        pane('_holder', { fleet: 'other', role: 'holder' }),
        pane('x', { fleet: 'other', role: 'agent' }),
      ]),
    );
    const p = plan(planInput(d, obs, null), context());
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
    expect(p.unobserved).toEqual([
      {
        socket: SOCKET,
        error: expect.stringMatching(
          /^socket mosaic-factory is used by another fleet: other \(session "_holder"\); a socket belongs to one fleet/,
        ),
      },
    ]);
  });

  it('a fleet of the same name but another id is another fleet: its sessions are never ours', () => {
    const d = desired(['a']);
    const config = { ...d.config, id: 'aaaaaaaaaaaa' };
    const [, obs] = socket(SOCKET, [
      holder('_holder', { fleetId: 'bbbbbbbbbbbb' }),
      running(spec(d, 'a'), { fleetId: 'bbbbbbbbbbbb' }),
    ]);
    const marked = markForeign(obs, config);
    const p = plan(planInput({ ...d, config }, new Map([[SOCKET, marked]]), null), context());
    expect(p.actions).toEqual([]);
    expect(p.unobserved[0]!.error).toContain(`another fleet: ${FLEET}@bbbbbbbbbbbb`);
    // Our own id, or no id at all (sessions from before fleet ids), stays ours.
    const same = markForeign(
      socket(SOCKET, [holder('_holder', { fleetId: 'aaaaaaaaaaaa' }), running(spec(d, 'a'))])[1],
      config,
    );
    expect(plan(planInput({ ...d, config }, new Map([[SOCKET, same]]), null), context())).toMatchObject({
      actions: [],
      unobserved: [],
    });
  });
});
