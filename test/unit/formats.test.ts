// The external JSON formats (docs/formats.md): plan --json, apply --json,
// status/<host>.json and ps --json. Each renderer is checked against a golden
// shape (every key with its JSON type), so a renamed internal field cannot
// change what consumers read without this file changing too.
import { describe, expect, it } from 'vitest';
import type { ActionResult } from '../../src/apply/types.js';
import { ACTION_KINDS, type Action, type ActionKind, type Plan } from '../../src/plan/types.js';
import type { PsResult } from '../../src/ps.js';
import { APPLY_FORMAT_VERSION, renderApplyJson } from '../../src/report/apply-json.js';
import { PLAN_FORMAT_VERSION, renderPlanJson } from '../../src/report/plan-json.js';
import { PS_FORMAT_VERSION, renderPsJson } from '../../src/report/ps-json.js';
import {
  renderStatusJson,
  STATUS_FORMAT_VERSION,
  type StatusJson,
  statusFileText,
} from '../../src/report/status-json.js';
import { NotAStatus, parseStatusJson } from '../../src/status/read.js';
import type { AgentRecord, StatusDoc } from '../../src/status/types.js';

/** An action written flat, as `plan --json` shows it; split here into what apply reads and what is shown. */
const APPLY_KEYS = ['socket', 'session', 'role', 'unit', 'file', 'sha256', 'killSession', 'watchers', 'removeFiles'];
function action(a: Omit<Action, 'apply' | 'detail'> & { detail: Record<string, unknown> }): Action {
  const pick = (apply: boolean) =>
    Object.fromEntries(Object.entries(a.detail).filter(([k]) => APPLY_KEYS.includes(k) === apply));
  return { kind: a.kind, target: a.target, reason: a.reason, apply: pick(true), detail: pick(false) } as Action;
}

// ---- samples: every optional field present somewhere, nullable fields both null and set ----

const T0 = '2026-03-01T12:00:00.000Z';
const problem = { file: 'rosters/a.yaml', line: 3, col: 5, message: 'agents[0].runtime: unknown runtime "x"' };

const create = action({
  kind: 'create_session',
  target: 'lab/coder',
  reason: 'missing',
  detail: {
    socket: 'lab',
    session: 'coder',
    agent: 'coder',
    role: 'agent',
    specHash: 'sha-1',
    argv: ['claude', '--token', '***'],
    cwd: '/home/op/src',
    envKeys: ['TOKEN'],
  },
});
const restart = action({
  kind: 'restart_session',
  target: 'lab/idler',
  reason: 'spec_changed',
  detail: {
    socket: 'lab',
    session: 'idler',
    runningSpec: 'sha-0',
    changes: [
      { field: 'env.API_TOKEN', old: { masked: true }, new: { masked: true } },
      { field: 'env.MOOD', old: 'calm', new: 'stormy' },
      { field: 'env.X', old: null, new: '1' },
    ],
    idle: 'idle: no pane output for 900 s',
    watchers: ['w'],
  },
});
const respawn = action({
  kind: 'respawn_pane',
  target: 'lab/crashy',
  reason: 'pane_dead',
  detail: { socket: 'lab', session: 'crashy', agent: 'crashy', exitStatus: null, streak: 0 },
});
const install = action({
  kind: 'install_unit',
  target: 'units/gitfleet-lab-agent@.service',
  reason: 'file_missing',
  detail: {
    unit: 'gitfleet-lab-agent@.service',
    file: '/u/gitfleet-lab-agent@.service',
    fileKind: 'unit',
    sha256: 'ab',
  },
});
const stop = action({
  kind: 'stop_unit',
  target: 'lab/old',
  reason: 'not_in_roster',
  detail: {
    socket: 'lab',
    session: 'old',
    role: 'holder',
    unit: 'gitfleet-lab-tmux@lab.service',
    killSession: true,
    removeFiles: ['/u/x'],
  },
});
const backingOff = action({
  kind: 'respawn_pane',
  target: 'lab/looper',
  reason: 'crash_loop_backoff',
  detail: { socket: 'lab', session: 'looper', exitStatus: 1, streak: 3, notBefore: T0 },
});
const onIdle = action({
  kind: 'restart_session',
  target: 'lab/busy',
  reason: 'update_on_idle',
  detail: { socket: 'lab', session: 'busy', runningSpec: null, changes: null, waiting: 'busy (heartbeat)' },
});

