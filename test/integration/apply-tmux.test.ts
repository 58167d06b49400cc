// The tmux applier against a real server on a private socket.
import { afterEach, describe, expect, it } from 'vitest';
import { applyActions } from '../../src/apply/apply.js';
import type { DesiredState } from '../../src/desired/types.js';
import type { Action } from '../../src/plan/types.js';
import { tmux, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();
const socket = `gitfleet-test-apply-${process.pid}`;
afterEach(() => tmux(socket, 'kill-server'));

const noDesired = { rosters: [] } as unknown as DesiredState;
const ctx = {
  fleet: 'f',
  path: '/usr/bin:/bin',
  stateDir: '/nonexistent-state',
  clock: () => new Date('2026-11-21T00:00:00Z'),
};

describe('tmux applier', () => {
  it('targets sessions exactly: deleting a vanished "alpha" never hits "alphabet"', async () => {
    expect(tmux(socket, 'new-session', '-d', '-s', 'alphabet', 'cat').code).toBe(0);
    const del: Action = {
      kind: 'delete_session',
      target: `${socket}/alpha`,
      reason: 'not_in_roster',
      apply: { socket, session: 'alpha' },
      detail: {},
    };
    const [res] = await applyActions([del], noDesired, ctx);
    expect(res!.ok).toBe(false);
    expect(res!.error).toMatch(/can't find session/);
    expect(res!.command).toEqual(['tmux', '-u', '-L', socket, 'kill-session', '-t', '=alpha']);
    expect(tmux(socket, 'has-session', '-t', '=alphabet').code).toBe(0);
  });
});
