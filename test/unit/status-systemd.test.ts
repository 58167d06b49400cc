// Status and observed events with `supervisor: systemd`: unit records on
// agents and sockets, the Degraded condition, the supervisor block (linger),
// and tmux servers that systemd restarted. Pure, built in memory.
import { describe, expect, it } from 'vitest';
import type { ActionResult } from '../../src/apply/types.js';
import type { AgentSpec, DesiredState } from '../../src/desired/types.js';
import type { SystemdObservation } from '../../src/observe/systemd.js';
import type { SocketObservation } from '../../src/observe/tmux.js';
import { agentsInScope } from '../../src/plan/scope.js';
import { plan } from '../../src/plan/plan.js';
import type { Action, Plan } from '../../src/plan/types.js';
import type { SupervisorInput } from '../../src/plan/units.js';
import { buildStatus } from '../../src/status/build.js';
import { serverLossEvents } from '../../src/status/evidence.js';
import type { AgentRecord, Condition, StatusDoc } from '../../src/status/types.js';
import { agentUnit, fleetFiles, holderUnit } from '../../src/systemd/fleet-units.js';
import {
  agentRecord,
  desired,
  desiredFrom,
  FLEET,
  installed,
  NOW,
  observed,
  onDisk,
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
  systemdMode,
  systemdSeen,
  TENANT,
  UNIT_CTX,
  unitState,
} from './builders.js';

// ---- helpers ------------------------------------------------------------------

const HOLDER = holderUnit(FLEET, SOCKET);
const unitOf = (a: Pick<AgentSpec, 'session' | 'socket'>): string => agentUnit(FLEET, a);
const DOWN: SystemdObservation = { ok: false, error: 'Failed to connect to bus: No medium found', unreachable: true };

interface Run {
  desired: DesiredState;
  /** tmux as the planner saw it, and after apply (default: the same). */
  before: Map<string, SocketObservation>;
  after?: Map<string, SocketObservation>;
  /** systemd as the planner saw it, and after apply (default: the same). */
  seen: SystemdObservation;
  seenAfter?: SystemdObservation;
  previous?: StatusDoc | null;
  apply?: (actions: Action[]) => ActionResult[];
}

/** One reconcile the way reconcile() does it: plan on `before`/`seen`, status on `after`/`seenAfter`. */
function run(r: Run): { plan: Plan; status: StatusDoc; sup: SupervisorInput } {
  const pol = context();
  const sup = systemdMode(r.seen, agentsInScope(r.desired, pol));
  const p = plan(planInput(r.desired, r.before, r.previous ?? null, { supervisor: sup }), pol);
  const results = r.apply?.(p.actions) ?? [];
  const supAfter: SupervisorInput = r.seenAfter && sup.mode === 'systemd' ? { ...sup, observed: r.seenAfter } : sup;
  const status = buildStatus(
    {
      desired: r.desired,
      plan: p,
      observed: { tmux: r.after ?? r.before, supervisor: supAfter, heartbeats: new Map() },
      results,
      previous: r.previous ?? null,
    },
    pol,
  );
  return { plan: p, status, sup: supAfter };
}