const summary = Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Record<ActionKind, number>;
const held = {
  socket: 'lab',
  deletes: 2,
  running: 2,
  agents: ['a', 'b'],
  message: 'held until revision abc is confirmed',
};

const PLAN: Plan = {
  formatVersion: 1,
  fleet: 'lab',
  host: 'box1',
  desiredRevision: 'rev-1',
  actions: [create, restart, respawn, install, stop],
  deferred: [backingOff, onIdle],
  unobserved: [{ socket: 'gone', error: 'tmux: permission denied' }],
  supervisor: { mode: 'systemd', reason: 'fleet.yaml: supervisor: systemd', observed: false, error: 'no bus' },
  summary: {
    ...summary,
    create_session: 1,
    restart_session: 1,
    respawn_pane: 1,
    install_unit: 1,
    stop_unit: 1,
    deferred: 2,
  },
  errors: [problem],
  pruneHeld: [held],
};

const condition = {
  type: 'Ready' as const,
  status: 'True' as const,
  reason: 'Running' as const,
  message: 'the pane runs the agent',
  lastTransitionTime: T0,
};

const AGENT: AgentRecord = {
  name: 'coder',
  host: 'box1',
  tenant_id: 'op',
  socket: 'lab',
  runtime: 'claude',
  source: 'rosters/a.yaml:4',
  enabled: true,
  specHash: 'sha-1',
  session: { name: 'coder', alive: true, pid: 4242, command: 'claude', exitStatus: null, spec: 'sha-1' },
  heartbeat: { intervalSeconds: 30, health: 'healthy' },
  unit: { name: 'gitfleet-lab-agent@coder.lab.service', active: 'active', sub: 'running', enabled: 'enabled' },
  restarts: 2,
  backoff: { streak: 1, lastRestart: T0 },
  conditions: [condition],
};
const QUIET: AgentRecord = {
  ...AGENT,
  name: 'quiet',
  enabled: false,
  session: { name: 'quiet', alive: false, pid: null, command: null, exitStatus: 1, spec: null },
  heartbeat: null,
  unit: null,
  backoff: null,
  conditions: [{ ...condition, status: 'False', reason: 'Disabled', message: 'enabled: false' }],
};

/** Keys in the order status/build.ts writes them: the file's bytes must not change. */
const STATUS: StatusDoc = {
  formatVersion: 1,
  fleet: 'lab',
  host: 'box1',
  tenant_id: 'op',
  desiredRevision: 'rev-1',
  converged: false,
  progressing: true,
  summary: { agents: 2, ready: 1, notReady: 0, disabled: 1, unmanaged: 1, errors: 1 },
  supervisor: {
    mode: 'systemd',
    reason: 'auto: a user manager answers',
    observed: true,
    error: null,
    linger: false,
    lingerFix: 'loginctl enable-linger op',
  },
  agents: [AGENT, QUIET],
  sockets: [
    {
      name: 'lab',
      observed: true,
      error: null,
      serverRunning: true,
      serverPid: 4242,
      holder: '_holder',
      unit: {
        name: 'gitfleet-lab-tmux@lab.service',
        active: 'active',
        sub: 'running',
        enabled: 'enabled',
        restarts: 0,
      },
    },
    {
      name: 'gone',
      observed: false,
      error: 'tmux: permission denied',
      serverRunning: false,
      serverPid: null,
      holder: '',
      unit: null,
    },
  ],
  unmanaged: [{ socket: 'lab', session: 'by-hand', command: 'sleep', fleet: null }],
  files: [
    { path: 'fleet.yaml', blob: null, valid: true, usingLastKnownGood: false, problems: [] },
    { path: 'rosters/a.yaml', blob: 'b10b', valid: false, usingLastKnownGood: true, problems: [problem] },
  ],
  errors: [problem],
  pruneHeld: [held],
};

const RESULTS: ActionResult[] = [
  {
    action: create,
    ok: true,
    error: null,
    startedAt: T0,
    finishedAt: '2026-03-01T12:00:01.250Z',
    command: ['tmux', 'new-session'],
  },
  { action: respawn, ok: false, error: 'tmux: no such session', startedAt: T0, finishedAt: T0, command: [] },
];

