// Status: built from desired, plan, observations and results, with the clock
// and the previous status as inputs. Times move only on a transition, so a
// converged fleet's status is byte-identical from run to run.
import { describe, expect, it } from 'vitest';
import type { ActionResult } from '../../src/apply/types.js';
import type { DesiredState } from '../../src/desired/types.js';
import type { HeartbeatJudgement } from '../../src/heartbeat/protocol.js';
import type { PaneInfo, SocketObservation } from '../../src/observe/tmux.js';
import { plan } from '../../src/plan/plan.js';
import type { Action } from '../../src/plan/types.js';
import { TMUX_MODE } from '../../src/plan/units.js';
import { buildStatus, STABLE_AFTER_MS } from '../../src/status/build.js';
import type { AgentRecord, Condition, StatusDoc } from '../../src/status/types.js';
import {
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
  rosterYaml,
  running,
  SOCKET,
  socket,
  spec,
  TENANT,
} from './builders.js';

// ---- helpers ------------------------------------------------------------------

interface Run {
  desired: DesiredState;
  /** What the planner saw. */
  before: Map<string, SocketObservation>;
  /** What was seen after apply (default: the same as before). */
  after?: Map<string, SocketObservation>;
  previous?: StatusDoc | null;
  now?: Date;
  /** Results for the planned actions (default: none applied). */
  apply?: (actions: Action[]) => ActionResult[];
}

/** One reconcile's status, the way reconcile() builds it: plan on `before`, status on `after`. */
function run(r: Run): StatusDoc {
  const pol = context({ now: r.now ?? NOW });
  const p = plan(planInput(r.desired, r.before, r.previous ?? null), pol);
  const results = r.apply?.(p.actions) ?? [];
  return buildStatus(
    {
      desired: r.desired,
      plan: p,
      observed: { tmux: r.after ?? r.before, supervisor: TMUX_MODE, heartbeats: new Map() },
      results,
      previous: r.previous ?? null,
    },
    pol,
  );
}

const succeeded = (action: Action, when = NOW): ActionResult => ({
  action,
  ok: true,
  error: null,
  startedAt: when.toISOString(),
  finishedAt: when.toISOString(),
  command: [],
});
const failed = (action: Action, error: string): ActionResult => ({
  action,
  ok: false,
  error,
  startedAt: NOW.toISOString(),
  finishedAt: NOW.toISOString(),
  command: [],
});
const applyAll =
  (when = NOW) =>
  (actions: Action[]) =>
    actions.map((a) => succeeded(a, when));

function agentOf(s: StatusDoc, name: string): AgentRecord {
  const r = s.agents.find((a) => a.name === name);
  expect(r, `agent ${name} in status`).toBeDefined();
  return r!;
}

function cond(s: StatusDoc, name: string, type: Condition['type']): Condition | undefined {
  return agentOf(s, name).conditions.find((c) => c.type === type);
}

/** JSON as committed. */
const committed = (s: StatusDoc): string => `${JSON.stringify(s, null, 2)}\n`;

// ---- Ready and no churn ----------------------------------------------------------------

