// The planner: a pure function of desired state, observed tmux state, the
// last status and a context. Tested with in-memory builders only.
import { describe, expect, it } from 'vitest';
import type { AgentSpec } from '../../src/desired/types.js';
import { commandsFor } from '../../src/apply/tmux.js';
import { agentsInScope, socketsToObserve } from '../../src/plan/scope.js';
import { backoffDelaySeconds, DEFAULT_BACKOFF } from '../../src/plan/crash-loop.js';
import { plan } from '../../src/plan/plan.js';
import type { Action, Plan } from '../../src/plan/types.js';
import type { AgentRecord, SocketRecord, StatusDoc } from '../../src/status/types.js';
import {
  agentRecord,
  at,
  dead,
  desired,
  desiredFrom,
  failedSocket,
  FLEET,
  holder,
  HOST,
  NOW,
  observed,
  pane,
  context,
  planInput,
  previousStatus,
  rosterYaml,
  running,
  SOCKET,
  socket,
  socketRecord,
  spec,
  TENANT,
} from './builders.js';

// ---- helpers ------------------------------------------------------------------

/** tmux mode never plans unit work. */
const NO_UNIT_ACTIONS = {
  stop_unit: 0,
  install_unit: 0,
  reload_units: 0,
  enable_unit: 0,
  restart_unit: 0,
  start_unit: 0,
};

/** Actions as `kind target reason`, the way a person reads a plan. */
const lines = (xs: Action[]): string[] => xs.map((a) => `${a.kind} ${a.target} ${a.reason}`);

/** A previous status (tmux mode) holding the given agent records and sockets. */
const previous = (agents: AgentRecord[], sockets: SocketRecord[] = []): StatusDoc =>
  previousStatus(agents, sockets, {
    supervisor: { mode: 'tmux', reason: 'test', observed: true, error: null, linger: null, lingerFix: null },
  });

/** The status record a previous run wrote for `a`, with its crash streak. */
const record = (a: AgentSpec, backoff: AgentRecord['backoff'] = null, restarts = 0): AgentRecord =>
  agentRecord(a, { backoff, restarts });

/** The roster-level settings every test can read at a glance. */
const BAD_ROSTER = 'version: 2\nagents: []\n';

// ---- converge ---------------------------------------------------------------------

describe('plan: converge from empty', () => {
  const d = desired(['zed', 'alpha', 'mid']);

  it('creates the holder first, then every agent, sorted by target', () => {
    const p = plan(planInput(d, observed(socket(SOCKET, [])), null), context());
    expect(lines(p.actions)).toEqual([
      'create_session mosaic-factory/_holder holder_missing',
      'create_session mosaic-factory/alpha missing',
      'create_session mosaic-factory/mid missing',
      'create_session mosaic-factory/zed missing',
    ]);
    expect(p.deferred).toEqual([]);
    expect(p.unobserved).toEqual([]);
    expect(p.summary).toEqual({
      ...NO_UNIT_ACTIONS,
      delete_session: 0,
      restart_session: 0,
      create_session: 4,
      respawn_pane: 0,
      deferred: 0,
    });
  });

  it('says what each create will run, and never the env values', () => {
    const d2 = desired([{ name: 'a', working_directory: '~/w', env: { TOKEN: 'secret', MODE: 'x' } }]);
    const a = spec(d2, 'a');
    const p = plan(planInput(d2, observed(socket(SOCKET, [holder()])), null), context());
    expect(p.actions).toEqual([
      {
        kind: 'create_session',
        target: 'mosaic-factory/a',
        reason: 'missing',
        apply: { socket: SOCKET, session: 'a', role: 'agent' },
        detail: {
          agent: 'a',
          specHash: a.specHash,
          argv: ['claude', '--yolo'],
          cwd: '/home/op/w',
          envKeys: ['MODE', 'TOKEN'],
        },
      },
    ]);
    expect(JSON.stringify(p)).not.toContain('secret');
  });

  it('carries the fleet, host, revision and errors', () => {
    const p = plan(planInput(d, observed(socket(SOCKET, [])), null), context({ desiredRevision: 'abc123' }));
    expect(p).toMatchObject({ formatVersion: 1, fleet: FLEET, host: HOST, desiredRevision: 'abc123', errors: [] });
  });

  it('uses the tmux session name for agents with a dot (a.b runs as a_b)', () => {
    const d2 = desired(['a.b']);
    const p = plan(planInput(d2, observed(socket(SOCKET, [holder()])), null), context());
    expect(p.actions.map((a) => [a.target, a.detail.agent])).toEqual([['mosaic-factory/a_b', 'a.b']]);
  });

  it('creates only the missing agents and leaves the holder alone when it runs', () => {
    const p = plan(planInput(d, observed(socket(SOCKET, [holder(), running(spec(d, 'alpha'))])), null), context());
    expect(lines(p.actions)).toEqual([
      'create_session mosaic-factory/mid missing',
      'create_session mosaic-factory/zed missing',
    ]);
  });

  it('plans each socket of a multi-socket fleet', () => {
    const d2 = desiredFrom({
      'rosters/a.yaml': rosterYaml(['a'], { socket: 's1' }),
      'rosters/b.yaml': rosterYaml(['b'], { socket: 's2', holder: 'keep' }),
    });
    const p = plan(planInput(d2, observed(socket('s1', []), socket('s2', [])), null), context());
    expect(lines(p.actions)).toEqual([
      'create_session s1/_holder holder_missing',
      'create_session s2/keep holder_missing',
      'create_session s1/a missing',
      'create_session s2/b missing',
    ]);
  });
});

