// The planner with `supervisor: systemd` (src/plan/units.ts): the session plan
// carried out through units, plus the files gitfleet keeps, enabling for
// boot, and one server unit per socket. Pure: tmux and systemd observations
// are built in memory.
import { describe, expect, it } from 'vitest';
import type { AgentSpec, DesiredState } from '../../src/desired/types.js';
import type { SystemdObservation } from '../../src/observe/systemd.js';
import type { SocketObservation } from '../../src/observe/tmux.js';
import { specPath } from '../../src/paths.js';
import { agentsInScope } from '../../src/plan/scope.js';
import { plan } from '../../src/plan/plan.js';
import { ACTION_KINDS, type Action, type Plan } from '../../src/plan/types.js';
import { sha256 } from '../../src/hash.js';
import type { AgentRecord, StatusDoc } from '../../src/status/types.js';
import {
  agentTemplate,
  agentUnit,
  dropInPath,
  fleetFiles,
  holderTemplate,
  holderUnit,
} from '../../src/systemd/fleet-units.js';
import {
  agentRecord,
  dead,
  desired,
  desiredFrom,
  failedSocket,
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
  STATE_DIR,
  systemdMode,
  systemdSeen,
  UNIT_CTX,
  UNIT_DIR,
  unitState,
} from './builders.js';

// ---- helpers ------------------------------------------------------------------

/** Actions as `kind target reason`, the way a person reads a plan. */
const lines = (xs: Action[]): string[] => xs.map((a) => `${a.kind} ${a.target} ${a.reason}`);

const BAD_ROSTER = 'version: 2\nagents: []\n';
const HOLDER = holderUnit(FLEET, SOCKET); // gitfleet-lab-tmux@mosaic-factory.service
const HOLDER_TEMPLATE = `${UNIT_DIR}/${holderTemplate(FLEET)}`;
const AGENT_TEMPLATE = `${UNIT_DIR}/${agentTemplate(FLEET)}`;
const unitOf = (a: Pick<AgentSpec, 'session' | 'socket'>): string => agentUnit(FLEET, a);
const dropIn = (a: Pick<AgentSpec, 'session' | 'socket'>): string => dropInPath(UNIT_CTX, a);
const specFile = (a: Pick<AgentSpec, 'session' | 'socket'>): string => specPath(STATE_DIR, { fleet: FLEET, ...a });
const enabledIn = (d: DesiredState): AgentSpec[] => agentsInScope(d, context()).filter((a) => a.enabled);

/** plan() in systemd mode, gitfleet's files generated for the desired agents in scope. */
function planSd(
  d: DesiredState,
  obs: Map<string, SocketObservation>,
  seen: SystemdObservation,
  previous: StatusDoc | null = null,
  pruneConfirmed = false,
): Plan {
  return plan(
    planInput(d, obs, previous, { supervisor: systemdMode(seen, agentsInScope(d, context())) }),
    context({ pruneConfirmed }),
  );
}

/** The status record a previous run wrote for `a`: its pane had exited, its unit was active. */
const unitRecord = (a: AgentSpec): AgentRecord =>
  agentRecord(a, { unit: { name: agentUnit(FLEET, a), active: 'active', sub: 'exited', enabled: 'enabled' } });

/** Where an action's kind sits in ACTION_KINDS, the holder's start right after the enables. */
const rank = (a: Action) =>
  a.kind === 'start_unit' && a.apply.role === 'holder'
    ? ACTION_KINDS.indexOf('enable_unit') + 0.75
    : ACTION_KINDS.indexOf(a.kind) + (a.apply.role === 'holder' ? 0.5 : 0);

const NO_SESSION_KINDS = ['create_session', 'delete_session', 'restart_session'];

// ---- cold start -------------------------------------------------------------------