const PS: PsResult = {
  formatVersion: 1,
  fleet: 'lab',
  host: 'box1',
  supervisor: STATUS.supervisor,
  agents: [
    {
      name: 'coder',
      host: 'box1',
      tenant_id: 'op',
      socket: 'lab',
      session: 'coder',
      runtime: 'claude',
      source: { kind: 'live' },
      ready: 'True',
      reason: 'Running',
      state: 'Ready',
      pane: { alive: true, pid: 4242, command: 'claude', exitStatus: null },
      unit: { name: 'gitfleet-lab-agent@coder.lab.service', active: 'active', enabled: 'enabled' },
      idleSeconds: 12,
      heartbeat: { health: 'healthy', ageSeconds: 3, status: 'ok' },
      flags: [],
    },
    {
      name: 'far',
      host: 'box2',
      tenant_id: 'op',
      socket: 'lab',
      session: 'far',
      runtime: 'claude',
      source: { kind: 'status', commit: 'c0ffee', desiredRevision: 'rev-0' },
      ready: 'False',
      reason: 'PaneDead',
      state: 'CrashLoopBackOff',
      pane: { alive: false, pid: null, command: null, exitStatus: 2 },
      unit: null,
      idleSeconds: null,
      heartbeat: null,
      flags: ['disabled'],
    },
  ],
  unmanaged: [
    { host: 'box1', tenant_id: 'op', socket: 'lab', session: 'by-hand', command: 'sleep', flags: ['unmanaged'] },
  ],
};

// Second samples: the other side of each nullable field.
const PLAN_TMUX: Plan = {
  ...PLAN,
  actions: [],
  deferred: [],
  unobserved: [],
  supervisor: { mode: 'tmux', reason: 'fleet.yaml: supervisor: tmux', observed: true, error: null },
  errors: [],
  pruneHeld: [],
};
const STATUS_TMUX: StatusDoc = {
  ...STATUS,
  supervisor: {
    mode: 'tmux',
    reason: 'auto: no user manager',
    observed: false,
    error: 'no bus',
    linger: null,
    lingerFix: null,
  },
  sockets: [{ ...STATUS.sockets[0]!, unit: { ...STATUS.sockets[0]!.unit!, restarts: null } }],
  unmanaged: [{ socket: 'lab', session: 'theirs', command: 'claude', fleet: 'other' }],
};

// ---- shapes ----

/** Every path of the JSON values (arrays as `[]`) with the JSON types seen there, over all the values given. */
function shapeOf(...values: unknown[]): Record<string, string> {
  const types = new Map<string, Set<string>>();
  const walk = (v: unknown, at: string) => {
    const t = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
    if (at) types.set(at, (types.get(at) ?? new Set()).add(t));
    if (Array.isArray(v)) for (const x of v) walk(x, `${at}[]`);
    else if (t === 'object') for (const [k, x] of Object.entries(v as object)) walk(x, at ? `${at}.${k}` : k);
  };
  for (const v of values) walk(JSON.parse(JSON.stringify(v)), '');
  return Object.fromEntries(
    [...types].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, s]) => [k, [...s].sort().join('|')]),
  );
}

/** `shape` moved under `prefix` (a key, or a key and `[]`). */
const under = (prefix: string, shape: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(shape).map(([k, t]) => [`${prefix}.${k}`, t]));

/** The shape without what lies under the given keys' items. */
const without = (shape: Record<string, string>, ...keys: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(shape).filter(([k]) => !keys.some((p) => k.startsWith(`${p}[].`))));

const PROBLEM = { col: 'number', file: 'string', line: 'number', message: 'string' };
const HELD_PRUNE = {
  agents: 'array',
  'agents[]': 'string',
  deletes: 'number',
  message: 'string',
  running: 'number',
  socket: 'string',
};
const UNIT = { active: 'string', enabled: 'string', name: 'string', sub: 'string' };