const succeeded = (action: Action): ActionResult => ({
  action,
  ok: true,
  error: null,
  startedAt: NOW.toISOString(),
  finishedAt: NOW.toISOString(),
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
const applyAll = (actions: Action[]) => actions.map(succeeded);

function agentOf(s: StatusDoc, name: string): AgentRecord {
  const r = s.agents.find((a) => a.name === name);
  expect(r, `agent ${name} in status`).toBeDefined();
  return r!;
}

const cond = (s: StatusDoc, name: string, type: Condition['type']): Condition | undefined =>
  agentOf(s, name).conditions.find((c) => c.type === type);

/** The status record a previous run wrote for `a`: alive, its unit active. */
const record = (a: AgentSpec, restarts = 0): AgentRecord =>
  agentRecord(a, {
    session: { name: a.session, alive: true, pid: 4242, command: 'claude', exitStatus: null, spec: a.specHash },
    unit: { name: unitOf(a), active: 'active', sub: 'exited', enabled: 'enabled' },
    restarts,
  });

/** A socket observation with another server pid (or none). */
function withServer(
  entry: [string, SocketObservation],
  o: { serverPid: number | null; serverRunning?: boolean },
): [string, SocketObservation] {
  const [name, obs] = entry;
  if (!obs.ok) throw new Error('test socket must be observed');
  return [name, { ...obs, serverPid: o.serverPid, serverRunning: o.serverRunning ?? obs.serverRunning }];
}

// ---- unit records ---------------------------------------------------------------------

describe('status (systemd): unit records', () => {
  const d = desired(['a', { name: 'off', enabled: false }]);
  const a = spec(d, 'a');
  const up = () => observed(socket(SOCKET, [running(a, { pid: 777 })]));

  it('a converged agent carries its unit as systemd shows it, and is Ready with nothing Degraded', () => {
    const { plan: p, status } = run({ desired: d, before: up(), seen: installed(d) });
    expect(p.actions).toEqual([]);
    expect(agentOf(status, 'a').unit).toEqual({ name: unitOf(a), active: 'active', sub: 'exited', enabled: 'enabled' });
    expect(agentOf(status, 'a').conditions).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Running',
        message: expect.stringMatching(/^pid 777 runs claude\b/),
        lastTransitionTime: NOW.toISOString(),
      },
    ]);
    expect(status.converged).toBe(true);
  });

  it("a socket carries its server unit with the unit's automatic restarts", () => {
    const { status } = run({
      desired: d,
      before: up(),
      seen: installed(d, { units: [unitState(HOLDER, { restarts: 3 })] }),
    });
    expect(status.sockets).toEqual([
      {
        name: SOCKET,
        observed: true,
        error: null,
        serverRunning: true,
        serverPid: 4242,
        holder: '_holder',
        unit: { name: HOLDER, active: 'active', sub: 'running', enabled: 'enabled', restarts: 3 },
      },
    ]);
  });

  it('a disabled agent has no unit record', () => {
    const { status } = run({ desired: d, before: up(), seen: installed(d) });
    expect(agentOf(status, 'off').unit).toBeNull();
  });

  it('a unit systemd does not know is not-found; its state unknown', () => {
    const { status } = run({ desired: d, before: observed(socket(SOCKET, [])), seen: systemdSeen() });
    expect(agentOf(status, 'a').unit).toEqual({
      name: unitOf(a),
      active: 'unknown',
      sub: 'unknown',
      enabled: 'not-found',
    });
    expect(cond(status, 'a', 'Ready')).toMatchObject({ status: 'False', reason: 'SessionMissing' });
    expect(cond(status, 'a', 'Degraded')).toBeUndefined(); // no session runs: nothing to supervise yet
  });

  it('after a cold start applied, the status built on the new observation is converged', () => {
    const { status } = run({
      desired: d,
      before: observed(socket(SOCKET, [])),
      seen: systemdSeen(),
      apply: applyAll,
      after: up(),
      seenAfter: installed(d),
    });
    expect(agentOf(status, 'a')).toMatchObject({
      unit: { name: unitOf(a), active: 'active', enabled: 'enabled' },
      restarts: 0,
      session: { alive: true },
    });
    expect(status.converged).toBe(true);
  });
});

// ---- Degraded ---------------------------------------------------------------------------