describe('systemd plan: cold start', () => {
  const d = desired(['zed', 'alpha']);
  const alpha = spec(d, 'alpha');
  const zed = spec(d, 'zed');
  const p = planSd(d, observed(socket(SOCKET, [])), systemdSeen());

  it('installs every file, reloads once, enables everything, starts the server unit, then the agents', () => {
    expect(lines(p.actions)).toEqual([
      `install_unit ${AGENT_TEMPLATE} file_missing`,
      `install_unit ${dropIn(alpha)} file_missing`,
      `install_unit ${dropIn(zed)} file_missing`,
      `install_unit ${HOLDER_TEMPLATE} file_missing`,
      `install_unit ${specFile(alpha)} file_missing`,
      `install_unit ${specFile(zed)} file_missing`,
      'reload_units systemd --user units_changed',
      'enable_unit gitfleet-lab-agent@alpha.mosaic-factory.service missing',
      'enable_unit gitfleet-lab-agent@zed.mosaic-factory.service missing',
      'enable_unit gitfleet-lab-tmux@mosaic-factory.service missing',
      'start_unit gitfleet-lab-tmux@mosaic-factory.service missing',
      'start_unit gitfleet-lab-agent@alpha.mosaic-factory.service missing',
      'start_unit gitfleet-lab-agent@zed.mosaic-factory.service missing',
    ]);
    expect(p.deferred).toEqual([]);
    expect(p.unobserved).toEqual([]);
  });

  it('plans no tmux session work at all: no holder session, no create_session', () => {
    expect(p.actions.filter((a) => NO_SESSION_KINDS.includes(a.kind))).toEqual([]);
    expect(p.actions.some((a) => a.apply.session === '_holder')).toBe(false);
  });

  it('on two sockets, every enable comes before every start, the servers first among the starts', () => {
    const two = desiredFrom({
      'rosters/a.yaml': rosterYaml(['a1', 'a2']),
      'rosters/b.yaml': rosterYaml(['b1'], { socket: 'other' }),
    });
    const p2 = planSd(two, observed(socket(SOCKET, []), socket('other', [])), systemdSeen());
    const units = p2.actions.filter((a) => a.kind === 'enable_unit' || a.kind === 'start_unit');
    // One enable phase and one start phase for apply: one systemctl call each (apply/apply.ts samePhase).
    expect(units.map((a) => `${a.kind} ${a.apply.role}`)).toEqual([
      ...Array(3).fill('enable_unit agent'),
      ...Array(2).fill('enable_unit holder'),
      ...Array(2).fill('start_unit holder'),
      ...Array(3).fill('start_unit agent'),
    ]);
    const first = p2.actions.indexOf(units[0]!);
    expect(p2.actions.slice(first)).toEqual(units);
  });

  it('orders actions as ACTION_KINDS, the server unit started before any agent unit', () => {
    const ranks = p.actions.map(rank);
    expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
    const startHolder = p.actions.findIndex((a) => a.kind === 'start_unit' && a.apply.role === 'holder');
    const firstAgentStart = p.actions.findIndex((a) => a.kind === 'start_unit' && a.apply.role === 'agent');
    const enableHolder = p.actions.findIndex((a) => a.kind === 'enable_unit' && a.apply.role === 'holder');
    expect(startHolder).toBeGreaterThan(enableHolder);
    expect(startHolder).toBeLessThan(firstAgentStart);
    expect(p.actions.findIndex((a) => a.kind === 'reload_units')).toBeLessThan(enableHolder);
  });

  it('install_unit says which file, what kind, and the sha256 of the content apply will write', () => {
    const files = fleetFiles(UNIT_CTX, [alpha, zed]);
    for (const a of p.actions.filter((x) => x.kind === 'install_unit')) {
      const f = files.get(a.target)!;
      expect(a.apply).toEqual({ file: f.path, sha256: sha256(f.content) });
      expect(a.detail).toEqual({ fileKind: f.kind });
    }
    expect(p.summary).toMatchObject({
      install_unit: 6,
      reload_units: 1,
      enable_unit: 3,
      start_unit: 3,
      create_session: 0,
      delete_session: 0,
      deferred: 0,
    });
  });

  it("an agent's start_unit carries what the session will run and its unit", () => {
    const start = p.actions.find((a) => a.kind === 'start_unit' && a.target === unitOf(alpha))!;
    expect(start).toEqual({
      kind: 'start_unit',
      target: 'gitfleet-lab-agent@alpha.mosaic-factory.service',
      reason: 'missing',
      apply: { socket: SOCKET, session: 'alpha', role: 'agent', unit: unitOf(alpha) },
      detail: { agent: 'alpha', specHash: alpha.specHash, argv: ['claude', '--yolo'], cwd: '/home/op', envKeys: [] },
    });
    const holderStart = p.actions.find((a) => a.kind === 'start_unit' && a.apply.role === 'holder')!;
    expect(holderStart.apply).toEqual({ socket: SOCKET, role: 'holder', unit: HOLDER });
    expect(holderStart.detail).toEqual({});
  });

  it('says which supervisor planned', () => {
    expect(p.supervisor).toEqual({ mode: 'systemd', reason: 'test', observed: true, error: null });
  });

  it('adopts sessions left running by tmux mode: units set up and started, no session touched', () => {
    const q = planSd(
      d,
      observed(socket(SOCKET, [pane('_holder', { fleet: FLEET, role: 'holder' }), running(alpha), running(zed)])),
      systemdSeen(),
    );
    expect(lines(q.actions).filter((l) => !l.startsWith('install_unit'))).toEqual([
      'reload_units systemd --user units_changed',
      'enable_unit gitfleet-lab-agent@alpha.mosaic-factory.service missing',
      'enable_unit gitfleet-lab-agent@zed.mosaic-factory.service missing',
      'enable_unit gitfleet-lab-tmux@mosaic-factory.service missing',
      'start_unit gitfleet-lab-tmux@mosaic-factory.service missing',
      'start_unit gitfleet-lab-agent@alpha.mosaic-factory.service unit_inactive',
      'start_unit gitfleet-lab-agent@zed.mosaic-factory.service unit_inactive',
    ]);
    expect(q.actions.filter((a) => a.kind === 'install_unit')).toHaveLength(6);
    expect(q.deferred).toEqual([]);
  });
});