/** One action, planned or deferred: `detail` keys appear only for the kinds they describe. */
const ACTION_SHAPE = {
  detail: 'object',
  'detail.agent': 'string',
  'detail.argv': 'array',
  'detail.argv[]': 'string',
  'detail.changes': 'array|null',
  'detail.changes[]': 'object',
  'detail.changes[].field': 'string',
  'detail.changes[].new': 'object|string',
  'detail.changes[].new.masked': 'boolean',
  'detail.changes[].old': 'null|object|string',
  'detail.changes[].old.masked': 'boolean',
  'detail.cwd': 'string',
  'detail.envKeys': 'array',
  'detail.envKeys[]': 'string',
  'detail.exitStatus': 'null|number',
  'detail.file': 'string',
  'detail.fileKind': 'string',
  'detail.idle': 'string',
  'detail.killSession': 'boolean',
  'detail.notBefore': 'string',
  'detail.removeFiles': 'array',
  'detail.removeFiles[]': 'string',
  'detail.role': 'string',
  'detail.runningSpec': 'null|string',
  'detail.session': 'string',
  'detail.sha256': 'string',
  'detail.socket': 'string',
  'detail.specHash': 'string',
  'detail.streak': 'number',
  'detail.unit': 'string',
  'detail.waiting': 'string',
  'detail.watchers': 'array',
  'detail.watchers[]': 'string',
  kind: 'string',
  reason: 'string',
  target: 'string',
};

const PLAN_SHAPE = {
  actions: 'array',
  'actions[]': 'object',
  deferred: 'array',
  'deferred[]': 'object',
  desiredRevision: 'string',
  errors: 'array',
  'errors[]': 'object',
  ...under('errors[]', PROBLEM),
  fleet: 'string',
  formatVersion: 'number',
  host: 'string',
  pruneHeld: 'array',
  'pruneHeld[]': 'object',
  ...under('pruneHeld[]', HELD_PRUNE),
  summary: 'object',
  ...Object.fromEntries([...ACTION_KINDS, 'deferred'].map((k) => [`summary.${k}`, 'number'])),
  supervisor: 'object',
  'supervisor.error': 'null|string',
  'supervisor.mode': 'string',
  'supervisor.observed': 'boolean',
  'supervisor.reason': 'string',
  unobserved: 'array',
  'unobserved[]': 'object',
  'unobserved[].error': 'string',
  'unobserved[].socket': 'string',
};

const SUPERVISOR = {
  error: 'null|string',
  linger: 'boolean|null',
  lingerFix: 'null|string',
  mode: 'string',
  observed: 'boolean',
  reason: 'string',
};

const STATUS_SHAPE = {
  agents: 'array',
  'agents[]': 'object',
  'agents[].backoff': 'null|object',
  'agents[].backoff.lastRestart': 'string',
  'agents[].backoff.streak': 'number',
  'agents[].conditions': 'array',
  'agents[].conditions[]': 'object',
  'agents[].conditions[].lastTransitionTime': 'string',
  'agents[].conditions[].message': 'string',
  'agents[].conditions[].reason': 'string',
  'agents[].conditions[].status': 'string',
  'agents[].conditions[].type': 'string',
  'agents[].enabled': 'boolean',
  'agents[].heartbeat': 'null|object',
  'agents[].heartbeat.health': 'string',
  'agents[].heartbeat.intervalSeconds': 'number',
  'agents[].host': 'string',
  'agents[].name': 'string',
  'agents[].restarts': 'number',
  'agents[].runtime': 'string',
  'agents[].session': 'object',
  'agents[].session.alive': 'boolean',
  'agents[].session.command': 'null|string',
  'agents[].session.exitStatus': 'null|number',
  'agents[].session.name': 'string',
  'agents[].session.pid': 'null|number',
  'agents[].session.spec': 'null|string',
  'agents[].socket': 'string',
  'agents[].source': 'string',
  'agents[].specHash': 'string',
  'agents[].tenant_id': 'string',
  'agents[].unit': 'null|object',
  ...under('agents[].unit', UNIT),
  converged: 'boolean',
  desiredRevision: 'string',
  errors: 'array',
  'errors[]': 'object',
  ...under('errors[]', PROBLEM),
  files: 'array',
  'files[]': 'object',
  'files[].blob': 'null|string',
  'files[].path': 'string',
  'files[].problems': 'array',
  'files[].problems[]': 'object',
  ...under('files[].problems[]', PROBLEM),
  'files[].usingLastKnownGood': 'boolean',
  'files[].valid': 'boolean',
  fleet: 'string',
  formatVersion: 'number',
  host: 'string',
  progressing: 'boolean',
  pruneHeld: 'array',
  'pruneHeld[]': 'object',
  ...under('pruneHeld[]', HELD_PRUNE),
  sockets: 'array',
  'sockets[]': 'object',
  'sockets[].error': 'null|string',
  'sockets[].holder': 'string',
  'sockets[].name': 'string',
  'sockets[].observed': 'boolean',
  'sockets[].serverPid': 'null|number',
  'sockets[].serverRunning': 'boolean',
  'sockets[].unit': 'null|object',
  ...under('sockets[].unit', UNIT),
  'sockets[].unit.restarts': 'null|number',
  summary: 'object',
  'summary.agents': 'number',
  'summary.disabled': 'number',
  'summary.errors': 'number',
  'summary.notReady': 'number',
  'summary.ready': 'number',
  'summary.unmanaged': 'number',
  supervisor: 'object',
  ...under('supervisor', SUPERVISOR),
  tenant_id: 'string',
  unmanaged: 'array',
  'unmanaged[]': 'object',
  'unmanaged[].command': 'string',
  'unmanaged[].fleet': 'null|string',
  'unmanaged[].session': 'string',
  'unmanaged[].socket': 'string',
};