describe('plan: no-op', () => {
  it('plans nothing when every agent runs its spec and the holder is up', () => {
    const d = desired(['a', 'b', { name: 'c', update: 'manual' }]);
    const obs = observed(
      socket(SOCKET, [holder(), running(spec(d, 'a')), running(spec(d, 'b')), running(spec(d, 'c'))]),
    );
    const p = plan(planInput(d, obs, null), context());
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
    expect(p.unobserved).toEqual([]);
    expect(p.summary).toEqual({
      ...NO_UNIT_ACTIONS,
      delete_session: 0,
      restart_session: 0,
      create_session: 0,
      respawn_pane: 0,
      deferred: 0,
    });
  });

  it('does not create a holder for a socket whose agents are all disabled', () => {
    const d = desired([{ name: 'a', enabled: false }]);
    const p = plan(planInput(d, observed(socket(SOCKET, [])), null), context());
    expect(p.actions).toEqual([]);
  });
});

// ---- prune ---------------------------------------------------------------------------

describe('plan: prune', () => {
  it('deletes a tagged session not in the roster; unmanaged sessions survive', () => {
    const d = desired(['a']);
    const obs = observed(
      socket(SOCKET, [
        holder(),
        running(spec(d, 'a')),
        pane('old', { fleet: FLEET, agent: 'old', role: 'agent', spec: 'deadbeef' }),
        pane('mine'), // started by hand: no tag
      ]),
    );
    const p = plan(planInput(d, obs, null), context());
    expect(p.actions).toEqual([
      {
        kind: 'delete_session',
        target: 'mosaic-factory/old',
        reason: 'not_in_roster',
        apply: { socket: SOCKET, session: 'old', role: 'agent' },
        detail: { agent: 'old' },
      },
    ]);
    expect(p.deferred).toEqual([]);
  });

  it('enabled: false deletes the running session and creates nothing', () => {
    const d = desired(['a', { name: 'b', enabled: false }, { name: 'c', enabled: false }]);
    const obs = observed(socket(SOCKET, [holder(), running(spec(d, 'a')), running(spec(d, 'b'))]));
    const p = plan(planInput(d, obs, null), context());
    expect(lines(p.actions)).toEqual(['delete_session mosaic-factory/b disabled']);
  });

  it('any desired problem defers every prune with prune_blocked_by_invalid_files, but still creates', () => {
    const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a', 'new']), 'rosters/broken.yaml': BAD_ROSTER });
    expect(d.problems.length).toBeGreaterThan(0);
    const obs = observed(
      socket(SOCKET, [holder(), running(spec(d, 'a')), pane('gone', { fleet: FLEET, role: 'agent' })]),
    );
    const p = plan(planInput(d, obs, null), context());
    expect(lines(p.actions)).toEqual(['create_session mosaic-factory/new missing']);
    expect(lines(p.deferred)).toEqual(['delete_session mosaic-factory/gone prune_blocked_by_invalid_files']);
    expect(p.summary.deferred).toBe(1);
    expect(p.summary.delete_session).toBe(0);
    expect(p.errors).toEqual(d.problems);
  });

  it('an invalid file also keeps a socket that lost every agent (holder and agents stay)', () => {
    const d = desiredFrom({ 'rosters/broken.yaml': BAD_ROSTER });
    const obs = observed(socket(SOCKET, [holder(), pane('x', { fleet: FLEET, role: 'agent' })]));
    const p = plan(planInput(d, obs, previous([], [socketRecord(SOCKET)])), context());
    expect(p.actions).toEqual([]);
    expect(lines(p.deferred)).toEqual([
      'delete_session mosaic-factory/x prune_blocked_by_invalid_files',
      'delete_session mosaic-factory/_holder prune_blocked_by_invalid_files',
    ]);
  });

  it('a disabled agent is still stopped while another file is invalid (declared, not pruned)', () => {
    const d = desiredFrom({
      'rosters/a.yaml': rosterYaml([{ name: 'off', enabled: false }, 'on']),
      'rosters/broken.yaml': BAD_ROSTER,
    });
    const obs = observed(socket(SOCKET, [holder(), running(spec(d, 'on')), running(spec(d, 'off'))]));
    const p = plan(planInput(d, obs, null), context());
    expect(lines(p.actions)).toEqual(['delete_session mosaic-factory/off disabled']);
  });

  it('reconcile.prune: false defers prunes with prune_disabled', () => {
    const d = desired(['a'], {}, 'reconcile: {prune: false}\n');
    const obs = observed(
      socket(SOCKET, [holder(), running(spec(d, 'a')), pane('gone', { fleet: FLEET, role: 'agent' })]),
    );
    const p = plan(planInput(d, obs, null), context());
    expect(p.actions).toEqual([]);
    expect(lines(p.deferred)).toEqual(['delete_session mosaic-factory/gone prune_disabled']);
  });

  it('deletes the holder when no agents remain on a socket, after the agent deletes', () => {
    // s2 was managed at the last run; every roster has left it.
    const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a'], { socket: 's1' }) });
    const obs = observed(
      socket('s1', [holder(), running(spec(d, 'a')), pane('s1-old', { fleet: FLEET, role: 'agent' })]),
      socket('s2', [
        holder('_holder'),
        pane('b', { fleet: FLEET, role: 'agent', agent: 'b' }),
        pane('c', { fleet: FLEET, role: 'agent' }),
      ]),
    );
    const p = plan(
      planInput(d, obs, previous([], [socketRecord('s1'), socketRecord('s2')])),
      context({ pruneConfirmed: true }),
    );
    expect(lines(p.actions)).toEqual([
      'delete_session s1/s1-old not_in_roster',
      'delete_session s2/b not_in_roster',
      'delete_session s2/c not_in_roster',
      'delete_session s2/_holder not_in_roster',
    ]);
    expect(p.actions.at(-1)!.apply.role).toBe('holder');
  });

  it('deletes the holder when every agent of the socket is disabled', () => {
    const d = desired([{ name: 'a', enabled: false }]);
    const obs = observed(socket(SOCKET, [holder(), running(spec(d, 'a'))]));
    const p = plan(planInput(d, obs, null), context());
    expect(lines(p.actions)).toEqual([
      'delete_session mosaic-factory/a disabled',
      'delete_session mosaic-factory/_holder not_in_roster',
    ]);
  });

  it('keeps the holder while any agent is wanted, even with a holder tag on an old name', () => {
    const d = desired(['a'], { holder: 'new-holder' });
    const obs = observed(socket(SOCKET, [holder('new-holder'), holder('_holder'), running(spec(d, 'a'))]));
    expect(plan(planInput(d, obs, null), context()).actions).toEqual([]);
  });

  it('holder deletes come after agent deletes but before restarts and creates', () => {
    const d = desiredFrom({
      'rosters/a.yaml': rosterYaml(['a', 'fresh', { name: 'r', update: 'recreate' }], { socket: 's1' }),
    });
    const obs = observed(
      socket('s1', [holder(), running(spec(d, 'a')), running(spec(d, 'r'), { spec: 'old-spec' })]),
      socket('s2', [holder(), pane('z', { fleet: FLEET, role: 'agent' })]),
    );
    const p = plan(planInput(d, obs, previous([], [socketRecord('s2')])), context({ pruneConfirmed: true }));
    expect(lines(p.actions)).toEqual([
      'delete_session s2/z not_in_roster',
      'delete_session s2/_holder not_in_roster',
      'restart_session s1/r spec_changed',
      'create_session s1/fresh missing',
    ]);
  });
});