// ---- converged ------------------------------------------------------------------------

describe('systemd plan: converged', () => {
  const d = desired(['a', 'b', { name: 'c', update: 'manual' }]);
  const up = () => observed(socket(SOCKET, [running(spec(d, 'a')), running(spec(d, 'b')), running(spec(d, 'c'))]));

  it('plans nothing when files, units and sessions are all as desired', () => {
    const p = planSd(d, up(), installed(d));
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
    expect(p.unobserved).toEqual([]);
    expect(Object.values(p.summary).every((n) => n === 0)).toBe(true);
  });

  it('a dead pane is respawned by tmux, not through its unit', () => {
    const p = planSd(
      d,
      observed(socket(SOCKET, [dead(spec(d, 'a'), 3), running(spec(d, 'b')), running(spec(d, 'c'))])),
      installed(d),
    );
    expect(lines(p.actions)).toEqual(['respawn_pane mosaic-factory/a pane_dead']);
  });

  it('the same input in other Map insertion orders gives the same plan', () => {
    const seen = installed(d, { units: [unitState(unitOf(spec(d, 'a')), { enabled: 'disabled' })] });
    const reversed: SystemdObservation = seen.ok
      ? {
          ...seen,
          units: new Map([...seen.units].reverse()),
          files: new Map([...seen.files].reverse()),
          found: [...seen.found].reverse(),
        }
      : seen;
    const p1 = planSd(d, up(), seen);
    const p2 = planSd(d, up(), reversed);
    expect(JSON.stringify(p2)).toBe(JSON.stringify(p1));
    expect(lines(p1.actions)).toEqual(['enable_unit gitfleet-lab-agent@a.mosaic-factory.service unit_disabled']);
  });
});

// ---- drift: enabling, files, units ------------------------------------------------------