const APPLY_SHAPE = {
  commit: 'null|string',
  converged: 'boolean',
  formatVersion: 'number',
  plan: 'object',
  results: 'array',
  'results[]': 'object',
  'results[].command': 'array',
  'results[].command[]': 'string',
  'results[].durationMs': 'number',
  'results[].error': 'null|string',
  'results[].finishedAt': 'string',
  'results[].kind': 'string',
  'results[].ok': 'boolean',
  'results[].reason': 'string',
  'results[].startedAt': 'string',
  'results[].target': 'string',
  status: 'object',
  wait: 'object',
  'wait.notReady': 'array',
  'wait.notReady[]': 'object',
  'wait.notReady[].name': 'string',
  'wait.notReady[].socket': 'string',
  'wait.notReady[].state': 'string',
  'wait.outcome': 'string',
  'wait.timeoutMs': 'number',
  'wait.waitedMs': 'number',
};

const PS_SHAPE = {
  agents: 'array',
  'agents[]': 'object',
  'agents[].flags': 'array',
  'agents[].flags[]': 'string',
  'agents[].heartbeat': 'null|object',
  'agents[].heartbeat.ageSeconds': 'number',
  'agents[].heartbeat.health': 'string',
  'agents[].heartbeat.status': 'string',
  'agents[].host': 'string',
  'agents[].idleSeconds': 'null|number',
  'agents[].name': 'string',
  'agents[].pane': 'object',
  'agents[].pane.alive': 'boolean',
  'agents[].pane.command': 'null|string',
  'agents[].pane.exitStatus': 'null|number',
  'agents[].pane.pid': 'null|number',
  'agents[].ready': 'string',
  'agents[].reason': 'string',
  'agents[].runtime': 'string',
  'agents[].session': 'string',
  'agents[].socket': 'string',
  'agents[].source': 'object',
  'agents[].source.commit': 'string',
  'agents[].source.desiredRevision': 'string',
  'agents[].source.kind': 'string',
  'agents[].state': 'string',
  'agents[].tenant_id': 'string',
  'agents[].unit': 'null|object',
  'agents[].unit.active': 'string',
  'agents[].unit.enabled': 'string',
  'agents[].unit.name': 'string',
  fleet: 'string',
  formatVersion: 'number',
  host: 'string',
  supervisor: 'object',
  ...under('supervisor', SUPERVISOR),
  unmanaged: 'array',
  'unmanaged[]': 'object',
  'unmanaged[].command': 'string',
  'unmanaged[].flags': 'array',
  'unmanaged[].flags[]': 'string',
  'unmanaged[].host': 'string',
  'unmanaged[].session': 'string',
  'unmanaged[].socket': 'string',
  'unmanaged[].tenant_id': 'string',
};

const sorted = (shape: Record<string, string>) =>
  Object.fromEntries(Object.entries(shape).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Strings that read as booleans, at paths other than Kubernetes condition statuses. */
function stringBooleans(value: unknown, allowed: RegExp): string[] {
  const found: string[] = [];
  const walk = (v: unknown, at: string) => {
    if (typeof v === 'string' && /^(yes|no|true|false|on|off|y|n)$/i.test(v) && !allowed.test(at))
      found.push(`${at}: ${v}`);
    else if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, `${at}[${i}]`);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
  };
  walk(value, '');
  return found;
}