// ---- spec changes and dead panes -------------------------------------------------------

describe('plan: spec changes', () => {
  const d = desired([
    { name: 'rec', update: 'recreate' },
    { name: 'idle' }, // on-idle is the default
    { name: 'man', update: 'manual' },
  ]);
  const stale = (name: string, o = {}) => running(spec(d, name), { spec: 'old0000000000000', ...o });
  const p0 = () =>
    plan(planInput(d, observed(socket(SOCKET, [holder()])), null), context()).actions.find(
      (a) => a.target === 'mosaic-factory/rec',
    )!;

  it('recreate restarts at once; on-idle and manual are deferred with their reasons', () => {
    const p = plan(
      planInput(d, observed(socket(SOCKET, [holder(), stale('rec'), stale('idle'), stale('man')])), null),
      context(),
    );
    expect(p.actions).toEqual([
      {
        kind: 'restart_session',
        target: 'mosaic-factory/rec',
        reason: 'spec_changed',
        apply: { socket: SOCKET, session: 'rec', role: 'agent' },
        detail: {
          runningSpec: 'old0000000000000',
          agent: 'rec',
          specHash: spec(d, 'rec').specHash,
          argv: ['claude', '--yolo'],
          cwd: '/home/op',
          envKeys: [],
          // The pane's fields are the desired ones: they cannot say what the other hash stands for.
          changes: null,
        },
      },
    ]);
    expect(p.deferred).toEqual([
      {
        kind: 'restart_session',
        target: 'mosaic-factory/idle',
        reason: 'update_on_idle',
        apply: { socket: SOCKET, session: 'idle' },
        detail: {
          agent: 'idle',
          specHash: spec(d, 'idle').specHash,
          runningSpec: 'old0000000000000',
          changes: null,
          waiting: 'no pane activity time from tmux',
        },
      },
      {
        kind: 'restart_session',
        target: 'mosaic-factory/man',
        reason: 'update_manual',
        apply: { socket: SOCKET, session: 'man' },
        detail: { agent: 'man', specHash: spec(d, 'man').specHash, runningSpec: 'old0000000000000', changes: null },
      },
    ]);
    expect(p.summary).toMatchObject({ restart_session: 1, deferred: 2 });
  });

  it('a changed env value is named in the detail, old → new, and a secret one masked', () => {
    const entry = (mood: string, token: string) => ({
      name: 'rec',
      update: 'recreate',
      env: { MOOD: mood, API_TOKEN: token, KEEP: 'same' },
    });
    const before = spec(desired([entry('calm', 'tok-old-1')]), 'rec');
    const after = desired([entry('stormy', 'tok-new-2')]);
    const p = plan(planInput(after, observed(socket(SOCKET, [holder(), running(before)])), null), context());
    expect(p.actions.map((a) => [a.kind, a.reason, a.detail.changes])).toEqual([
      [
        'restart_session',
        'spec_changed',
        [
          { field: 'env.API_TOKEN', old: { masked: true }, new: { masked: true } },
          { field: 'env.MOOD', old: 'calm', new: 'stormy' },
        ],
      ],
    ]);
    expect(JSON.stringify(p)).not.toMatch(/tok-(old|new)/);
  });

  it('a session started without kept fields says its changes are unknown (null), deferred or not', () => {
    const before = spec(desired([{ name: 'man', update: 'manual', env: { MOOD: 'calm' } }]), 'man');
    const after = desired([{ name: 'man', update: 'manual', env: { MOOD: 'stormy' } }]);
    const old = running(before, { specFields: null });
    const p = plan(planInput(after, observed(socket(SOCKET, [holder(), old])), null), context());
    expect(p.deferred.map((a) => [a.reason, a.detail.changes])).toEqual([['update_manual', null]]);
    const kept = plan(planInput(after, observed(socket(SOCKET, [holder(), running(before)])), null), context());
    expect(kept.deferred.map((a) => a.detail.changes)).toEqual([[{ field: 'env.MOOD', old: 'calm', new: 'stormy' }]]);
  });

  it('on-idle restarts once the pane has been quiet for idle_after, never while output is recent', () => {
    const now = Math.floor(NOW.getTime() / 1000);
    const others = [running(spec(d, 'rec')), running(spec(d, 'man'))];
    const quiet = plan(
      planInput(d, observed(socket(SOCKET, [holder(), ...others, stale('idle', { activity: now - 120 })])), null),
      context(),
    );
    expect(lines(quiet.actions)).toEqual(['restart_session mosaic-factory/idle spec_changed']);
    expect(quiet.actions[0]!.detail.idle).toBe('idle: no pane output for 120 s');
    const busy = plan(
      planInput(d, observed(socket(SOCKET, [holder(), ...others, stale('idle', { activity: now - 119 })])), null),
      context(),
    );
    expect(busy.actions).toEqual([]);
    expect(busy.deferred.map((a) => [a.reason, a.detail.waiting])).toEqual([
      ['update_on_idle', 'pane output 119 s ago (idle after 120 s)'],
    ]);
  });

  describe('with heartbeats, on-idle also needs a healthy heartbeat that says ok', () => {
    const hd = desiredFrom({
      'rosters/agents.yaml': [
        'version: 1',
        `tmux: {socket_name: ${SOCKET}}`,
        'runtimes:',
        '  stub: {command: stub, heartbeat: 5, idle_after: 30}',
        'agents:',
        '  - {name: w, runtime: stub}',
      ].join('\n'),
    });
    const now = Math.floor(NOW.getTime() / 1000);
    const panes = observed(
      socket(SOCKET, [holder(), running(spec(hd, 'w'), { spec: 'old0000000000000', activity: now - 600 })]),
    );
    const beat = (health: 'healthy' | 'stale' | 'unknown', status: 'ok' | 'busy' | null) =>
      new Map([[`${SOCKET}/w`, { health, status, ageSeconds: 1, pid: 1, error: null }]]);
    it.each([
      ['busy', beat('healthy', 'busy'), 'busy (heartbeat)'],
      ['stale', beat('stale', 'ok'), 'heartbeat stale: cannot tell whether it is working'],
      ['absent', new Map(), 'heartbeat unknown: cannot tell whether it is working'],
    ] as const)('%s: waits', (_what, beats, why) => {
      const p = plan(planInput(hd, panes, null, { heartbeats: beats }), context());
      expect(p.actions).toEqual([]);
      expect(p.deferred.map((a) => [a.kind, a.reason, a.detail.waiting])).toEqual([
        ['restart_session', 'update_on_idle', why],
      ]);
    });
    it('healthy and ok, quiet pane: restarts now', () => {
      const p = plan(planInput(hd, panes, null, { heartbeats: beat('healthy', 'ok') }), context());
      expect(p.actions.map((a) => [a.kind, a.reason, a.detail.idle])).toEqual([
        ['restart_session', 'spec_changed', 'idle: no pane output for 600 s, heartbeat ok'],
      ]);
    });
  });

  it('a restart or delete also ends the watch views of that session (they share its windows)', () => {
    const view = pane('_watch-rec-1', { watchOf: 'rec', currentCommand: 'claude' });
    const p = plan(
      planInput(
        d,
        observed(socket(SOCKET, [holder(), stale('rec'), running(spec(d, 'idle')), running(spec(d, 'man')), view])),
        null,
      ),
      context(),
    );
    const restart = p.actions.find((a) => a.target === 'mosaic-factory/rec')!;
    expect(restart.apply.watchers).toEqual(['_watch-rec-1']);
    expect(
      commandsFor(restart, spec(d, 'rec'), { fleet: FLEET, path: '/bin', stateDir: '/state' }).slice(0, 2),
    ).toEqual([
      ['kill-session', '-t', '=_watch-rec-1'],
      ['kill-session', '-t', '=rec'],
    ]);
    // A watch view is never pruned itself, nor listed among the actions.
    expect(p.actions.map((a) => a.target)).toEqual(['mosaic-factory/rec']);
  });

  it('the pane log command survives tmux expanding formats and strftime: # and % are doubled', () => {
    const cmds = commandsFor(p0(), spec(d, 'rec'), { fleet: FLEET, path: '/bin', stateDir: "/st/100%/#{x}/it's" });
    const pipe = cmds.find((c) => c[0] === 'pipe-pane')!;
    expect(pipe).toEqual([
      'pipe-pane',
      '-o',
      '-t',
      '=rec:',
      "exec cat >> '/st/100%%/##{x}/it'\\''s/logs/lab/mosaic-factory/rec.log'",
    ]);
  });

  it('a dead pane with a changed spec is restarted whatever the update policy', () => {
    const panes = [
      holder(),
      stale('rec', { dead: true, deadStatus: 1 }),
      stale('idle', { dead: true, deadStatus: 1 }),
      stale('man', { dead: true, deadStatus: 127 }),
    ];
    const p = plan(planInput(d, observed(socket(SOCKET, panes)), null), context());
    expect(lines(p.actions)).toEqual([
      'restart_session mosaic-factory/idle spec_changed',
      'restart_session mosaic-factory/man spec_changed',
      'restart_session mosaic-factory/rec spec_changed',
    ]);
    expect(p.deferred).toEqual([]);
  });

  it('a dead pane with a changed spec is restarted even inside a crash-loop backoff', () => {
    const idle = spec(d, 'idle');
    const prev = previous([record(idle, { streak: 5, lastRestart: at(-1).toISOString() })]);
    const p = plan(
      planInput(
        d,
        observed(
          socket(SOCKET, [holder(), running(spec(d, 'rec')), running(spec(d, 'man')), stale('idle', { dead: true })]),
        ),
        prev,
      ),
      context(),
    );
    expect(lines(p.actions)).toEqual(['restart_session mosaic-factory/idle spec_changed']);
  });
});

