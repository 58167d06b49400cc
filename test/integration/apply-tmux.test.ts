// The tmux applier against a real server on a private socket.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyActions } from '../../src/apply/apply.js';
import { redactedCommands, runTmuxBatch } from '../../src/apply/tmux.js';
import type { DesiredState } from '../../src/desired/types.js';
import type { Action } from '../../src/plan/types.js';
import { isNoServer, tmuxArgv, type TmuxCommand } from '../../src/tmux/client.js';
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

// Cold start: the command lists of a phase's actions on one socket run in one tmux process (apply/tmux.ts),
// however many: a command file on stdin has no message size limit.
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

  it('a failing action in a batch is the one failed result; the others are created once, in one process', async () => {
    const names = ['b0', 'b1', 'b2', 'b3', 'b4'];
    const { d, actions, ctx: c } = fleetOf(names);
    // b2's name is taken by a session nobody manages: its new-session fails, and ends its own line only.
    expect(tmux(socket, 'new-session', '-d', '-s', 'b2', 'cat')).toMatchObject({ code: 0 });
    const count = countTmux();
    const results = await applyActions(actions, d, c);
    expect(results.map((r) => [r.action.apply.session, r.ok])).toEqual(names.map((n) => [n, n !== 'b2']));
    expect(results[2]!.error).toBe('duplicate session: b2');
    expect(results.filter((r) => r.error !== null)).toHaveLength(1);
    expect(count()).toBe(1);
    // b2's set-options after its failed new-session did not run: the session nobody manages keeps no fleet tag.
    expect(sessions()).toEqual(['b0 f', 'b1 f', 'b2 ', 'b3 f', 'b4 f']);
  });

  it('several failing actions each get their own error, in one process', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `e${String(i).padStart(2, '0')}`);
    const { d, actions, ctx: c } = fleetOf(names);
    for (const taken of ['e03', 'e17', 'e39'])
      expect(tmux(socket, 'new-session', '-d', '-s', taken, 'cat').code).toBe(0);
    const count = countTmux();
    const results = await applyActions(actions, d, c);
    expect(count()).toBe(1);
    expect(results.filter((r) => !r.ok).map((r) => [r.action.apply.session, r.error])).toEqual(
      ['e03', 'e17', 'e39'].map((n) => [n, `duplicate session: ${n}`]),
    );
    expect(sessions().filter((s) => s.endsWith(' f'))).toHaveLength(37);
  });

  it('creates a batch larger than a tmux message (16 KiB) in one process', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const { d, actions, ctx: c } = fleetOf(names, { BIG: 'x'.repeat(1500) });
    const count = countTmux();
    const results = await applyActions(actions, d, c);
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
    expect(count()).toBe(1);
    expect(sessions()).toHaveLength(names.length);
    const env = tmux(socket, 'show-environment', '-t', '=c23', 'BIG').out;
    expect(env).toBe(`BIG=${'x'.repeat(1500)}\n`);
  });

  it('the holder and its agents are one process, which starts the server; the holder comes first', async () => {
    const names = ['h0', 'h1'];
    const { d, actions, ctx: c } = fleetOf(names);
    const holder: Action = {
      kind: 'create_session',
      target: `${socket}/_holder`,
      reason: 'holder_missing',
      apply: { socket, session: '_holder', role: 'holder' },
      detail: {},
    };
    const count = countTmux();
    const results = await applyActions([holder, ...actions], d, c);
    expect(results.map((r) => [r.action.apply.session, r.ok, r.error])).toEqual([
      ['_holder', true, null],
      ...names.map((n) => [n, true, null]),
    ]);
    expect(count()).toBe(1);
    const created = tmux(socket, 'list-sessions', '-F', '#{session_created} #{session_id} #{session_name}').out;
    expect(
      created
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[2])
        .sort(),
    ).toEqual(['_holder', 'h0', 'h1']);
    // Session ids count up in the order sessions were made.
    const byId = created
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .sort((x, y) => Number(x[1]!.slice(1)) - Number(y[1]!.slice(1)));
    expect(byId.map((l) => l[2])).toEqual(['_holder', 'h0', 'h1']);
  });

  it('an argument tmux cannot hold (NUL) fails its own action; the others are created', async () => {
    const { d, actions, ctx: c } = fleetOf(['n0', 'n1', 'n2']);
    d.rosters[0]!.agents[1]!.env = { BAD: 'a\0b' };
    const results = await applyActions(actions, d, c);
    expect(results.map((r) => [r.action.apply.session, r.ok])).toEqual([
      ['n0', true],
      ['n1', false],
      ['n2', true],
    ]);
    expect(results[1]!.error).toMatch(/NUL/);
    expect(sessions()).toEqual(['n0 f', 'n2 f']);
  });
});

// The batch itself: what tmux's source-file does with a line that fails to run, or to parse.
describe('runTmuxBatch', () => {
  let socket = '';
  let n = 0;
  beforeEach(() => {
    socket = `${shared}-batch-${++n}`;
  });
  afterEach(() => tmux(socket, 'kill-server'));

  const opt = (i: number): TmuxCommand[] => [['set-option', '-g', `@v${i}`, `value ${i}`]];
  const value = (i: number) => tmux(socket, 'show-options', '-gqv', `@v${i}`).out;

  it('a command that fails skips the rest of its own list only', async () => {
    expect(tmux(socket, 'new-session', '-d', '-s', 'keep', 'cat').code).toBe(0);
    const lists = [opt(0), [['kill-session', '-t', '=gone'], ...opt(1)], opt(2)];
    expect(await runTmuxBatch(socket, lists)).toEqual([null, "can't find session: gone", null]);
    expect([0, 1, 2].map(value)).toEqual(['value 0\n', '', 'value 2\n']);
  });

  it('a list that does not parse runs nowhere and is named; the others run after it', async () => {
    expect(tmux(socket, 'new-session', '-d', '-s', 'keep', 'cat').code).toBe(0);
    const lists = [opt(0), [['no-such-command', 'x'], ...opt(1)], opt(2)];
    expect(await runTmuxBatch(socket, lists)).toEqual([null, 'unknown command: no-such-command', null]);
    expect([0, 1, 2].map(value)).toEqual(['value 0\n', '', 'value 2\n']);
  });

  it('without a new-session no server is started: each action says there is none', async () => {
    const errors = await runTmuxBatch(socket, [[['kill-session', '-t', '=a']], [['kill-session', '-t', '=b']]]);
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(isNoServer(e ?? '')).toBe(true);
  });
});