describe('systemd plan: drift', () => {
  const d = desired(['a', 'b']);
  const a = spec(d, 'a');
  const b = spec(d, 'b');
  const up = () => observed(socket(SOCKET, [running(a), running(b)]));
  const files = () => onDisk(fleetFiles(UNIT_CTX, [a, b]).values());

  it('an agent unit disabled by hand (active, drop-in present) is enabled again, and nothing else', () => {
    const p = planSd(d, up(), installed(d, { units: [unitState(unitOf(a), { sub: 'exited', enabled: 'disabled' })] }));
    expect(p.actions).toEqual([
      {
        kind: 'enable_unit',
        target: unitOf(a),
        reason: 'unit_disabled',
        apply: { socket: SOCKET, session: 'a', role: 'agent', unit: unitOf(a) },
        detail: { agent: 'a' },
      },
    ]);
    expect(p.deferred).toEqual([]);
  });

  it('a server unit disabled by hand is enabled again', () => {
    const p = planSd(d, up(), installed(d, { units: [unitState(HOLDER, { enabled: 'disabled' })] }));
    expect(lines(p.actions)).toEqual([`enable_unit ${HOLDER} unit_disabled`]);
  });

  it('a unit enabled only until the next reboot (enabled-runtime) is enabled for good', () => {
    // Status calls it UnitNotEnabled ("the next apply enables it"): the plan must agree.
    const p = planSd(
      d,
      up(),
      installed(d, { units: [unitState(unitOf(a), { sub: 'exited', enabled: 'enabled-runtime' })] }),
    );
    expect(lines(p.actions)).toEqual([`enable_unit ${unitOf(a)} unit_disabled`]);
  });

  it('a changed unit file is rewritten, then the manager reloads once', () => {
    const onDiskNow = files();
    onDiskNow.set(AGENT_TEMPLATE, '# an older gitfleet wrote this\n');
    onDiskNow.set(dropIn(b), '# hand edited\n');
    const p = planSd(d, up(), installed(d, { files: onDiskNow }));
    expect(lines(p.actions)).toEqual([
      `install_unit ${AGENT_TEMPLATE} file_changed`,
      `install_unit ${dropIn(b)} file_changed`,
      'reload_units systemd --user units_changed',
    ]);
    expect(p.actions[0]!).toMatchObject({
      apply: { sha256: sha256(fleetFiles(UNIT_CTX, [a, b]).get(AGENT_TEMPLATE)!.content) },
      detail: { fileKind: 'unit' },
    });
  });

  it('a missing drop-in is written and reloaded, without re-enabling an enabled unit', () => {
    const onDiskNow = files();
    onDiskNow.delete(dropIn(a));
    const p = planSd(d, up(), installed(d, { files: onDiskNow }));
    expect(lines(p.actions)).toEqual([
      `install_unit ${dropIn(a)} file_missing`,
      'reload_units systemd --user units_changed',
    ]);
  });

  it('a changed spec file alone is rewritten with no daemon-reload', () => {
    const onDiskNow = files();
    onDiskNow.set(specFile(a), '{}\n');
    const p = planSd(d, up(), installed(d, { files: onDiskNow }));
    expect(lines(p.actions)).toEqual([`install_unit ${specFile(a)} file_changed`]);
    expect(p.actions[0]!.detail.fileKind).toBe('spec');
  });

  it('the session is gone while its unit is active: the unit is restarted', () => {
    const p = planSd(d, observed(socket(SOCKET, [running(b)])), installed(d));
    expect(lines(p.actions)).toEqual([`restart_unit ${unitOf(a)} session_missing`]);
    expect(p.actions[0]!).toMatchObject({
      apply: { socket: SOCKET, session: 'a', role: 'agent', unit: unitOf(a) },
      detail: { specHash: a.specHash },
    });
  });

  it('the session is gone and its unit failed: the unit is started', () => {
    const p = planSd(
      d,
      observed(socket(SOCKET, [running(b)])),
      installed(d, { units: [unitState(unitOf(a), { active: 'failed', sub: 'failed' })] }),
    );
    expect(lines(p.actions)).toEqual([`start_unit ${unitOf(a)} missing`]);
  });

  it('the session runs the desired spec while its unit is inactive: the unit starts (adopting the session)', () => {
    const p = planSd(d, up(), installed(d, { units: [unitState(unitOf(a), { active: 'inactive', sub: 'dead' })] }));
    expect(p.actions).toEqual([
      {
        kind: 'start_unit',
        target: unitOf(a),
        reason: 'unit_inactive',
        apply: { socket: SOCKET, session: 'a', role: 'agent', unit: unitOf(a) },
        detail: { agent: 'a' },
      },
    ]);
  });

  it('the server unit stopped: it is started before anything of its agents', () => {
    const p = planSd(
      d,
      observed(socket(SOCKET, [])),
      installed(d, {
        units: [
          unitState(HOLDER, { active: 'failed', sub: 'failed' }),
          unitState(unitOf(a), { active: 'inactive', sub: 'dead' }),
          unitState(unitOf(b), { active: 'inactive', sub: 'dead' }),
        ],
      }),
    );
    expect(lines(p.actions)).toEqual([
      `start_unit ${HOLDER} missing`,
      `start_unit ${unitOf(a)} missing`,
      `start_unit ${unitOf(b)} missing`,
    ]);
  });

  it('a dead pane whose unit is inactive is brought back once: not by a unit start and a respawn both', () => {
    // agent-start recreates a dead pane's session; a respawn-pane (no -k) after it fails on the live pane.
    const p = planSd(
      d,
      observed(socket(SOCKET, [dead(a, 1), running(b)])),
      installed(d, { units: [unitState(unitOf(a), { active: 'inactive', sub: 'dead' })] }),
    );
    const revive = p.actions.filter(
      (x) => x.apply.session === 'a' && ['start_unit', 'restart_unit', 'respawn_pane'].includes(x.kind),
    );
    expect(
      revive.map((x) => x.kind),
      lines(p.actions).join('\n'),
    ).toHaveLength(1);
  });

  it('a dead pane in crash-loop backoff is not recreated through its inactive unit before the backoff ends', () => {
    const prev = previousStatus(
      [{ ...unitRecord(a), backoff: { streak: 3, lastRestart: NOW.toISOString() } }],
      [socketRecord(SOCKET)],
    );
    const p = planSd(
      d,
      observed(socket(SOCKET, [dead(a, 1), running(b)])),
      installed(d, { units: [unitState(unitOf(a), { active: 'inactive', sub: 'dead' })] }),
      prev,
    );
    expect(lines(p.deferred)).toEqual([`respawn_pane ${SOCKET}/a crash_loop_backoff`]);
    expect(
      p.actions.filter((x) => x.apply.session === 'a'),
      lines(p.actions).join('\n'),
    ).toEqual([]);
  });

  it("an agent whose name another fleet's session holds gets no unit work, but the others do", () => {
    const p = planSd(
      d,
      observed(socket(SOCKET, [running(a), pane('b', { fleet: 'other', spec: 'x' })])),
      systemdSeen(),
    );
    expect(p.actions.some((x) => x.target.includes('@b.') || x.target === dropIn(b) || x.target === specFile(b))).toBe(
      false,
    );
    expect(lines(p.actions).filter((l) => !l.startsWith('install_unit'))).toEqual([
      'reload_units systemd --user units_changed',
      `enable_unit ${unitOf(a)} missing`,
      `enable_unit ${HOLDER} missing`,
      `start_unit ${HOLDER} missing`,
      `start_unit ${unitOf(a)} unit_inactive`,
    ]);
  });
});

// ---- spec changes ----------------------------------------------------------------------