describe('status: Ready', () => {
  const d = desired(['a']);
  const a = spec(d, 'a');
  const up = () => observed(socket(SOCKET, [holder(), running(a, { pid: 777 })]));

  it('is True for a running agent, with the record fields people read', () => {
    const s = run({ desired: d, before: up() });
    expect(agentOf(s, 'a')).toEqual({
      name: 'a',
      host: HOST,
      tenant_id: TENANT,
      socket: SOCKET,
      runtime: 'claude',
      source: `rosters/agents.yaml:${a.source.line}`,
      enabled: true,
      specHash: a.specHash,
      session: { name: 'a', alive: true, pid: 777, command: 'claude', exitStatus: null, spec: a.specHash },
      heartbeat: null,
      unit: null,
      restarts: 0,
      backoff: null,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Running',
          message: 'pid 777 runs claude; no heartbeat declared: judged by pane and process alone',
          lastTransitionTime: NOW.toISOString(),
        },
      ],
    });
    expect(s).toMatchObject({
      formatVersion: 1,
      fleet: FLEET,
      host: HOST,
      tenant_id: TENANT,
      desiredRevision: 'rev-1',
      converged: true,
    });
    expect(s.summary).toEqual({ agents: 1, ready: 1, notReady: 0, disabled: 0, unmanaged: 0, errors: 0 });
    expect(s.supervisor).toEqual({
      mode: 'tmux',
      reason: 'default',
      observed: true,
      error: null,
      linger: null,
      lingerFix: null,
    });
  });

  it('keeps lastTransitionTime while the status holds: a later build is byte-identical', () => {
    const first = run({ desired: d, before: up(), now: NOW });
    const second = run({ desired: d, before: up(), previous: first, now: at(3600) });
    const third = run({ desired: d, before: up(), previous: second, now: at(86_400) });
    expect(cond(second, 'a', 'Ready')!.lastTransitionTime).toBe(NOW.toISOString());
    expect(committed(second)).toBe(committed(first));
    expect(committed(third)).toBe(committed(first));
  });

  it('moves lastTransitionTime when the status flips, and again when it flips back', () => {
    const t0 = run({ desired: d, before: up(), now: NOW });
    // The runtime died; this run's respawn is not applied (plan only).
    const t1 = run({ desired: d, before: observed(socket(SOCKET, [holder(), dead(a, 2)])), previous: t0, now: at(60) });
    expect(cond(t1, 'a', 'Ready')).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'PaneDead',
      message: 'exited with status 2',
      lastTransitionTime: at(60).toISOString(),
    });
    expect(agentOf(t1, 'a').session).toMatchObject({ alive: false, pid: null, exitStatus: 2 });
    expect(t1.converged).toBe(false);
    const t2 = run({ desired: d, before: up(), previous: t1, now: at(120) });
    expect(cond(t2, 'a', 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: at(120).toISOString() });
  });

  it('keeps the time when only the reason changes within one status', () => {
    const t0 = run({ desired: d, before: observed(socket(SOCKET, [holder()])), now: NOW });
    expect(cond(t0, 'a', 'Ready')).toMatchObject({ status: 'False', reason: 'SessionMissing' });
    const t1 = run({ desired: d, before: observed(socket(SOCKET, [holder(), dead(a)])), previous: t0, now: at(60) });
    expect(cond(t1, 'a', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PaneDead',
      lastTransitionTime: NOW.toISOString(),
    });
  });

  it('Ready is Unknown when the socket could not be observed', () => {
    const s = run({ desired: d, before: observed(failedSocket(SOCKET, 'tmux: server exited unexpectedly')) });
    expect(cond(s, 'a', 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'ObservationFailed',
      message: 'tmux: server exited unexpectedly',
    });
    expect(s.sockets).toEqual([
      {
        name: SOCKET,
        observed: false,
        error: 'tmux: server exited unexpectedly',
        serverRunning: false,
        serverPid: null,
        holder: '_holder',
        unit: null,
      },
    ]);
    expect(s.converged).toBe(false);
  });

  it('reports a name taken by a session this fleet did not start', () => {
    const s = run({
      desired: d,
      before: observed(socket(SOCKET, [holder(), pane('a', { currentCommand: 'vim', pid: 9 })])),
    });
    expect(cond(s, 'a', 'Ready')).toMatchObject({ status: 'False', reason: 'NameConflict' });
    expect(cond(s, 'a', 'Ready')!.message).toContain('@gitfleet-fleet is unset');
    // Nothing of that session is reported as ours.
    expect(agentOf(s, 'a').session).toEqual({
      name: 'a',
      alive: false,
      pid: null,
      command: null,
      exitStatus: null,
      spec: null,
    });
    expect(s.unmanaged).toEqual([{ socket: SOCKET, session: 'a', command: 'vim', fleet: null }]);
  });

  it('a disabled agent is Ready False/Disabled and does not stop convergence', () => {
    const d2 = desired(['on', { name: 'off', enabled: false }]);
    const s = run({ desired: d2, before: observed(socket(SOCKET, [holder(), running(spec(d2, 'on'))])) });
    expect(cond(s, 'off', 'Ready')).toMatchObject({ status: 'False', reason: 'Disabled' });
    expect(s.summary).toMatchObject({ agents: 2, ready: 1, notReady: 0, disabled: 1 });
    expect(s.converged).toBe(true);
  });

  it('a failed action is Ready False/ApplyFailed with the error', () => {
    const s = run({
      desired: d,
      before: observed(socket(SOCKET, [holder()])),
      apply: (xs) => xs.map((x) => failed(x, 'duplicate session: a')),
    });
    expect(cond(s, 'a', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ApplyFailed',
      message: 'create_session failed: duplicate session: a',
    });
    expect(s.converged).toBe(false);
  });
});