const APPLIED = {
  plan: PLAN,
  results: RESULTS,
  status: STATUS,
  commit: 'c0ffee',
  wait: {
    outcome: 'timeout' as const,
    timeoutMs: 20_000,
    waitedMs: 20_004,
    notReady: [{ name: 'crashy', socket: 'lab', state: 'HeartbeatMissing' }],
  },
};

describe('plan --json', () => {
  it('has the golden shape and formatVersion 1', () => {
    const out = renderPlanJson(PLAN);
    expect(out.formatVersion).toBe(1);
    expect(PLAN_FORMAT_VERSION).toBe(1);
    expect(without(shapeOf(out, renderPlanJson(PLAN_TMUX)), 'actions', 'deferred')).toEqual(sorted(PLAN_SHAPE));
    expect(shapeOf(...out.actions, ...out.deferred)).toEqual(ACTION_SHAPE);
  });

  it('keeps kinds, targets, reasons and details as planned; a kind shows only its own detail keys', () => {
    const out = renderPlanJson(PLAN);
    expect(out.actions.map((a) => [a.kind, a.target, a.reason])).toEqual(
      PLAN.actions.map((a) => [a.kind, a.target, a.reason]),
    );
    expect(out.deferred.map((a) => a.reason)).toEqual(['crash_loop_backoff', 'update_on_idle']);
    expect(out.actions[0]!.detail).toEqual({ ...create.apply, ...create.detail });
    expect(Object.keys(out.actions[3]!.detail).sort()).toEqual(['file', 'fileKind', 'sha256', 'unit']);
    expect(out.summary).toMatchObject({ create_session: 1, stop_unit: 1, deferred: 2 });
  });

  it("carries uncommitted (plan --json only, so not in apply's plan) as a sorted list of paths", () => {
    expect(renderPlanJson(PLAN, ['rosters/a.yaml']).uncommitted).toEqual(['rosters/a.yaml']);
    expect(shapeOf(renderPlanJson(PLAN, []), renderPlanJson(PLAN, ['fleet.yaml']))).toMatchObject({
      uncommitted: 'array',
      'uncommitted[]': 'string',
    });
    expect(renderPlanJson(PLAN)).not.toHaveProperty('uncommitted');
  });

  it('leaves out what the internal plan holds beyond the format', () => {
    const internal = {
      ...PLAN,
      scratch: 1,
      actions: [{ ...create, detail: { ...create.detail, spec: {} } }],
    } as unknown as Plan;
    const out = renderPlanJson(internal) as unknown as Record<string, unknown>;
    expect(out.scratch).toBeUndefined();
    expect(renderPlanJson(internal).actions[0]!.detail).not.toHaveProperty('spec');
  });
});

describe('apply --json', () => {
  it('has the golden shape and formatVersion 1: the plan, each result, the status, the commit, converged', () => {
    const out = renderApplyJson(APPLIED);
    expect(out.formatVersion).toBe(1);
    expect(APPLY_FORMAT_VERSION).toBe(1);
    const outside = { ...out, plan: {}, status: {} };
    expect(shapeOf(outside, { ...outside, commit: null })).toEqual(sorted(APPLY_SHAPE));
    expect(out.plan).toEqual(renderPlanJson(PLAN));
    expect(out.status).toEqual(renderStatusJson(STATUS));
    // Only apply --wait says how its wait ended.
    const { wait: _, ...once } = APPLIED;
    expect(renderApplyJson(once)).not.toHaveProperty('wait');
  });

  it("gives each result its action, outcome and duration; converged is the status's", () => {
    const out = renderApplyJson(APPLIED);
    expect(out.results).toEqual([
      {
        kind: 'create_session',
        target: 'lab/coder',
        reason: 'missing',
        ok: true,
        error: null,
        startedAt: T0,
        finishedAt: '2026-03-01T12:00:01.250Z',
        durationMs: 1250,
        command: ['tmux', 'new-session'],
      },
      expect.objectContaining({ kind: 'respawn_pane', ok: false, error: 'tmux: no such session', durationMs: 0 }),
    ]);
    expect(out.converged).toBe(false);
    expect(renderApplyJson({ ...APPLIED, status: { ...STATUS, converged: true } }).converged).toBe(true);
    const odd = { ...RESULTS[0]!, finishedAt: 'not a time' };
    expect(renderApplyJson({ ...APPLIED, results: [odd] }).results[0]!.durationMs).toBeNull();
  });
});

