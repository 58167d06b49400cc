// The status document, pinned byte for byte: a few rich runs (tmux and systemd)
// that between them raise every condition reason (several on one agent, so
// their order is pinned too), with unmanaged sessions, sockets kept and
// dropped, invalid files, held prunes and a previous status.
// The snapshots were written before the builder was split per concern, so a
// refactor of src/status/ that changes any byte of what is committed fails here.
import { describe, expect, it } from 'vitest';
import type { ActionResult } from '../../src/apply/types.js';
import type { DesiredState } from '../../src/desired/types.js';
import type { HeartbeatJudgement } from '../../src/heartbeat/protocol.js';
import type { SystemdObservation } from '../../src/observe/systemd.js';
import type { SocketObservation } from '../../src/observe/tmux.js';
import { agentsInScope } from '../../src/plan/scope.js';
import { plan } from '../../src/plan/plan.js';
import type { Action } from '../../src/plan/types.js';
import { TMUX_MODE, type SupervisorInput } from '../../src/plan/units.js';
import { buildStatus } from '../../src/status/build.js';
import { CONDITION_REASONS, type ConditionReason } from '../../src/status/condition-kinds.js';
import type { StatusDoc } from '../../src/status/types.js';
import { agentUnit, holderUnit } from '../../src/systemd/fleet-units.js';
import {
  agentRecord,
  at,
  dead,
  desired,
  desiredFrom,
  FLEET,
  failedSocket,
  holder,
  installed,
  NOW,
  observed,
  pane,
  context,
  planInput,
  previousStatus,
  rosterYaml,
  running,
  socket,
  socketRecord,
  spec,
  systemdMode,
  unitState,
} from './builders.js';

// ---- helpers ------------------------------------------------------------------

/** JSON as committed. */
const committed = (s: StatusDoc): string => `${JSON.stringify(s, null, 2)}\n`;

const result = (action: Action, error: string | null = null): ActionResult => ({
  action,
  ok: error === null,
  error,
  startedAt: NOW.toISOString(),
  finishedAt: NOW.toISOString(),
  command: [],
});

interface Run {
  desired: DesiredState;
  before: Map<string, SocketObservation>;
  after?: Map<string, SocketObservation>;
  previous?: StatusDoc | null;
  now?: Date;
  supervisor?: SupervisorInput;
  heartbeats?: Map<string, HeartbeatJudgement>;
  apply?: (actions: Action[]) => ActionResult[];
}

/** One reconcile the way reconcile() does it: plan on `before`, status on `after`. */
function run(r: Run): StatusDoc {
  const pol = context({ now: r.now ?? NOW });
  const previous = r.previous ?? null;
  const p = plan(
    planInput(r.desired, r.before, previous, {
      ...(r.supervisor ? { supervisor: r.supervisor } : {}),
      ...(r.heartbeats ? { heartbeats: r.heartbeats } : {}),
    }),
    pol,
  );
  const tmux = r.after ?? r.before;
  return buildStatus(
    {
      desired: r.desired,
      plan: p,
      observed: { tmux, supervisor: r.supervisor ?? TMUX_MODE, heartbeats: r.heartbeats ?? new Map() },
      results: r.apply?.(p.actions) ?? [],
      previous,
    },
    pol,
  );
}

const beat = (health: HeartbeatJudgement['health']): HeartbeatJudgement => ({
  health,
  ageSeconds: health === 'unknown' ? null : 1,
  status: health === 'unknown' ? null : 'ok',
  pid: 10,
  error: health === 'invalid' ? 'status "idle": allowed: ok, busy' : null,
});

// ---- the runs ---------------------------------------------------------------------