describe('plan: dead panes and crash-loop backoff', () => {
  const d = desired(['a']);
  const a = spec(d, 'a');
  const deadObs = () => observed(socket(SOCKET, [holder(), dead(a, 3)]));

  it('respawns a dead pane', () => {
    const p = plan(planInput(d, deadObs(), null), context());
    expect(p.actions).toEqual([
      {
        kind: 'respawn_pane',
        target: 'mosaic-factory/a',
        reason: 'pane_dead',
        apply: { socket: SOCKET, session: 'a' },
        detail: { agent: 'a', exitStatus: 3, streak: 0 },
      },
    ]);
  });

  it('with streak 3 and the last restart 10 s ago, waits until lastRestart + 40 s', () => {
    const last = at(-10);
    const prev = previous([record(a, { streak: 3, lastRestart: last.toISOString() })]);
    const p = plan(planInput(d, deadObs(), prev), context());
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([
      {
        kind: 'respawn_pane',
        target: 'mosaic-factory/a',
        reason: 'crash_loop_backoff',
        apply: { socket: SOCKET, session: 'a' },
        detail: { agent: 'a', exitStatus: 3, streak: 3, notBefore: at(40, last).toISOString() },
      },
    ]);
    expect(p.deferred[0]!.detail.notBefore).toBe('2026-03-01T12:00:30.000Z');
  });

  it('respawns once the backoff has passed', () => {
    const last = at(-10);
    const prev = previous([record(a, { streak: 3, lastRestart: last.toISOString() })]);
    expect(plan(planInput(d, deadObs(), prev), context({ now: at(39_999 / 1000, last) })).actions).toEqual([]);
    const p = plan(planInput(d, deadObs(), prev), context({ now: at(40, last) }));
    expect(lines(p.actions)).toEqual(['respawn_pane mosaic-factory/a pane_dead']);
    expect(p.actions[0]!.detail.streak).toBe(3);
    expect(p.deferred).toEqual([]);
  });

  it('ignores the backoff of another session or socket', () => {
    const other = { ...record(a, { streak: 9, lastRestart: NOW.toISOString() }), socket: 'elsewhere' };
    expect(lines(plan(planInput(d, deadObs(), previous([other])), context()).actions)).toEqual([
      'respawn_pane mosaic-factory/a pane_dead',
    ]);
  });

  it('backoff doubles from the base and is capped', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((s) => backoffDelaySeconds(s, DEFAULT_BACKOFF))).toEqual([
      0, 10, 20, 40, 80, 160, 300, 300,
    ]);
    expect(backoffDelaySeconds(3, { baseSeconds: 1, maxSeconds: 3 })).toBe(3);
  });

  it('a long streak waits at most maxSeconds', () => {
    const prev = previous([record(a, { streak: 30, lastRestart: NOW.toISOString() })]);
    expect(plan(planInput(d, deadObs(), prev), context()).deferred[0]!.detail.notBefore).toBe(at(300).toISOString());
  });
});

