// The tmux applier against a real server on a private socket.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyActions } from '../../src/apply/apply.js';
import { redactedCommands } from '../../src/apply/tmux.js';
import type { DesiredState } from '../../src/desired/types.js';
import type { Action } from '../../src/plan/types.js';
import { tmuxArgv } from '../../src/tmux/client.js';
import { sh, tmux, usePrivateTmux } from '../helpers/fleet.js';
import { desired, spec } from '../unit/builders.js';

usePrivateTmux();
const socket = `gitfleet-test-apply-${process.pid}`;
const shared = socket;
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

// Cold start: the command lists of a phase's actions on one socket run in one tmux process (apply/tmux.ts).
describe('tmux applier batches a phase per socket', () => {
  const dirs: string[] = [];
  let savedPath: string | undefined;
  // A socket of its own per test: a server ended by the last test's kill-server may still be going away.
  let socket = '';
  let n = 0;
  beforeEach(() => {
    socket = `${shared}-${++n}`;
  });
  afterEach(() => {
    tmux(socket, 'kill-server');
    if (savedPath !== undefined) process.env.PATH = savedPath;
    savedPath = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A `tmux` first on PATH that logs each start, then runs the real one: how many processes apply started. */
  function countTmux(): () => number {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-count-'));
    dirs.push(dir);
    const real = sh('sh', ['-c', 'command -v tmux']).trim();
    const log = path.join(dir, 'starts');
    writeFileSync(log, '');
    writeFileSync(path.join(dir, 'tmux'), `#!/bin/sh\necho started >>'${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    savedPath = process.env.PATH;
    process.env.PATH = `${dir}:${savedPath}`;
    return () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  }

  function fleetOf(names: string[], env: Record<string, string> = {}) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-cold-'));
    dirs.push(dir);
    const d = desired(
      names.map((name) => ({ name, working_directory: path.join(dir, 'cwd', name), env })),
      { socket },
    );
    for (const a of d.rosters.flatMap((r) => r.agents)) a.argv = ['sleep', 'infinity'];
    const actions: Action[] = names.map((name) => ({
      kind: 'create_session',
      target: `${socket}/${name}`,
      reason: 'missing',
      apply: { socket, session: name, role: 'agent' },
      detail: {},
    }));
    return { d, actions, ctx: { ...ctx, stateDir: path.join(dir, 'state') } };
  }

  const sessions = () =>
    tmux(socket, 'list-sessions', '-F', '#{session_name} #{@gitfleet-fleet}').out.split('\n').filter(Boolean).sort();

  it('creates N sessions in one tmux process, with one result, start and command per action', async () => {
    const names = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'];
    const { d, actions, ctx: c } = fleetOf(names);
    const seen: string[] = [];
    const count = countTmux();
    const results = await applyActions(actions, d, {
      ...c,
      onStart: async (a) => void seen.push(`start ${a.apply.session}`),
      onResult: async (r) => void seen.push(`result ${r.action.apply.session}`),
    });
    expect(count()).toBe(1);
    expect(results.map((r) => [r.action.apply.session, r.ok, r.error])).toEqual(names.map((n) => [n, true, null]));
    expect(seen).toEqual([...names.map((n) => `start ${n}`), ...names.map((n) => `result ${n}`)]);
    for (const [i, r] of results.entries()) {
      // The action's own command list, as when it ran alone: no other action's, no batch marker.
      const agent = spec(d, names[i]!, socket);
      expect(r.command).toEqual(tmuxArgv(socket, redactedCommands(actions[i]!, agent, c)));
      expect(r.command.join(' ')).not.toMatch(/list-commands|gitfleet-batch/);
    }
    expect(sessions()).toEqual(names.map((n) => `${n} f`));
  });

  it('a failing action in a batch is the one failed result; the others are created once', async () => {
    const names = ['b0', 'b1', 'b2', 'b3', 'b4'];
    const { d, actions, ctx: c } = fleetOf(names);
    // b2's name is taken by a session nobody manages: its new-session fails, and ends the batch there.
    expect(tmux(socket, 'new-session', '-d', '-s', 'b2', 'cat')).toMatchObject({ code: 0 });
    const count = countTmux();
    const results = await applyActions(actions, d, c);
    expect(results.map((r) => [r.action.apply.session, r.ok])).toEqual(names.map((n) => [n, n !== 'b2']));
    expect(results[2]!.error).toMatch(/duplicate session: b2/);
    expect(results.filter((r) => r.error !== null)).toHaveLength(1);
    // The batch up to b2, then the rest in a second one: b0 and b1 were not run again.
    expect(count()).toBe(2);
    expect(sessions()).toEqual(['b0 f', 'b1 f', 'b2 ', 'b3 f', 'b4 f']);
  });

  it('cuts a batch larger than a tmux message (16 KiB) into several processes', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const { d, actions, ctx: c } = fleetOf(names, { BIG: 'x'.repeat(1500) });
    const count = countTmux();
    const results = await applyActions(actions, d, c);
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
    expect(count()).toBeGreaterThan(1);
    expect(count()).toBeLessThan(names.length);
    expect(sessions()).toHaveLength(names.length);
  });
});