/** tmux mode: every Ready reason, drift, invalid files, unmanaged sessions, sockets kept and dropped. */
function tmuxRuns(): { first: StatusDoc; second: StatusDoc } {
  const main = [
    'version: 1',
    'tmux: {socket_name: main}',
    'runtimes:',
    '  claude: {command: claude --yolo}',
    '  stub: {command: [node, stub.mjs], heartbeat: 5}',
    'agents:',
    ...[
      'run',
      'drift',
      'missing',
      'conflict',
      'deadp',
      'loop',
      'resp',
      'fail',
      'idle',
      'man, update: manual',
      'off, enabled: false',
      'there, host: box2',
      'alice, tenant: alice',
    ].map((a) => `  - {name: ${a}, runtime: claude}`),
    ...['hbok', 'hbstale', 'hbmiss', 'hbbad'].map((a) => `  - {name: ${a}, runtime: stub}`),
  ].join('\n');
  const good = {
    path: 'rosters/aux.yaml',
    blob: 'good0123456789abcdef',
    text: rosterYaml(['stall'], { socket: 'aux' }),
  };
  const d = desiredFrom(
    {
      'rosters/main.yaml': main,
      'rosters/aux.yaml': 'version: 1\nagents:\n  - {name: stall, runtime: claude, colour: red}\n',
      'rosters/broken.yaml': 'version: 2\nagents: []\n',
      'rosters/gone.yaml': rosterYaml(['lost'], { socket: 'gone' }),
    },
    null,
    [good],
  );
  const s = (name: string) => spec(d, name, name === 'stall' ? 'aux' : name === 'lost' ? 'gone' : 'main');
  const stub = (name: string, pid: number) => running(s(name), { currentCommand: 'node', pid });
  const mainPanes = (resp: 'dead' | 'up') => [
    holder(),
    running(s('run'), { pid: 101 }),
    running(s('drift'), { currentCommand: 'bash', pid: 102 }),
    pane('conflict', { currentCommand: 'vim', pid: 103 }),
    dead(s('deadp'), 2),
    dead(s('loop'), 1, { deadStatus: null }),
    resp === 'dead' ? dead(s('resp'), 3) : running(s('resp'), { pid: 104 }),
    running(s('idle'), { spec: 'old-idle', pid: 105 }),
    running(s('man'), { spec: 'old-man', pid: 106 }),
    stub('hbok', 107),
    stub('hbstale', 108),
    stub('hbmiss', 109),
    stub('hbbad', 110),
    pane('zz-hand', { currentCommand: 'htop' }),
    pane('aa-hand', { currentCommand: 'bash' }),
    pane('_watch-run-x1', { currentCommand: 'claude', watchOf: 'run' }),
  ];
  const rest = [
    socket('aux', [holder(), running(s('stall'), { pid: 201, spec: 'old-stall' })]),
    failedSocket('gone', 'tmux: server exited unexpectedly'),
    socket('kept', [holder()]),
    socket('old', [pane('by-hand'), pane('other', { fleet: 'other-fleet', currentCommand: 'claude' })]),
  ];
  const before = observed(socket('main', mainPanes('dead')), ...rest);
  const after = observed(socket('main', mainPanes('up')), ...rest);
  const earlier = at(-3600).toISOString();
  const ready = (status: 'True' | 'False', reason: ConditionReason) => ({
    type: 'Ready' as const,
    status,
    reason,
    message: 'from an earlier run',
    lastTransitionTime: earlier,
  });
  const previous = previousStatus(
    [
      agentRecord(s('run'), { restarts: 4, conditions: [ready('True', 'Running')] }),
      agentRecord(s('deadp'), { conditions: [ready('True', 'Running')] }),
      agentRecord(s('loop'), { restarts: 2, backoff: { streak: 2, lastRestart: at(-5).toISOString() } }),
      agentRecord(s('missing'), { conditions: [ready('False', 'PaneDead')] }),
    ],
    ['main', 'aux', 'gone', 'kept', 'old'].map((n) => socketRecord(n)),
    { supervisor: { mode: 'tmux', reason: 'default', observed: true, error: null, linger: null, lingerFix: null } },
  );
  const heartbeats = new Map(
    (['hbok', 'hbstale', 'hbmiss', 'hbbad'] as const).map((n, i) => [
      `main/${n}`,
      beat((['healthy', 'stale', 'unknown', 'invalid'] as const)[i]!),
    ]),
  );
  const apply = (xs: Action[]) =>
    xs
      .filter((x) => x.apply.session === 'fail' || x.apply.session === 'resp')
      .map((x) => result(x, x.apply.session === 'fail' ? 'duplicate session: fail' : null));
  const first = run({ desired: d, before, after, previous, heartbeats, apply });
  const second = run({ desired: d, before: after, previous: first, heartbeats, now: at(60) });
  return { first, second };
}