describe('status (systemd): Degraded', () => {
  const d = desired(['a']);
  const a = spec(d, 'a');
  const up = () => observed(socket(SOCKET, [running(a)]));

  it('UnitNotEnabled when the unit is active but disabled; Ready still True from the pane', () => {
    const { plan: p, status } = run({
      desired: d,
      before: up(),
      seen: installed(d, { units: [unitState(unitOf(a), { sub: 'exited', enabled: 'disabled' })] }),
    });
    expect(p.actions.map((x) => x.kind)).toEqual(['enable_unit']); // what would fix it
    expect(cond(status, 'a', 'Ready')).toMatchObject({ status: 'True', reason: 'Running' });
    const deg = cond(status, 'a', 'Degraded')!;
    expect(deg).toMatchObject({
      type: 'Degraded',
      status: 'True',
      reason: 'UnitNotEnabled',
      lastTransitionTime: NOW.toISOString(),
    });
    expect(deg.message).toContain(unitOf(a));
    expect(deg.message).toContain('disabled');
    expect(status.converged).toBe(false);
    expect(status.summary).toMatchObject({ ready: 1, notReady: 0 });
  });

  it('UnitInactive when the session runs but its unit is not active', () => {
    const { status } = run({
      desired: d,
      before: up(),
      seen: installed(d, { units: [unitState(unitOf(a), { active: 'inactive', sub: 'dead' })] }),
    });
    expect(cond(status, 'a', 'Ready')).toMatchObject({ status: 'True' });
    expect(cond(status, 'a', 'Degraded')).toMatchObject({ status: 'True', reason: 'UnitInactive' });
    expect(cond(status, 'a', 'Degraded')!.message).toContain('inactive (dead)');
    expect(status.converged).toBe(false);
  });

  it('SupervisorUnobserved when systemd could not be observed; Ready still from the pane; not converged', () => {
    const { plan: p, status } = run({ desired: d, before: up(), seen: DOWN });
    expect(p.actions).toEqual([]);
    expect(cond(status, 'a', 'Ready')).toMatchObject({ status: 'True', reason: 'Running' });
    expect(cond(status, 'a', 'Degraded')).toMatchObject({ status: 'True', reason: 'SupervisorUnobserved' });
    expect(cond(status, 'a', 'Degraded')!.message).toContain('Failed to connect to bus: No medium found');
    expect(agentOf(status, 'a').unit).toEqual({
      name: unitOf(a),
      active: 'unknown',
      sub: 'unknown',
      enabled: 'unknown',
    });
    expect(status.sockets[0]!.unit).toEqual({
      name: HOLDER,
      active: 'unknown',
      sub: 'unknown',
      enabled: 'unknown',
      restarts: null,
    });
    expect(status.converged).toBe(false);
  });

  it('Degraded clears, and converged returns, once the unit is enabled again', () => {
    const first = run({
      desired: d,
      before: up(),
      seen: installed(d, { units: [unitState(unitOf(a), { sub: 'exited', enabled: 'disabled' })] }),
    }).status;
    const second = run({ desired: d, before: up(), seen: installed(d), previous: first }).status;
    expect(cond(second, 'a', 'Degraded')).toBeUndefined();
    expect(second.converged).toBe(true);
  });
});

// ---- supervisor block -----------------------------------------------------------------

describe('status (systemd): the supervisor block', () => {
  const d = desired(['a']);
  const up = () => observed(socket(SOCKET, [running(spec(d, 'a'))]));

  it('linger off: says how to turn it on for the tenant', () => {
    const { status } = run({ desired: d, before: up(), seen: installed(d, { linger: false }) });
    expect(status.supervisor).toEqual({
      mode: 'systemd',
      reason: 'test',
      observed: true,
      error: null,
      linger: false,
      lingerFix: `loginctl enable-linger ${TENANT}`,
    });
  });

  it('linger on, or unknown: no fix to show', () => {
    expect(run({ desired: d, before: up(), seen: installed(d, { linger: true }) }).status.supervisor).toMatchObject({
      linger: true,
      lingerFix: null,
    });
    expect(run({ desired: d, before: up(), seen: installed(d, { linger: null }) }).status.supervisor).toMatchObject({
      linger: null,
      lingerFix: null,
    });
  });

  it('unobserved: the error, and nothing known about linger', () => {
    expect(run({ desired: d, before: up(), seen: DOWN }).status.supervisor).toEqual({
      mode: 'systemd',
      reason: 'test',
      observed: false,
      error: 'Failed to connect to bus: No medium found',
      linger: null,
      lingerFix: null,
    });
  });
});

// ---- pending spec changes, restarts, failures -------------------------------------------------