describe('systemd plan: spec changes', () => {
  const before = desired([
    { name: 'r', update: 'recreate', env: { MODE: 'old' } },
    { name: 'i', env: { MODE: 'old' } },
    { name: 'm', update: 'manual', env: { MODE: 'old' } },
  ]);
  const after = desired([
    { name: 'r', update: 'recreate', env: { MODE: 'new' } },
    { name: 'i', env: { MODE: 'new' } },
    { name: 'm', update: 'manual', env: { MODE: 'new' } },
  ]);
  const old = (n: string) => spec(before, n);
  const now = (n: string) => spec(after, n);
  // The host as the last apply left it: the old specs run and are on disk.
  const seen = () => installed(after, { files: onDisk(fleetFiles(UNIT_CTX, enabledIn(before)).values()) });
  const runsOld = () => observed(socket(SOCKET, [running(old('r')), running(old('i')), running(old('m'))]));

  it('the specs differ (else this tests nothing)', () => {
    for (const n of ['r', 'i', 'm']) expect(now(n).specHash).not.toBe(old(n).specHash);
  });

  it('update: recreate rewrites the spec file, then restarts the unit', () => {
    const p = planSd(after, runsOld(), seen());
    expect(lines(p.actions)).toEqual([
      `install_unit ${specFile(now('r'))} file_changed`,
      `restart_unit ${unitOf(now('r'))} spec_changed`,
    ]);
    const [install, restart] = p.actions;
    expect(install!.apply).toEqual({
      file: specFile(now('r')),
      sha256: sha256(fleetFiles(UNIT_CTX, [now('r')]).get(specFile(now('r')))!.content),
    });
    expect(install!.detail).toEqual({ fileKind: 'spec' });
    expect(restart!).toMatchObject({
      apply: { socket: SOCKET, session: 'r', role: 'agent', unit: unitOf(now('r')) },
      detail: {
        agent: 'r',
        specHash: now('r').specHash,
        runningSpec: old('r').specHash,
        changes: [{ field: 'env.MODE', old: 'old', new: 'new' }],
      },
    });
  });

  it('update: on-idle and manual defer the restart, the spec file left alone (a reboot brings back what runs)', () => {
    const p = planSd(after, runsOld(), seen());
    expect(p.actions.some((a) => a.target === specFile(now('i')) || a.target === specFile(now('m')))).toBe(false);
    expect(lines(p.deferred)).toEqual([
      `restart_unit ${unitOf(now('i'))} update_on_idle`,
      `restart_unit ${unitOf(now('m'))} update_manual`,
    ]);
    expect(p.deferred[0]!).toMatchObject({
      apply: { socket: SOCKET, session: 'i', unit: unitOf(now('i')) },
      detail: {
        specHash: now('i').specHash,
        runningSpec: old('i').specHash,
        changes: [{ field: 'env.MODE', old: 'old', new: 'new' }],
      },
    });
    expect(p.summary.deferred).toBe(2);
  });

  it('update: on-idle restarts through the unit (spec file first) once the agent is idle', () => {
    const quiet = Math.floor(NOW.getTime() / 1000) - 3600; // no pane output for an hour
    const p = planSd(
      after,
      observed(
        socket(SOCKET, [
          running(old('r')),
          running(old('i'), { activity: quiet }),
          running(old('m'), { activity: quiet }),
        ]),
      ),
      seen(),
    );
    expect(lines(p.actions)).toEqual([
      `install_unit ${specFile(now('i'))} file_changed`,
      `install_unit ${specFile(now('r'))} file_changed`,
      `restart_unit ${unitOf(now('i'))} spec_changed`,
      `restart_unit ${unitOf(now('r'))} spec_changed`,
    ]);
    expect(lines(p.deferred)).toEqual([`restart_unit ${unitOf(now('m'))} update_manual`]);
  });

  it('a dead pane with a changed spec is restarted through its unit whatever the policy', () => {
    const p = planSd(after, observed(socket(SOCKET, [running(old('r')), dead(old('i')), running(old('m'))])), seen());
    expect(lines(p.actions)).toEqual([
      `install_unit ${specFile(now('i'))} file_changed`,
      `install_unit ${specFile(now('r'))} file_changed`,
      `restart_unit ${unitOf(now('i'))} spec_changed`,
      `restart_unit ${unitOf(now('r'))} spec_changed`,
    ]);
    expect(lines(p.deferred)).toEqual([`restart_unit ${unitOf(now('m'))} update_manual`]);
  });
});

// ---- prune ---------------------------------------------------------------------------