// ---- observation failures ------------------------------------------------------------

describe('plan: failed observation', () => {
  it('plans nothing on a socket whose observation failed and lists it as unobserved', () => {
    const d = desiredFrom({
      'rosters/a.yaml': rosterYaml(['a'], { socket: 's1' }),
      'rosters/b.yaml': rosterYaml(['b'], { socket: 's2' }),
    });
    const p = plan(
      planInput(d, observed(failedSocket('s1', 'tmux: permission denied'), socket('s2', [])), null),
      context(),
    );
    expect(p.unobserved).toEqual([{ socket: 's1', error: 'tmux: permission denied' }]);
    expect(p.actions.every((x) => x.apply.socket === 's2')).toBe(true);
    expect(lines(p.actions)).toEqual(['create_session s2/_holder holder_missing', 'create_session s2/b missing']);
  });

  it('a socket missing from the observations is unobserved, never read as empty', () => {
    const d = desired(['a']);
    const p = plan(planInput(d, observed(), previous([], [socketRecord('old-socket')])), context());
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
    expect(p.unobserved).toEqual([
      { socket: SOCKET, error: 'not observed' },
      { socket: 'old-socket', error: 'not observed' },
    ]);
  });
});

// ---- hosts, tenants, names ---------------------------------------------------------------

