import { describe, expect, it } from 'vitest';
import { ACTION_KIND_TABLE, ACTION_KINDS, actionKind } from '../../src/plan/action-kinds.js';
import { nextBackoff, respawnDecision, STABLE_AFTER_MS } from '../../src/plan/crash-loop.js';

const kinds = (pick: (k: (typeof ACTION_KINDS)[number]) => boolean) => ACTION_KINDS.filter(pick).sort();

describe('the action-kind table', () => {
  it('derives the lists apply, reconcile, status and the unit planner read', () => {
    expect(kinds((k) => actionKind(k).starts)).toEqual(
      ['create_session', 'respawn_pane', 'restart_session', 'restart_unit', 'start_unit'].sort(),
    );
    expect(kinds((k) => actionKind(k).applier === 'tmux')).toEqual(
      ['create_session', 'delete_session', 'respawn_pane', 'restart_session'].sort(),
    );
    expect(kinds((k) => actionKind(k).lifecycle)).toEqual([
      'create_session',
      'delete_session',
      'respawn_pane',
      'restart_session',
      'restart_unit',
      'start_unit',
      'stop_unit',
    ]);
    expect(kinds((k) => actionKind(k).supervised)).toEqual(['create_session', 'delete_session', 'restart_session']);
  });

  it('keeps apply order: stops and deletes first, starts last, respawns at the end', () => {
    expect(ACTION_KINDS[0]).toBe('delete_session');
    expect(ACTION_KINDS.indexOf('install_unit')).toBeLessThan(ACTION_KINDS.indexOf('reload_units'));
    expect(ACTION_KINDS.indexOf('reload_units')).toBeLessThan(ACTION_KINDS.indexOf('start_unit'));
    expect(ACTION_KINDS.at(-1)).toBe('respawn_pane');
    expect(Object.keys(ACTION_KIND_TABLE)).toEqual(ACTION_KINDS);
  });
});

describe('the crash-loop streak planner and status share', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  const policy = { baseSeconds: 10, maxSeconds: 300 };

  it('a respawn recorded by status is what the planner waits on', () => {
    const after1 = nextBackoff(
      { restarts: 0, backoff: null },
      { kind: 'respawn_pane', reason: 'pane_dead' },
      false,
      t0,
    );
    expect(after1).toEqual({ restarts: 1, backoff: { streak: 1, lastRestart: t0.toISOString() } });
    expect(respawnDecision(after1.backoff, at(9), policy)).toEqual({ streak: 1, notBefore: at(10).toISOString() });
    expect(respawnDecision(after1.backoff, at(10), policy)).toEqual({ streak: 1 });
    const after2 = nextBackoff(after1, { kind: 'respawn_pane', reason: 'pane_dead' }, false, at(10));
    expect(respawnDecision(after2.backoff, at(29), policy).notBefore).toBe(at(30).toISOString());
  });

  it('a new spec starts afresh; a stable pane ends the streak but keeps the count', () => {
    const looping = { restarts: 3, backoff: { streak: 3, lastRestart: t0.toISOString() } };
    expect(nextBackoff(looping, { kind: 'restart_session', reason: 'spec_changed' }, true, at(1))).toEqual({
      restarts: 0,
      backoff: null,
    });
    expect(nextBackoff(looping, undefined, true, at(STABLE_AFTER_MS / 1000 - 1)).backoff).not.toBeNull();
    expect(nextBackoff(looping, undefined, true, at(STABLE_AFTER_MS / 1000))).toEqual({ restarts: 3, backoff: null });
    expect(nextBackoff(looping, undefined, false, at(STABLE_AFTER_MS / 1000)).backoff).not.toBeNull();
  });

  it('a unit started over a running session adopts it: no restart counted', () => {
    const prev = { restarts: 2, backoff: null };
    expect(nextBackoff(prev, { kind: 'start_unit', reason: 'unit_inactive' }, true, t0).restarts).toBe(2);
    expect(nextBackoff(prev, { kind: 'create_session', reason: 'missing' }, true, t0).restarts).toBe(3);
    expect(nextBackoff(undefined, { kind: 'create_session', reason: 'missing' }, true, t0).restarts).toBe(0);
  });
});