describe('systemd plan: prune', () => {
  const d = desired(['a']);
  const a = spec(d, 'a');
  const OLD = agentUnit(FLEET, { session: 'old', socket: SOCKET });
  const oldSession = () => pane('old', { fleet: FLEET, role: 'agent', agent: 'old', spec: 'deadbeef' });
  const withOld = (dd: DesiredState) =>
    installed(dd, { units: [unitState(OLD, { sub: 'exited' })], extraFound: [OLD] });
  const removeFiles = [dropIn({ session: 'old', socket: SOCKET }), specFile({ session: 'old', socket: SOCKET })];

  it('an agent gone from the roster: its unit is stopped, disabled and its files removed, then one reload', () => {
    const p = planSd(d, observed(socket(SOCKET, [running(a), oldSession()])), withOld(d));
    expect(p.actions).toEqual([
      {
        kind: 'stop_unit',
        target: OLD,
        reason: 'not_in_roster',
        apply: { socket: SOCKET, session: 'old', role: 'agent', killSession: true, unit: OLD, removeFiles },
        detail: { agent: 'old' },
      },
      { kind: 'reload_units', target: 'systemd --user', reason: 'units_changed', apply: {}, detail: {} },
    ]);
    expect(removeFiles).toEqual([
      `${UNIT_DIR}/gitfleet-lab-agent@old.mosaic-factory.service.d/gitfleet.conf`,
      `${STATE_DIR}/specs/lab/mosaic-factory/old.json`,
    ]);
  });

  it('... also when its session is already gone (the unit is found on disk)', () => {
    const p = planSd(d, observed(socket(SOCKET, [running(a)])), installed(d, { extraFound: [OLD] }));
    expect(lines(p.actions)).toEqual([`stop_unit ${OLD} not_in_roster`, 'reload_units systemd --user units_changed']);
    // No session of ours under that name: the stop kills none.
    expect(p.actions[0]!.apply).toEqual({
      socket: SOCKET,
      session: 'old',
      role: 'agent',
      killSession: false,
      unit: OLD,
      removeFiles,
    });
    expect(p.actions[0]!.detail).toEqual({});
  });

  it("a session someone else started under the removed agent's name is never killed by the unit's stop", () => {
    const p = planSd(
      d,
      observed(socket(SOCKET, [running(a), pane('old', { currentCommand: 'vim' })])),
      installed(d, { extraFound: [OLD] }),
    );
    expect(lines(p.actions)).toEqual([`stop_unit ${OLD} not_in_roster`, 'reload_units systemd --user units_changed']);
    expect(p.actions[0]!.apply.killSession).toBe(false);
  });

  it('a tagged session with no unit left is deleted as a session', () => {
    const p = planSd(d, observed(socket(SOCKET, [running(a), oldSession()])), installed(d));
    expect(lines(p.actions)).toEqual([`delete_session ${SOCKET}/old not_in_roster`]);
  });

  it('an invalid desired file defers the stop with prune_blocked_by_invalid_files, and reloads nothing', () => {
    const dd = desiredFrom({ 'rosters/agents.yaml': rosterYaml(['a']), 'rosters/broken.yaml': BAD_ROSTER });
    expect(dd.problems.length).toBeGreaterThan(0);
    const withSession = planSd(dd, observed(socket(SOCKET, [running(spec(dd, 'a')), oldSession()])), withOld(dd));
    expect(withSession.actions).toEqual([]);
    expect(lines(withSession.deferred)).toEqual([`stop_unit ${OLD} prune_blocked_by_invalid_files`]);
    expect(withSession.deferred[0]!.apply.removeFiles).toEqual(removeFiles);
    const unitOnly = planSd(dd, observed(socket(SOCKET, [running(spec(dd, 'a'))])), withOld(dd));
    expect(unitOnly.actions).toEqual([]);
    expect(lines(unitOnly.deferred)).toEqual([`stop_unit ${OLD} prune_blocked_by_invalid_files`]);
  });

  it('reconcile.prune: false defers the stop with prune_disabled', () => {
    const dd = desired(['a'], {}, 'reconcile: {prune: false}\n');
    const p = planSd(dd, observed(socket(SOCKET, [running(spec(dd, 'a'))])), withOld(dd));
    expect(p.actions).toEqual([]);
    expect(lines(p.deferred)).toEqual([`stop_unit ${OLD} prune_disabled`]);
  });

  it('enabled: false stops the unit with reason disabled, even while pruning is blocked', () => {
    const dd = desiredFrom({
      'rosters/agents.yaml': rosterYaml(['a', { name: 'off', enabled: false }]),
      'rosters/broken.yaml': BAD_ROSTER,
    });
    const off = spec(dd, 'off');
    const OFF = unitOf(off);
    const seen = installed(dd, { units: [unitState(OFF, { sub: 'exited' })], extraFound: [OFF] });
    const offRemoves = [dropIn(off), specFile(off)];
    // its session still runs
    const p = planSd(dd, observed(socket(SOCKET, [running(spec(dd, 'a')), running(off)])), seen);
    expect(p.actions).toEqual([
      {
        kind: 'stop_unit',
        target: OFF,
        reason: 'disabled',
        apply: { socket: SOCKET, session: 'off', role: 'agent', killSession: true, unit: OFF, removeFiles: offRemoves },
        detail: { agent: 'off' },
      },
      { kind: 'reload_units', target: 'systemd --user', reason: 'units_changed', apply: {}, detail: {} },
    ]);
    expect(p.deferred).toEqual([]);
    // its session is gone, the unit is still enabled
    const q = planSd(dd, observed(socket(SOCKET, [running(spec(dd, 'a'))])), seen);
    expect(q.actions).toEqual([
      { ...p.actions[0]!, apply: { ...p.actions[0]!.apply, killSession: false } },
      p.actions[1],
    ]);
    expect(q.deferred).toEqual([]);
  });

  it('a unit neither active, enabled nor found on disk is left alone', () => {
    const p = planSd(
      d,
      observed(socket(SOCKET, [running(a)])),
      installed(d, { units: [unitState(OLD, { load: 'not-found', active: 'inactive', sub: 'dead', enabled: '' })] }),
    );
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
  });

  it("another fleet's units are never stopped", () => {
    const theirs = [
      'gitfleet-lab-b-agent@x.mosaic-factory.service',
      'gitfleet-other-agent@old.mosaic-factory.service',
      'gitfleet-other-tmux@mosaic-factory.service',
    ];
    const p = planSd(
      d,
      observed(socket(SOCKET, [running(a)])),
      installed(d, { units: theirs.map((u) => unitState(u)), extraFound: theirs }),
    );
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
  });
});