describe('plan: hosts and ownership', () => {
  it('does not create agents of another host, and deletes their tagged sessions here', () => {
    const d = desired(
      [
        { name: 'there', host: 'box2' },
        { name: 'mine', host: HOST },
      ],
      {},
      'hosts: [box1, box2]\n',
    );
    expect(d.problems).toEqual([]);
    const p = plan(
      planInput(d, observed(socket(SOCKET, [holder(), running(spec(d, 'there'))])), null),
      context({ pruneConfirmed: true }),
    );
    expect(lines(p.actions)).toEqual([
      'delete_session mosaic-factory/there not_on_this_host',
      'create_session mosaic-factory/mine missing',
    ]);
  });

  it('with every agent on another host, deletes the holder here too', () => {
    const d = desired([{ name: 'there', host: 'box2' }]);
    const p = plan(
      planInput(d, observed(socket(SOCKET, [holder(), running(spec(d, 'there'))])), null),
      context({ pruneConfirmed: true }),
    );
    expect(lines(p.actions)).toEqual([
      'delete_session mosaic-factory/there not_on_this_host',
      'delete_session mosaic-factory/_holder not_in_roster',
    ]);
  });

  it("leaves another tenant's agents alone on create", () => {
    const d = desired([{ name: 'alice', tenant: 'alice' }, { name: 'me', tenant: TENANT }, 'anyone']);
    const p = plan(planInput(d, observed(socket(SOCKET, [])), null), context());
    expect(lines(p.actions)).toEqual([
      'create_session mosaic-factory/_holder holder_missing',
      'create_session mosaic-factory/anyone missing',
      'create_session mosaic-factory/me missing',
    ]);
  });

  it('an agent name taken by an unmanaged session gets no action at all', () => {
    const d = desired(['a', 'b']);
    const obs = observed(socket(SOCKET, [holder(), running(spec(d, 'a')), pane('b', { currentCommand: 'vim' })]));
    const p = plan(planInput(d, obs, null), context());
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
  });

  it("an agent name taken by another fleet's session gets no action, even when dead", () => {
    const d = desired(['a']);
    const p = plan(
      planInput(d, observed(socket(SOCKET, [holder(), pane('a', { fleet: 'other', dead: true, spec: 'zzz' })])), null),
      context(),
    );
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
  });
});