// ---- restarts and backoff -------------------------------------------------------------

describe('status: restarts and crash-loop backoff', () => {
  const d = desired(['a']);
  const a = spec(d, 'a');
  const deadNow = () => observed(socket(SOCKET, [holder(), dead(a, 1)]));
  const upNow = () => observed(socket(SOCKET, [holder(), running(a)]));

  it('counts a respawn and starts a streak at the time it happened', () => {
    const s = run({ desired: d, before: deadNow(), after: upNow(), apply: applyAll() });
    expect(agentOf(s, 'a').restarts).toBe(1);
    expect(agentOf(s, 'a').backoff).toEqual({ streak: 1, lastRestart: NOW.toISOString() });
    expect(cond(s, 'a', 'Ready')).toMatchObject({ status: 'True', reason: 'Running' });
  });

  it('consecutive respawns grow the streak; the planner then spaces them out', () => {
    const s1 = run({ desired: d, before: deadNow(), after: deadNow(), apply: applyAll(), now: NOW });
    const s2 = run({ desired: d, before: deadNow(), after: deadNow(), apply: applyAll(), previous: s1, now: at(10) });
    expect(agentOf(s2, 'a')).toMatchObject({ restarts: 2, backoff: { streak: 2, lastRestart: at(10).toISOString() } });
    // Streak 2 waits 20 s after the last respawn: at +15 s nothing is done.
    const s3 = run({ desired: d, before: deadNow(), apply: applyAll(), previous: s2, now: at(15) });
    expect(agentOf(s3, 'a')).toMatchObject({ restarts: 2, backoff: { streak: 2, lastRestart: at(10).toISOString() } });
    expect(cond(s3, 'a', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'CrashLoopBackOff',
      message: `exited with status 1; 2 respawns in a row; next not before ${at(30).toISOString()}`,
    });
    expect(s3.converged).toBe(false);
  });

  it('a waiting crash loop does not churn: the same status while it waits', () => {
    const s1 = run({ desired: d, before: deadNow(), after: deadNow(), apply: applyAll(), now: NOW });
    const wait1 = run({ desired: d, before: deadNow(), previous: s1, now: at(2) });
    const wait2 = run({ desired: d, before: deadNow(), previous: wait1, now: at(5) });
    expect(committed(wait2)).toBe(committed(wait1));
  });

  it('a pane alive for STABLE_AFTER_MS ends the streak but keeps the restart count', () => {
    const s1 = run({ desired: d, before: deadNow(), after: upNow(), apply: applyAll(), now: NOW });
    const early = run({ desired: d, before: upNow(), previous: s1, now: at(STABLE_AFTER_MS / 1000 - 1) });
    expect(agentOf(early, 'a').backoff).toEqual({ streak: 1, lastRestart: NOW.toISOString() });
    const later = run({ desired: d, before: upNow(), previous: early, now: at(STABLE_AFTER_MS / 1000) });
    expect(agentOf(later, 'a')).toMatchObject({ restarts: 1, backoff: null });
  });

  it('a restart for a new spec clears the count and the streak', () => {
    const d2 = desired([{ name: 'a', update: 'recreate' }]);
    const a2 = spec(d2, 'a');
    const prev = run({
      desired: d2,
      before: observed(socket(SOCKET, [holder(), dead(a2)])),
      after: observed(socket(SOCKET, [holder(), dead(a2)])),
      apply: applyAll(),
    });
    expect(agentOf(prev, 'a').restarts).toBe(1);
    const s = run({
      desired: d2,
      before: observed(socket(SOCKET, [holder(), running(a2, { spec: 'old' })])),
      after: observed(socket(SOCKET, [holder(), running(a2)])),
      apply: applyAll(at(60)),
      previous: prev,
      now: at(60),
    });
    expect(agentOf(s, 'a')).toMatchObject({ restarts: 0, backoff: null });
  });

  it('re-creating a lost session counts as a restart; the first create does not', () => {
    const first = run({ desired: d, before: observed(socket(SOCKET, [])), after: upNow(), apply: applyAll() });
    expect(agentOf(first, 'a').restarts).toBe(0);
    const again = run({
      desired: d,
      before: observed(socket(SOCKET, [holder()])),
      after: upNow(),
      apply: applyAll(at(60)),
      previous: first,
      now: at(60),
    });
    expect(agentOf(again, 'a').restarts).toBe(1);
  });

  it('a failed respawn is not counted', () => {
    const s = run({ desired: d, before: deadNow(), apply: (xs) => xs.map((x) => failed(x, 'boom')) });
    expect(agentOf(s, 'a')).toMatchObject({ restarts: 0, backoff: null });
  });
});