describe('systemd plan: a socket with no agents left', () => {
  // s2 was managed at the last run; every roster has left it.
  const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a'], { socket: 's1' }) });
  const a = spec(d, 'a');
  const S2 = holderUnit(FLEET, 's2');
  const Z = agentUnit(FLEET, { session: 'z', socket: 's2' });
  const prev = previousStatus([], [socketRecord('s1'), socketRecord('s2')]);
  const seen = (o: { found?: string[] } = {}) =>
    installed(d, { units: [unitState(S2), unitState(Z, { sub: 'exited' })], extraFound: [S2, ...(o.found ?? [])] });

  it('stops its server unit, after the agent units on it (once confirmed: it is every agent of s2)', () => {
    const obs = observed(
      socket('s1', [running(a)]),
      socket('s2', [pane('z', { fleet: FLEET, role: 'agent', agent: 'z' })]),
    );
    const held = planSd(d, obs, seen({ found: [Z] }), prev);
    expect(lines(held.deferred)).toEqual([`stop_unit ${Z} prune_held`, `stop_unit ${S2} prune_held`]);
    expect(held.pruneHeld.map((h) => h.socket)).toEqual(['s2']);
    const p = planSd(d, obs, seen({ found: [Z] }), prev, true);
    expect(lines(p.actions)).toEqual([
      `stop_unit ${Z} not_in_roster`,
      `stop_unit ${S2} not_in_roster`,
      'reload_units systemd --user units_changed',
    ]);
    expect(p.actions[1]!.apply).toEqual({ socket: 's2', role: 'holder', unit: S2 });
    expect(p.actions[1]!.detail).toEqual({});
  });

  it('stops the server unit of an empty socket (no reload: no unit file changed)', () => {
    const p = planSd(
      d,
      observed(socket('s1', [running(a)]), socket('s2', [])),
      installed(d, { units: [unitState(S2)], extraFound: [S2] }),
      prev,
    );
    expect(lines(p.actions)).toEqual([`stop_unit ${S2} not_in_roster`]);
  });

  it('defers the stop with unmanaged_sessions while a session this fleet does not own runs on the socket', () => {
    for (const other of [pane('by-hand'), pane('theirs', { fleet: 'other', role: 'agent' })]) {
      const p = planSd(
        d,
        observed(socket('s1', [running(a)]), socket('s2', [other])),
        installed(d, { units: [unitState(S2)], extraFound: [S2] }),
        prev,
      );
      expect(p.actions).toEqual([]);
      expect(lines(p.deferred)).toEqual([`stop_unit ${S2} unmanaged_sessions`]);
    }
  });

  it('an invalid desired file keeps the server unit too', () => {
    const dd = desiredFrom({
      'rosters/a.yaml': rosterYaml(['a'], { socket: 's1' }),
      'rosters/broken.yaml': BAD_ROSTER,
    });
    const p = planSd(
      dd,
      observed(socket('s1', [running(spec(dd, 'a'))]), socket('s2', [])),
      installed(dd, { units: [unitState(S2)], extraFound: [S2] }),
      prev,
    );
    expect(p.actions).toEqual([]);
    expect(lines(p.deferred)).toEqual([`stop_unit ${S2} prune_blocked_by_invalid_files`]);
  });

  it('a server unit already stopped and disabled needs nothing', () => {
    const p = planSd(
      d,
      observed(socket('s1', [running(a)]), socket('s2', [])),
      installed(d, { units: [unitState(S2, { active: 'inactive', sub: 'dead', enabled: 'disabled' })] }),
      prev,
    );
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
  });

  it('a holder session left by tmux mode is deleted when no agent and no server unit is left on the socket', () => {
    const p = planSd(
      d,
      observed(socket('s1', [running(a)]), socket('s2', [pane('_holder', { fleet: FLEET, role: 'holder' })])),
      installed(d),
      prev,
    );
    expect(lines(p.actions)).toEqual(['delete_session s2/_holder not_in_roster']);
  });

  it('every agent of the only socket disabled: agent and server units are stopped, templates stay', () => {
    const dd = desired([{ name: 'a', enabled: false }]);
    const A = unitOf(spec(dd, 'a'));
    const seenNow = systemdSeen({
      units: [unitState(A, { sub: 'exited' }), unitState(HOLDER)],
      found: [A, HOLDER],
      files: onDisk(fleetFiles(UNIT_CTX, [spec(d, 'a')]).values()),
    });
    const p = planSd(dd, observed(socket(SOCKET, [running(spec(dd, 'a'))])), seenNow);
    expect(lines(p.actions)).toEqual([
      `stop_unit ${A} disabled`,
      `stop_unit ${HOLDER} not_in_roster`,
      'reload_units systemd --user units_changed',
    ]);
  });
});