describe('status (systemd): spec changes and restarts', () => {
  const before = desired([
    { name: 'i', env: { V: '1' } },
    { name: 'm', update: 'manual', env: { V: '1' } },
  ]);
  const after = desired([
    { name: 'i', env: { V: '2' } },
    { name: 'm', update: 'manual', env: { V: '2' } },
  ]);

  it('an on-idle or manual spec change waiting is PendingRestart, and not converged (as in tmux mode)', () => {
    const { plan: p, status } = run({
      desired: after,
      before: observed(socket(SOCKET, [running(spec(before, 'i')), running(spec(before, 'm'))])),
      seen: installed(after),
    });
    expect(p.deferred.map((x) => `${x.kind} ${x.reason}`)).toEqual([
      'restart_unit update_on_idle',
      'restart_unit update_manual',
    ]);
    expect(cond(status, 'i', 'PendingRestart')).toMatchObject({ status: 'True', reason: 'UpdateOnIdle' });
    expect(cond(status, 'm', 'PendingRestart')).toMatchObject({ status: 'True', reason: 'UpdateManual' });
    expect(status.converged).toBe(false);
  });

  it('a unit restarted because its session was lost counts one restart more', () => {
    const d = desired(['a']);
    const a = spec(d, 'a');
    const { plan: p, status } = run({
      desired: d,
      before: observed(socket(SOCKET, [])),
      seen: installed(d),
      previous: previousStatus([record(a, 2)], [socketRecord(SOCKET)]),
      apply: applyAll,
      after: observed(socket(SOCKET, [running(a)])),
    });
    expect(p.actions.map((x) => `${x.kind} ${x.reason}`)).toEqual(['restart_unit session_missing']);
    expect(agentOf(status, 'a').restarts).toBe(3);
  });

  it('a unit restarted for a new spec starts the count again', () => {
    const d = desired([{ name: 'r', update: 'recreate', env: { V: '2' } }]);
    const old = desired([{ name: 'r', update: 'recreate', env: { V: '1' } }]);
    const r = spec(d, 'r');
    const { plan: p, status } = run({
      desired: d,
      before: observed(socket(SOCKET, [running(spec(old, 'r'))])),
      seen: installed(d, { files: onDisk(fleetFiles(UNIT_CTX, [spec(old, 'r')]).values()) }),
      previous: previousStatus([record(r, 5)], [socketRecord(SOCKET)]),
      apply: applyAll,
      after: observed(socket(SOCKET, [running(r)])),
    });
    expect(p.actions.map((x) => `${x.kind} ${x.reason}`)).toEqual([
      'install_unit file_changed',
      'restart_unit spec_changed',
    ]);
    expect(agentOf(status, 'r').restarts).toBe(0);
  });

  it('starting an inactive unit that adopts the running session is no restart', () => {
    const d = desired(['a']);
    const a = spec(d, 'a');
    const { plan: p, status } = run({
      desired: d,
      before: observed(socket(SOCKET, [running(a)])),
      seen: installed(d, { units: [unitState(unitOf(a), { active: 'inactive', sub: 'dead' })] }),
      previous: previousStatus([record(a, 2)], [socketRecord(SOCKET)]),
      apply: applyAll,
      seenAfter: installed(d),
    });
    expect(p.actions.map((x) => `${x.kind} ${x.reason}`)).toEqual(['start_unit unit_inactive']);
    expect(agentOf(status, 'a').session.alive).toBe(true);
    expect(agentOf(status, 'a').restarts).toBe(2); // the session never stopped
  });

  it('a failed unit action is ApplyFailed on its agent', () => {
    const d = desired(['a']);
    const { status } = run({
      desired: d,
      before: observed(socket(SOCKET, [])),
      seen: installed(d, { units: [unitState(unitOf(spec(d, 'a')), { active: 'failed', sub: 'failed' })] }),
      apply: (actions) => actions.map((x) => (x.kind === 'start_unit' ? failed(x, 'Job failed') : succeeded(x))),
    });
    expect(cond(status, 'a', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ApplyFailed',
      message: 'start_unit failed: Job failed',
    });
    expect(status.converged).toBe(false);
  });
});