describe('status/<host>.json', () => {
  it('has the golden shape and formatVersion 1', () => {
    const out = renderStatusJson(STATUS);
    expect(out.formatVersion).toBe(1);
    expect(STATUS_FORMAT_VERSION).toBe(1);
    expect(shapeOf(out, renderStatusJson(STATUS_TMUX))).toEqual(sorted(STATUS_SHAPE));
  });

  it('writes the same bytes as before the renderer: keys in the order the status builder gives them', () => {
    expect(statusFileText(STATUS)).toBe(`${JSON.stringify(STATUS, null, 2)}\n`);
    const { pruneHeld: _, ...none } = STATUS;
    expect(statusFileText(none)).toBe(`${JSON.stringify(none, null, 2)}\n`);
    expect(renderStatusJson({ ...none, pruneHeld: [] })).not.toHaveProperty('pruneHeld');
  });

  it('reads back what it wrote', () => {
    expect(parseStatusJson(JSON.parse(statusFileText(STATUS)))).toEqual(STATUS);
    expect(parseStatusJson(JSON.parse(statusFileText(STATUS_TMUX)))).toEqual(STATUS_TMUX);
  });

  it('reads an older file: fields added since get the value that means "not recorded"', () => {
    const old = JSON.parse(statusFileText(STATUS));
    delete old.supervisor;
    delete old.pruneHeld;
    delete old.progressing;
    for (const a of old.agents) {
      delete a.heartbeat;
      delete a.unit;
    }
    for (const s of old.sockets) {
      delete s.serverPid;
      delete s.unit;
    }
    const doc = parseStatusJson(old);
    expect(doc.supervisor).toMatchObject({ mode: 'tmux', observed: true, error: null, linger: null, lingerFix: null });
    expect(doc).not.toHaveProperty('pruneHeld');
    expect(doc).not.toHaveProperty('progressing');
    expect(doc.agents.map((a) => [a.heartbeat, a.unit])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(doc.sockets.map((s) => [s.serverPid, s.unit])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(doc.agents[0]!.backoff).toEqual(AGENT.backoff);
  });

  it('ignores keys it does not know (a newer gitfleet may add some) and refuses what is not a status', () => {
    const newer = { ...JSON.parse(statusFileText(STATUS)), addedLater: { x: 1 } };
    expect(parseStatusJson(newer)).toEqual(STATUS);
    const bad = (patch: (o: StatusJson) => void) => {
      const o = JSON.parse(statusFileText(STATUS));
      patch(o);
      return () => parseStatusJson(o);
    };
    expect(bad((o) => (o.formatVersion = 2))).toThrow(NotAStatus);
    expect(bad((o) => (o.converged = 'yes' as never))).toThrow('converged: true or false');
    expect(bad((o) => (o.agents[0]!.session.alive = 1 as never))).toThrow('agents[0].session.alive: true or false');
    expect(bad((o) => (o.agents[1]!.conditions[0]!.status = false as never))).toThrow('agents[1].conditions[0].status');
    expect(bad((o) => delete (o as Partial<StatusJson>).sockets)).toThrow('sockets: an array');
    expect(() => parseStatusJson([])).toThrow(NotAStatus);
  });
});

describe('ps --json', () => {
  it('has the golden shape and formatVersion 1', () => {
    const out = renderPsJson(PS);
    expect(out.formatVersion).toBe(1);
    expect(PS_FORMAT_VERSION).toBe(1);
    expect(shapeOf(out, renderPsJson({ ...PS, supervisor: STATUS_TMUX.supervisor }))).toEqual(sorted(PS_SHAPE));
    expect(out.agents.map((a) => a.source)).toEqual([
      { kind: 'live' },
      { kind: 'status', commit: 'c0ffee', desiredRevision: 'rev-0' },
    ]);
  });
});

it('no output spells a boolean as a string; condition statuses (ps ready is one) stay strings', () => {
  const conditionStatus = /(\.conditions\[\d+\]\.status|\.agents\[\d+\]\.ready)$/;
  const outputs = [renderPlanJson(PLAN), renderApplyJson(APPLIED), renderStatusJson(STATUS), renderPsJson(PS)];
  for (const out of outputs) expect(stringBooleans(out, conditionStatus)).toEqual([]);
  expect(stringBooleans({ x: { ok: 'yes' } }, conditionStatus)).toEqual(['.x.ok: yes']);
});