// ---- observation failures -------------------------------------------------------------

describe('systemd plan: the user manager could not be observed', () => {
  const d = desired(['a', 'b', 'c']);
  const a = spec(d, 'a');
  const c = spec(d, 'c');
  const down: SystemdObservation = { ok: false, error: 'Failed to connect to bus: No medium found', unreachable: true };
  const p = planSd(
    d,
    observed(socket(SOCKET, [running(a), dead(c, 1), pane('old', { fleet: FLEET, role: 'agent', agent: 'old' })])),
    down,
  );

  it('plans no unit work and starts or stops no session: those wait, with reason supervisor_unobserved', () => {
    expect(p.actions.filter((x) => x.kind !== 'respawn_pane')).toEqual([]);
    expect(lines(p.deferred)).toEqual([
      `delete_session ${SOCKET}/old supervisor_unobserved`,
      `create_session ${SOCKET}/b supervisor_unobserved`,
    ]);
    expect(p.deferred.some((x) => x.apply.role === 'holder')).toBe(false);
  });

  it('a dead pane is still respawned (tmux keeps the session; no unit involved)', () => {
    expect(lines(p.actions)).toEqual([`respawn_pane ${SOCKET}/c pane_dead`]);
  });

  it('says the supervisor was not observed, and why', () => {
    expect(p.supervisor).toEqual({
      mode: 'systemd',
      reason: 'test',
      observed: false,
      error: 'Failed to connect to bus: No medium found',
    });
  });

  it('a recreate spec change waits too', () => {
    const before = desired([{ name: 'r', update: 'recreate', env: { V: '1' } }]);
    const after = desired([{ name: 'r', update: 'recreate', env: { V: '2' } }]);
    const q = planSd(after, observed(socket(SOCKET, [running(spec(before, 'r'))])), down);
    expect(q.actions).toEqual([]);
    expect(lines(q.deferred)).toEqual([`restart_session ${SOCKET}/r supervisor_unobserved`]);
  });
});

describe('systemd plan: an unobserved tmux socket', () => {
  const d = desiredFrom({
    'rosters/a.yaml': rosterYaml(['a'], { socket: 's1' }),
    'rosters/b.yaml': rosterYaml(['b'], { socket: 's2' }),
  });
  const a = spec(d, 'a');
  const b = spec(d, 'b');

  it('plans nothing for it, and the rest as usual', () => {
    const p = planSd(d, observed(failedSocket('s1', 'tmux: permission denied'), socket('s2', [])), systemdSeen());
    expect(p.unobserved).toEqual([{ socket: 's1', error: 'tmux: permission denied' }]);
    const s1Targets = [unitOf(a), holderUnit(FLEET, 's1'), dropIn(a), specFile(a)];
    expect(p.actions.filter((x) => s1Targets.includes(x.target) || x.apply.socket === 's1')).toEqual([]);
    expect(lines(p.actions).filter((l) => !l.startsWith('install_unit'))).toEqual([
      'reload_units systemd --user units_changed',
      `enable_unit ${unitOf(b)} missing`,
      `enable_unit ${holderUnit(FLEET, 's2')} missing`,
      `start_unit ${holderUnit(FLEET, 's2')} missing`,
      `start_unit ${unitOf(b)} missing`,
    ]);
    expect(
      p.actions
        .filter((x) => x.kind === 'install_unit')
        .map((x) => x.target)
        .sort(),
    ).toEqual([AGENT_TEMPLATE, HOLDER_TEMPLATE, dropIn(b), specFile(b)].sort());
  });

  it('never stops a unit on it, even one no roster wants any more', () => {
    const GONE = agentUnit(FLEET, { session: 'gone', socket: 's1' });
    const p = planSd(
      d,
      observed(failedSocket('s1', 'tmux: permission denied'), socket('s2', [running(b)])),
      installed(d, { units: [unitState(GONE, { sub: 'exited' })], extraFound: [GONE] }),
      previousStatus([], [socketRecord('s1'), socketRecord('s2')]),
    );
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
  });

  it('with its only socket unobserved, not even the templates are written', () => {
    const only = desired(['a']);
    const p = planSd(only, observed(failedSocket(SOCKET, 'boom')), systemdSeen());
    expect(p.actions).toEqual([]);
    expect(p.deferred).toEqual([]);
    expect(p.unobserved).toEqual([{ socket: SOCKET, error: 'boom' }]);
  });
});