// ---- unmanaged, sockets -------------------------------------------------------------------

describe('status: unmanaged sessions and sockets', () => {
  it('lists sessions this fleet did not start, sorted, but not the holder', () => {
    const d = desired(['a']);
    const obs = observed(
      socket(SOCKET, [
        pane('zz-hand', { currentCommand: 'htop' }),
        holder(),
        running(spec(d, 'a')),
        pane('other', { fleet: 'other-fleet', currentCommand: 'claude' }),
        pane('aa-hand', { currentCommand: 'bash' }),
        // gitfleet agent watch's throw-away view of `a`: not a session of its own
        pane('_watch-a-x1', { currentCommand: 'claude', watchOf: 'a' }),
      ]),
    );
    const s = run({ desired: d, before: obs });
    expect(s.unmanaged).toEqual([
      { socket: SOCKET, session: 'aa-hand', command: 'bash', fleet: null },
      { socket: SOCKET, session: 'other', command: 'claude', fleet: 'other-fleet' },
      { socket: SOCKET, session: 'zz-hand', command: 'htop', fleet: null },
    ]);
    expect(s.summary.unmanaged).toBe(3);
    // Another fleet's session means the socket is refused (nothing done there): not converged.
    expect(s.converged).toBe(false);
    // Sessions started by hand are reported, not a reason to be unconverged.
    const byHand = observed(
      socket(
        SOCKET,
        [...(obs.get(SOCKET) as { sessions: Map<string, PaneInfo> }).sessions.values()].filter(
          (p) => p.session !== 'other',
        ),
      ),
    );
    expect(run({ desired: d, before: byHand }).converged).toBe(true);
  });

  it('forgets a socket once nothing of ours is left on it, keeps it while something is', () => {
    const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a'], { socket: 's1' }) });
    const prev = { ...run({ desired: d, before: observed(socket('s1', [holder(), running(spec(d, 'a'))])) }) };
    prev.sockets = [
      ...prev.sockets,
      { name: 's2', observed: true, error: null, serverRunning: true, serverPid: 4343, holder: '_holder', unit: null },
    ];
    const stillOurs = run({
      desired: d,
      before: observed(socket('s1', [holder(), running(spec(d, 'a'))]), socket('s2', [holder()])),
      previous: prev,
    });
    expect(stillOurs.sockets.map((x) => x.name)).toEqual(['s1', 's2']);
    const gone = run({
      desired: d,
      before: observed(socket('s1', [holder(), running(spec(d, 'a'))]), socket('s2', [pane('hand')])),
      previous: prev,
    });
    expect(gone.sockets.map((x) => x.name)).toEqual(['s1']);
  });
});

// ---- converged ------------------------------------------------------------------------