describe('plan: tenants sharing one tmux server (#12)', () => {
  // Two tenants of one Unix user share TMUX_TMPDIR, so one server holds both tenants' sessions, all tagged with the
  // fleet: each reconciler must act only on those tagged with its own tenant (or untagged, from before the tag).
  const d = desired([
    { name: 'me', tenant: TENANT },
    { name: 'bob', tenant: 'bob' },
  ]);

  it("never prunes another tenant's session, nor its holder", () => {
    const obs = observed(
      socket(SOCKET, [
        holder('_holder', { tenant: 'bob' }),
        running(spec(d, 'me'), { tenant: TENANT }),
        running(spec(d, 'bob'), { tenant: 'bob' }),
      ]),
    );
    const p = plan(planInput(d, obs, null), context({ pruneConfirmed: true }));
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
  });

  it('keeps a holder this tenant started while only another tenant has agents there', () => {
    const only = desired([{ name: 'bob', tenant: 'bob' }]);
    const obs = observed(
      socket(SOCKET, [holder('_holder', { tenant: TENANT }), running(spec(only, 'bob'), { tenant: 'bob' })]),
    );
    const p = plan(planInput(only, obs, null), context({ pruneConfirmed: true }));
    expect(p.actions).toEqual([]);
  });

  it("never restarts or respawns another tenant's session that has this agent's name", () => {
    const me = spec(d, 'me');
    for (const other of [running(me, { spec: 'old', tenant: 'bob' }), dead(me, 1, { tenant: 'bob' })]) {
      const p = plan(planInput(d, observed(socket(SOCKET, [holder(), other])), null), context());
      expect(lines(p.actions)).toEqual([]);
      expect(p.deferred).toEqual([]);
    }
  });

  it('an untagged session (from before the tenant tag) counts as before: pruned, respawned', () => {
    const obs = observed(socket(SOCKET, [holder(), dead(spec(d, 'me')), running(spec(d, 'bob'))]));
    const p = plan(planInput(d, obs, null), context({ pruneConfirmed: true }));
    expect(lines(p.actions)).toEqual([
      'delete_session mosaic-factory/bob not_on_this_host',
      'respawn_pane mosaic-factory/me pane_dead',
    ]);
  });

  it('tags the sessions it creates, the holder too, with its tenant in the same tmux invocation', () => {
    const p = plan(planInput(d, observed(socket(SOCKET, [])), null), context());
    const ctx = { fleet: FLEET, path: '/bin', stateDir: '/state', tenant: TENANT };
    for (const a of p.actions) {
      const cmds = commandsFor(a, a.apply.role === 'agent' ? spec(d, 'me') : undefined, ctx);
      expect(cmds).toContainEqual(['set-option', '-t', `=${a.apply.session}:`, '@gitfleet-tenant', TENANT]);
    }
    expect(p.actions.length).toBe(2);
  });
});