/** systemd mode: Degraded reasons, unit records, linger off, a restart pending through the unit. */
function systemdRun(seen: 'up' | 'down'): StatusDoc {
  const d = desired(['a', 'ne', 'ina', 'fresh', 'dr', { name: 'i', env: { V: '2' } }, { name: 'off', enabled: false }]);
  const old = desired([{ name: 'i', env: { V: '1' } }]);
  const u = (name: string) => agentUnit(FLEET, spec(d, name));
  const obs: SystemdObservation =
    seen === 'up'
      ? installed(d, {
          linger: false,
          units: [
            unitState(u('ne'), { sub: 'exited', enabled: 'disabled' }),
            unitState(u('ina'), { active: 'inactive', sub: 'dead' }),
            unitState(u('dr'), { sub: 'exited', enabled: 'disabled' }),
            unitState(holderUnit(FLEET, 'mosaic-factory'), { restarts: 3 }),
          ],
        })
      : { ok: false, error: 'Failed to connect to bus: No medium found', unreachable: true };
  const pol = context();
  const sup = systemdMode(obs, agentsInScope(d, pol));
  const before = observed(
    socket('mosaic-factory', [
      running(spec(d, 'a'), { pid: 301 }),
      running(spec(d, 'ne'), { pid: 302 }),
      running(spec(d, 'ina'), { pid: 303 }),
      running(spec(old, 'i'), { pid: 304 }),
      running(spec(d, 'dr'), { currentCommand: 'bash', pid: 305 }),
    ]),
  );
  return run({ desired: d, before, supervisor: sup });
}

/** A roster that would delete every agent of a socket: the deletes are held (PruneHeld). */
function pruneRun(): StatusDoc {
  const d = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a']) });
  const tagged = (name: string) => pane(name, { fleet: FLEET, role: 'agent', agent: name, spec: 'x' });
  const before = observed(
    socket('mosaic-factory', [holder(), running(spec(d, 'a'))]),
    socket('retired', [holder(), tagged('x'), tagged('y')]),
  );
  return run({
    desired: d,
    before,
    previous: previousStatus([], [socketRecord('mosaic-factory'), socketRecord('retired')]),
    supervisor: { mode: 'tmux', reason: 'test' },
    heartbeats: new Map(),
  });
}

/** A first apply of a heartbeat agent whose first beat has not come: within its start-up grace (Progressing). */
function progressingRun(): StatusDoc {
  const d = desiredFrom({
    'rosters/a.yaml': [
      'version: 1',
      'runtimes:',
      '  stub: {command: [node, stub.mjs], heartbeat: 5}',
      'agents:',
      '  - {name: new, runtime: stub}',
    ].join('\n'),
  });
  const created = NOW.getTime() / 1000 - 2;
  const after = observed(
    socket('mosaic-factory', [holder(), running(spec(d, 'new'), { currentCommand: 'node', pid: 401, created })]),
  );
  return run({
    desired: d,
    before: observed(socket('mosaic-factory', [])),
    after,
    heartbeats: new Map([['mosaic-factory/new', beat('unknown')]]),
    apply: (xs) => xs.map((x) => result(x)),
  });
}

// ---- the pins ---------------------------------------------------------------------

describe('status document: byte-identical for the same inputs', () => {
  const { first, second } = tmuxRuns();
  const runs: Record<string, StatusDoc> = {
    'tmux-first': first,
    'tmux-second': second,
    'systemd-up': systemdRun('up'),
    'systemd-down': systemdRun('down'),
    prune: pruneRun(),
    progressing: progressingRun(),
  };

  it('the runs raise every condition reason there is', () => {
    const seen = new Set(
      Object.values(runs).flatMap((s) => s.agents.flatMap((a) => a.conditions.map((c) => c.reason))),
    );
    expect([...seen].sort()).toEqual(Object.keys(CONDITION_REASONS).sort());
    expect(runs.prune!.pruneHeld).toHaveLength(1);
  });

  for (const [name, doc] of Object.entries(runs)) {
    it(`${name} is committed exactly as pinned`, async () => {
      await expect(committed(doc)).toMatchFileSnapshot(`../fixtures/status/${name}.json`);
    });
  }
});