// ---- sockets to keep watching --------------------------------------------------------------

describe('status (systemd): sockets', () => {
  it('a socket whose server unit stop waits for unmanaged sessions stays in status: the next run sees it', () => {
    const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a'], { socket: 's1' }) });
    const a = spec(d, 'a');
    const S2 = holderUnit(FLEET, 's2');
    const before = observed(socket('s1', [running(a)]), socket('s2', [pane('by-hand')]));
    const seen = installed(d, { units: [unitState(S2)], extraFound: [S2] });
    const first = run({
      desired: d,
      before,
      seen,
      previous: previousStatus([], [socketRecord('s1'), socketRecord('s2')]),
    });
    expect(first.plan.deferred.map((x) => `${x.kind} ${x.target} ${x.reason}`)).toEqual([
      `stop_unit ${S2} unmanaged_sessions`,
    ]);
    expect(first.status.sockets.map((s) => s.name)).toContain('s2');
    const second = run({ desired: d, before, seen, previous: first.status });
    expect(second.plan.deferred.map((x) => `${x.kind} ${x.target} ${x.reason}`)).toEqual([
      `stop_unit ${S2} unmanaged_sessions`,
    ]);
  });
});

// ---- tmux servers lost ---------------------------------------------------------------------

describe('serverLossEvents', () => {
  const d = desired(['a']);
  const a = spec(d, 'a');
  const prev = (serverPid: number | null) => previousStatus([], [socketRecord(SOCKET, { serverPid })]);
  const now = (serverPid: number | null, serverRunning = true) =>
    observed(withServer(socket(SOCKET, [running(a)]), { serverPid, serverRunning }));
  const sd = (restarts: number | null): SupervisorInput =>
    systemdMode(installed(d, { units: [unitState(HOLDER, { restarts })] }), [a]);

  it('a new server pid, the server unit restarted: one tmux_server_lost event naming systemd and the unit', () => {
    const events = serverLossEvents(prev(100), now(200), sd(1), NOW);
    expect(events).toEqual([
      {
        kind: 'tmux_server_lost',
        target: SOCKET,
        at: NOW.toISOString(),
        message:
          `the tmux server of socket ${SOCKET} (pid 100) is gone; ` +
          `systemd restarted it (${HOLDER}, 1 automatic restarts) with pid 200`,
        detail: { socket: SOCKET, previousPid: 100, pid: 200, unit: HOLDER, unitRestarts: 1 },
      },
    ]);
  });

  it('the same pid: no event', () => {
    expect(serverLossEvents(prev(200), now(200), sd(1), NOW)).toEqual([]);
  });

  it('no pid known from the last run: no event', () => {
    expect(serverLossEvents(prev(null), now(200), sd(1), NOW)).toEqual([]);
    expect(serverLossEvents(null, now(200), sd(1), NOW)).toEqual([]);
  });

  it('the server not running now: the event says so', () => {
    const [e] = serverLossEvents(prev(100), now(null, false), sd(1), NOW);
    expect(e!.message).toBe(
      `the tmux server of socket ${SOCKET} (pid 100) is gone; ` +
        'no server runs now; this reconcile starts the fleet again',
    );
    expect(e!.detail).toMatchObject({ previousPid: 100, pid: null });
  });

  it('without a unit to name (tmux mode, or systemd unobserved): a new server, no systemd claim', () => {
    for (const sup of [{ mode: 'tmux', reason: 'test' } as const, systemdMode(DOWN, [a])]) {
      const [e] = serverLossEvents(prev(100), now(200), sup, NOW);
      expect(e!.message).toBe(`the tmux server of socket ${SOCKET} (pid 100) is gone; a new server runs with pid 200`);
      expect(e!.detail).toMatchObject({ unit: null, unitRestarts: null });
    }
  });

  it('an unobserved socket says nothing', () => {
    expect(serverLossEvents(prev(100), observed(), sd(1), NOW)).toEqual([]);
  });
});