describe('scope helpers', () => {
  it('agentsInScope keeps agents for this host and tenant, or for any', () => {
    const d = desired([
      'any',
      { name: 'h1', host: HOST },
      { name: 'h2', host: 'box2' },
      { name: 't1', tenant: TENANT },
      { name: 't2', tenant: 'alice' },
    ]);
    expect(agentsInScope(d, { host: HOST, tenant: TENANT }).map((a) => a.name)).toEqual(['any', 'h1', 't1']);
  });

  it('socketsToObserve: declared sockets and those managed at the last run, sorted, once each', () => {
    const d = desiredFrom({
      'rosters/a.yaml': rosterYaml(['a'], { socket: 'zz' }),
      'rosters/b.yaml': rosterYaml(['b'], { socket: 'aa' }),
    });
    expect(socketsToObserve(d, previous([], [socketRecord('mm'), socketRecord('zz')]))).toEqual(['aa', 'mm', 'zz']);
    expect(socketsToObserve(d, null)).toEqual(['aa', 'zz']);
  });
});

// ---- determinism -----------------------------------------------------------------------

describe('plan: deterministic output', () => {
  it('the same input in different Map insertion orders gives deep-equal plans', () => {
    const d = desiredFrom({
      'rosters/a.yaml': rosterYaml(
        ['a1', 'a2', { name: 'a3', update: 'recreate' }, { name: 'a4', enabled: false }, 'a5'],
        { socket: 's1' },
      ),
      'rosters/b.yaml': rosterYaml(['b1', 'b2', { name: 'b3', update: 'manual' }], { socket: 's2' }),
    });
    const s1 = [
      holder(),
      running(spec(d, 'a1')),
      dead(spec(d, 'a2')),
      running(spec(d, 'a3'), { spec: 'old' }),
      running(spec(d, 'a4')),
      pane('x-old', { fleet: FLEET, role: 'agent' }),
      pane('hand'),
    ];
    const s2 = [
      running(spec(d, 'b2')),
      running(spec(d, 'b3'), { spec: 'old' }),
      pane('y-old', { fleet: FLEET, role: 'agent' }),
    ];
    const s3 = [holder(), pane('z-old', { fleet: FLEET, role: 'agent' })];
    const prev = previous([], [socketRecord('s3')]);
    const forward = new Map([socket('s1', s1), socket('s2', s2), socket('s3', s3)]);
    const backward = new Map([
      socket('s3', [...s3].reverse()),
      socket('s2', [...s2].reverse()),
      socket('s1', [...s1].reverse()),
    ]);
    const reversedRosters = {
      ...d,
      rosters: [...d.rosters].reverse().map((r) => ({ ...r, agents: [...r.agents].reverse() })),
    };

    const p1 = plan(planInput(d, forward, prev), context({ pruneConfirmed: true }));
    const p2 = plan(planInput(d, backward, prev), context({ pruneConfirmed: true }));
    const p3 = plan(planInput(reversedRosters, backward, prev), context({ pruneConfirmed: true }));
    expect(p2).toEqual(p1);
    expect(p3).toEqual(p1);
    expect(JSON.stringify(p2)).toBe(JSON.stringify(p1));
    // And the plan is the one we expect, so equality is not of two empty plans.
    // Holders are created before anything else, deleted after their agents.
    expect(lines(p1.actions)).toEqual([
      'create_session s2/_holder holder_missing',
      'delete_session s1/a4 disabled',
      'delete_session s1/x-old not_in_roster',
      'delete_session s2/y-old not_in_roster',
      'delete_session s3/z-old not_in_roster',
      'delete_session s3/_holder not_in_roster',
      'restart_session s1/a3 spec_changed',
      'create_session s1/a5 missing',
      'create_session s2/b1 missing',
      'respawn_pane s1/a2 pane_dead',
    ]);
    expect(lines(p1.deferred)).toEqual(['restart_session s2/b3 update_manual']);
  });

  it('is serialisable data: a JSON round trip changes nothing', () => {
    const d = desired(['a', 'b']);
    const p: Plan = plan(planInput(d, observed(socket(SOCKET, [dead(spec(d, 'a'))])), null), context());
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});