describe('status: converged', () => {
  it('is false with an invalid file, which is listed with its problems', () => {
    const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a']), 'rosters/broken.yaml': 'version: 2\nagents: []\n' });
    const s = run({ desired: d, before: observed(socket(SOCKET, [holder(), running(spec(d, 'a'))])) });
    expect(s.converged).toBe(false);
    expect(s.summary.errors).toBe(1);
    expect(s.errors).toEqual([{ file: 'rosters/broken.yaml', line: 1, col: 10, message: 'version: must be 1, not 2' }]);
    expect(s.files.find((f) => f.path === 'rosters/broken.yaml')).toMatchObject({
      valid: false,
      blob: null,
      usingLastKnownGood: false,
    });
    // The agents of valid files are still Ready.
    expect(cond(s, 'a', 'Ready')!.status).toBe('True');
  });

  it('marks agents of a file on its last-known-good version Stalled', () => {
    const good = { path: 'rosters/a.yaml', blob: 'good0123456789abcdef', text: rosterYaml(['a']) };
    const d = desiredFrom(
      { 'rosters/a.yaml': 'version: 1\nagents:\n  - {name: a, runtime: claude, colour: red}\n' },
      null,
      [good],
    );
    const s = run({ desired: d, before: observed(socket(SOCKET, [holder(), running(spec(d, 'a'))])) });
    expect(cond(s, 'a', 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cond(s, 'a', 'Stalled')!.message).toMatch(
      /^rosters\/a\.yaml:3:32: agents\[0\]: unknown key "colour".*blob good01234567, stays in force/,
    );
    expect(s.files.find((f) => f.path === 'rosters/a.yaml')).toMatchObject({
      valid: false,
      blob: 'good0123456789abcdef',
      usingLastKnownGood: true,
    });
    expect(s.converged).toBe(false);
  });

  it('is false while a restart is pending, with the reason in a PendingRestart condition', () => {
    const d = desired(['idle', { name: 'man', update: 'manual' }]);
    const obs = observed(
      socket(SOCKET, [
        holder(),
        running(spec(d, 'idle'), { spec: 'old-idle' }),
        running(spec(d, 'man'), { spec: 'old-man' }),
      ]),
    );
    const s = run({ desired: d, before: obs });
    expect(cond(s, 'idle', 'PendingRestart')).toMatchObject({ status: 'True', reason: 'UpdateOnIdle' });
    expect(cond(s, 'idle', 'PendingRestart')!.message).toBe(
      `spec old-idle runs, ${spec(d, 'idle').specHash} is desired; update: on-idle: restarts once the agent is idle`,
    );
    expect(cond(s, 'man', 'PendingRestart')).toMatchObject({ status: 'True', reason: 'UpdateManual' });
    // Still running the old spec: Ready, but not converged.
    expect(cond(s, 'idle', 'Ready')!.status).toBe('True');
    expect(s.summary.ready).toBe(2);
    expect(s.converged).toBe(false);
  });

  it('a PendingRestart names the fields that changed (names only: values stay out of the status)', () => {
    const entry = (mood: string) => ({ name: 'man', update: 'manual', env: { MOOD: mood, API_TOKEN: `t-${mood}` } });
    const before = spec(desired([entry('calm')]), 'man');
    const d = desired([entry('stormy')]);
    const s = run({ desired: d, before: observed(socket(SOCKET, [holder(), running(before)])) });
    expect(cond(s, 'man', 'PendingRestart')!.message).toBe(
      'changed: env.API_TOKEN, env.MOOD; update: manual: restart it by hand (or set update: recreate)',
    );
    expect(JSON.stringify(s)).not.toMatch(/calm|stormy/);
  });

  it('is true when a leftover session is kept by reconcile.prune: false (the operator chose it)', () => {
    const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a']) }, 'reconcile: {prune: false}\n');
    const s = run({
      desired: d,
      before: observed(
        socket(SOCKET, [holder(), running(spec(d, 'a')), pane('gone', { fleet: FLEET, role: 'agent' })]),
      ),
    });
    expect(s.converged).toBe(true);
  });

  it('is false when a prune is blocked by an invalid file', () => {
    const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a']), 'rosters/b.yaml': 'version: 1\nagents: 7\n' });
    const s = run({
      desired: d,
      before: observed(
        socket(SOCKET, [holder(), running(spec(d, 'a')), pane('gone', { fleet: FLEET, role: 'agent' })]),
      ),
    });
    expect(s.converged).toBe(false);
  });

  it('is false while agents are missing and true once they run', () => {
    const d = desired(['a', 'b']);
    const before = run({ desired: d, before: observed(socket(SOCKET, [])) });
    expect(before.converged).toBe(false);
    expect(before.summary).toMatchObject({ ready: 0, notReady: 2 });
    const after = run({
      desired: d,
      before: observed(socket(SOCKET, [])),
      after: observed(socket(SOCKET, [holder(), running(spec(d, 'a')), running(spec(d, 'b'))])),
      apply: applyAll(),
    });
    expect(after.converged).toBe(true);
  });

  it('records only agents for this host and tenant, each with host and tenant_id', () => {
    const d = desired([
      { name: 'here' },
      { name: 'there', host: 'box2' },
      { name: 'alice', tenant: 'alice' },
      { name: 'me', tenant: TENANT },
    ]);
    const s = run({ desired: d, before: observed(socket(SOCKET, [])) });
    expect(s.agents.map((r) => [r.name, r.host, r.tenant_id])).toEqual([
      ['here', HOST, TENANT],
      ['me', HOST, TENANT],
    ]);
  });
});

// ---- liveness: heartbeats and drift ----------------------------------------------------

describe('status: heartbeats and drift', () => {
  const hd = desiredFrom({
    'rosters/agents.yaml': [
      'version: 1',
      `tmux: {socket_name: ${SOCKET}}`,
      'runtimes:',
      '  stub: {command: [node, stub.mjs], heartbeat: 5}',
      '  plain: {command: claude}',
      'agents:',
      '  - {name: w, runtime: stub}',
      '  - {name: p, runtime: plain}',
    ].join('\n'),
  });
  const panes = (cmd = 'node') =>
    observed(
      socket(SOCKET, [
        holder(),
        running(spec(hd, 'w'), { currentCommand: cmd, pid: 10 }),
        running(spec(hd, 'p'), { currentCommand: 'claude', pid: 11 }),
      ]),
    );
  const beat = (health: HeartbeatJudgement['health']) =>
    new Map<string, HeartbeatJudgement>([
      [
        `${SOCKET}/w`,
        {
          health,
          status: 'ok' as const,
          ageSeconds: 1,
          pid: 10,
          error: health === 'invalid' ? 'status "idle": allowed: ok, busy' : null,
        },
      ],
    ]);
  const build = (
    beats: ReadonlyMap<string, HeartbeatJudgement>,
    cmd = 'node',
    previous: StatusDoc | null = null,
    now = NOW,
  ) => {
    const pol = context({ now });
    const obs = panes(cmd);
    return buildStatus(
      {
        desired: hd,
        plan: plan(planInput(hd, obs, previous, { heartbeats: beats }), pol),
        observed: { tmux: obs, supervisor: TMUX_MODE, heartbeats: beats },
        results: [],
        previous,
      },
      pol,
    );
  };

  it('Ready needs a healthy heartbeat where the runtime declares one; others are judged by pane alone, say so', () => {
    const s = build(beat('healthy'));
    expect(cond(s, 'w', 'Ready')).toMatchObject({ status: 'True', message: 'pid 10 runs node; heartbeat healthy' });
    expect(agentOf(s, 'w').heartbeat).toEqual({ intervalSeconds: 5, health: 'healthy' });
    expect(cond(s, 'p', 'Ready')).toMatchObject({
      status: 'True',
      message: 'pid 11 runs claude; no heartbeat declared: judged by pane and process alone',
    });
    expect(agentOf(s, 'p').heartbeat).toBeNull();
    expect(s.converged).toBe(true);
  });

  it.each([
    ['stale', 'HeartbeatStale', /older than 3 × 5 s: it does not answer/],
    ['unknown', 'HeartbeatMissing', /none was written to \$GITFLEET_HEARTBEAT_FILE/],
    [
      'invalid',
      'HeartbeatInvalid',
      /^the heartbeat file is not protocol v1 \(ts=<ISO-8601> pid=<pid> status=<ok\|busy>\), or its time is ahead/,
    ],
  ] as const)('a %s heartbeat makes Ready false while the pane lives', (health, reason, message) => {
    const s = build(beat(health));
    expect(cond(s, 'w', 'Ready')).toMatchObject({ status: 'False', reason, message: expect.stringMatching(message) });
    expect(agentOf(s, 'w').session.alive).toBe(true);
    expect(s.converged).toBe(false);
  });

  it('keeps a stale agent byte-identical from run to run (no ages in status), and flips back when it answers', () => {
    const first = build(beat('stale'));
    const second = build(beat('stale'), 'node', first, at(600));
    expect(committed(second)).toBe(committed(first));
    const back = build(beat('healthy'), 'node', second, at(1200));
    expect(cond(back, 'w', 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: at(1200).toISOString() });
  });

  it('flags drift when the pane runs something other than the runtime, not when it runs one of its processes', () => {
    const s = build(beat('healthy'), 'bash');
    expect(cond(s, 'w', 'Drifted')).toMatchObject({
      status: 'True',
      reason: 'RuntimeMismatch',
      message: expect.stringContaining('the pane runs bash, not runtime stub (node)'),
    });
    expect(cond(s, 'p', 'Drifted')).toBeUndefined();
    expect(cond(build(beat('healthy')), 'w', 'Drifted')).toBeUndefined();
  });
});

describe('status: heartbeat start-up grace (Progressing)', () => {
  // w: grace 3 × 5 s = 15 s by default; g: heartbeat_grace 60 s; p: no heartbeat at all.
  const graceRoster = (o: { grace?: string; more?: string[] } = {}) =>
    desiredFrom({
      'rosters/agents.yaml': [
        'version: 1',
        `tmux: {socket_name: ${SOCKET}}`,
        'runtimes:',
        `  stub: {command: [node, stub.mjs], heartbeat: 5${o.grace ? `, heartbeat_grace: ${o.grace}` : ''}}`,
        `  slow: {command: [node, stub.mjs], heartbeat: 5, heartbeat_grace: ${o.grace ?? 60}}`,
        '  plain: {command: claude}',
        'agents:',
        '  - {name: w, runtime: stub}',
        '  - {name: g, runtime: slow}',
        '  - {name: p, runtime: plain}',
        ...(o.more ?? []),
      ].join('\n'),
    });
  const gd = graceRoster();
  /** Sessions created `ago` seconds before NOW, whatever the clock of the build (null: tmux did not say). */
  const panes = (ago: number | null, extra: PaneInfo[] = []) =>
    observed(
      socket(SOCKET, [
        holder(),
        ...['w', 'g'].map((n, i) =>
          running(spec(gd, n), {
            currentCommand: 'node',
            pid: 10 + i,
            created: ago === null ? null : NOW.getTime() / 1000 - ago,
          }),
        ),
        running(spec(gd, 'p'), { currentCommand: 'claude', pid: 12 }),
        ...extra,
      ]),
    );
  const none = (): HeartbeatJudgement => ({
    health: 'unknown',
    ageSeconds: null,
    status: null,
    pid: null,
    error: null,
  });
  const aged = (ageSeconds: number, health: HeartbeatJudgement['health']): HeartbeatJudgement => ({
    health,
    ageSeconds,
    status: 'ok',
    pid: 10,
    error: null,
  });
  const beats = (w: HeartbeatJudgement, g: HeartbeatJudgement = w) =>
    new Map([
      [`${SOCKET}/w`, w],
      [`${SOCKET}/g`, g],
    ]);
  const build = (
    o: { ago: number | null; beats: Map<string, HeartbeatJudgement>; now?: Date; previous?: StatusDoc | null },
    d: DesiredState = gd,
  ) => {
    const pol = context({ now: o.now ?? NOW });
    const obs = panes(o.ago);
    const previous = o.previous ?? null;
    return buildStatus(
      {
        desired: d,
        plan: plan(planInput(d, obs, previous, { heartbeats: o.beats }), pol),
        observed: { tmux: obs, supervisor: TMUX_MODE, heartbeats: o.beats },
        results: [],
        previous,
      },
      pol,
    );
  };
  const started = (ago: number) => new Date(NOW.getTime() - ago * 1000).toISOString();

  it('no beat yet within the grace: Ready Unknown and Progressing, absolute times; the fleet progressing', () => {
    const s = build({ ago: 10, beats: beats(none()) });
    const message =
      `no heartbeat yet from the session started at ${started(10)}: starting, not failed, ` +
      `until ${at(5).toISOString()} (heartbeat_grace 15 s); after that, no heartbeat is a failure`;
    expect(cond(s, 'w', 'Ready')).toEqual({
      type: 'Ready',
      status: 'Unknown',
      reason: 'AwaitingFirstHeartbeat',
      message,
      lastTransitionTime: NOW.toISOString(),
    });
    expect(cond(s, 'w', 'Progressing')).toMatchObject({ status: 'True', reason: 'AwaitingFirstHeartbeat', message });
    expect(cond(s, 'g', 'Progressing')).toMatchObject({ message: expect.stringContaining('heartbeat_grace 60 s') });
    expect(cond(s, 'p', 'Progressing')).toBeUndefined();
    expect(s.summary).toMatchObject({ ready: 1, notReady: 2 });
    expect(s.converged).toBe(false);
    expect(s.progressing).toBe(true);
    // The status file says so next to converged; a converged one does not carry the key at all.
    expect(committed(s)).toContain('"converged": false,\n  "progressing": true,\n');
  });

  it('the same within the grace at a later clock: byte-identical (no ages), so no commit', () => {
    const first = build({ ago: 2, beats: beats(none()) });
    const later = build({ ago: 2, beats: beats(none()), now: at(9), previous: first });
    expect(committed(later)).toBe(committed(first));
  });

  it('once the grace is over, a missing beat is HeartbeatMissing; the fleet neither converged nor progressing', () => {
    const s = build({ ago: 15, beats: beats(none()) });
    expect(cond(s, 'w', 'Ready')).toMatchObject({ status: 'False', reason: 'HeartbeatMissing' });
    expect(cond(s, 'w', 'Progressing')).toBeUndefined();
    expect(cond(s, 'g', 'Ready')).toMatchObject({ status: 'Unknown', reason: 'AwaitingFirstHeartbeat' });
    expect(s.converged).toBe(false);
    expect(s.progressing).toBeUndefined();
    expect(committed(s)).not.toContain('"progressing"');
  });

  it('the first beat ends it: Ready True from then on, Progressing gone, converged', () => {
    const first = build({ ago: 1, beats: beats(none()) });
    const s = build({ ago: 1, beats: beats(aged(0.5, 'healthy')), now: at(4), previous: first });
    expect(cond(s, 'w', 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: at(4).toISOString() });
    expect(cond(s, 'w', 'Progressing')).toBeUndefined();
    expect(s.converged).toBe(true);
    expect(s.progressing).toBeUndefined();
  });

  it("a previous session's beat (written before this one started) is no first beat; one of this session is", () => {
    const leftover = build({ ago: 10, beats: beats(aged(100, 'stale')) });
    expect(cond(leftover, 'w', 'Ready')).toMatchObject({ status: 'Unknown', reason: 'AwaitingFirstHeartbeat' });
    // g (grace 60 s) beat 20 s ago, 10 s after its session started, then went quiet: stale, not starting.
    const quiet = build({ ago: 30, beats: beats(aged(100, 'stale'), aged(20, 'stale')) });
    expect(cond(quiet, 'g', 'Ready')).toMatchObject({ status: 'False', reason: 'HeartbeatStale' });
    expect(cond(quiet, 'g', 'Progressing')).toBeUndefined();
  });

  it('no grace without a session start (tmux did not say), nor for an invalid heartbeat file', () => {
    expect(cond(build({ ago: null, beats: beats(none()) }), 'w', 'Ready')).toMatchObject({
      reason: 'HeartbeatMissing',
    });
    const bad = { ...aged(1, 'invalid'), error: 'missing pid' };
    expect(cond(build({ ago: 1, beats: beats(bad) }), 'w', 'Ready')).toMatchObject({ reason: 'HeartbeatInvalid' });
  });

  it('heartbeat_grace: 0 means no grace at all', () => {
    const s = build({ ago: 0, beats: beats(none()) }, graceRoster({ grace: '0' }));
    expect(cond(s, 'w', 'Ready')).toMatchObject({ reason: 'HeartbeatMissing' });
    expect(cond(s, 'g', 'Ready')).toMatchObject({ reason: 'HeartbeatMissing' });
  });

  it('anything else wrong is not "progressing": a missing session keeps the verdict not converged', () => {
    const withMissing = graceRoster({ more: ['  - {name: gone, runtime: plain}'] });
    const s = build({ ago: 1, beats: beats(none()) }, withMissing);
    expect(cond(s, 'w', 'Progressing')).toMatchObject({ status: 'True' });
    expect(cond(s, 'gone', 'Ready')).toMatchObject({ reason: 'SessionMissing' });
    expect(s.converged).toBe(false);
    expect(s.progressing).toBeUndefined();
  });
});
