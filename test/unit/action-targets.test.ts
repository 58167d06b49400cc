// Each action kind's `target` has one documented form (plan/action-kinds.ts
// `target`): checked on every action and deferred action of plans built in
// tmux and systemd mode that, together, hold every kind.
import { describe, expect, it } from 'vitest';
import type { SystemdObservation } from '../../src/observe/systemd.js';
import { ACTION_KIND_TABLE, ACTION_KINDS } from '../../src/plan/action-kinds.js';
import { agentsInScope } from '../../src/plan/scope.js';
import { plan } from '../../src/plan/plan.js';
import type { Action, Plan } from '../../src/plan/types.js';
import { agentUnit, holderUnit } from '../../src/systemd/fleet-units.js';
import {
  agentRecord,
  at,
  context,
  dead,
  desired,
  desiredFrom,
  FLEET,
  holder,
  installed,
  observed,
  pane,
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
  unitState,
} from './builders.js';

/** The target an action's kind documents, filled in from what apply reads; null where a part is missing. */
function documentedTarget(a: Action): string | null {
  const parts: Record<string, string | undefined> = {
    '<socket>': a.apply.socket,
    '<session>': a.apply.session,
    '<unit name>': a.apply.unit,
    '<file path>': a.apply.file,
  };
  let missing = false;
  const target = ACTION_KIND_TABLE[a.kind].target.replace(/<[^>]+>/g, (p) => {
    const v = parts[p];
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? null : target;
}

const tag = (name: string) => pane(name, { fleet: FLEET, role: 'agent', agent: name, spec: 'old' });

/** tmux mode: a holder to create; agents to create, restart (now, deferred), respawn (now, in backoff), delete. */
function tmuxPlans(): Plan[] {
  const d = desired(['new', { name: 'rec', update: 'recreate' }, { name: 'man', update: 'manual' }, 'crash', 'loop']);
  const stale = (n: string) => running(spec(d, n), { spec: 'old' });
  const prev = previousStatus([
    agentRecord(spec(d, 'loop'), { backoff: { streak: 3, lastRestart: at(-1).toISOString() } }),
  ]);
  const obs = observed(
    socket(SOCKET, [stale('rec'), stale('man'), dead(spec(d, 'crash')), dead(spec(d, 'loop')), tag('gone')]),
  );
  const blocked = desiredFrom({ 'rosters/a.yaml': rosterYaml(['a']), 'rosters/bad.yaml': 'version: 2\nagents: []\n' });
  return [
    plan(planInput(d, obs, prev), context({ pruneConfirmed: true })),
    plan(planInput(blocked, observed(socket(SOCKET, [holder(), tag('gone')]))), context()),
  ];
}

/** systemd mode: files, reload, enables, starts, restarts (now, deferred), agent and server stops, a holder session. */
function systemdPlans(): Plan[] {
  const d = desiredFrom({
    'rosters/a.yaml': rosterYaml(['fresh', { name: 'rec', update: 'recreate' }, { name: 'man', update: 'manual' }], {
      socket: 's1',
    }),
  });
  const OLD = agentUnit(FLEET, { socket: 's1', session: 'old' });
  const S2 = holderUnit(FLEET, 's2');
  const seen = installed(d, { units: [unitState(OLD), unitState(S2)], extraFound: [OLD, S2] });
  const obs = observed(
    socket('s1', [running(spec(d, 'rec'), { spec: 'old' }), running(spec(d, 'man'), { spec: 'old' }), tag('old')]),
    socket('s2', [pane('_holder', { fleet: FLEET, role: 'holder' })]),
    socket('s3', [pane('_holder', { fleet: FLEET, role: 'holder' })]),
  );
  const prev = previousStatus([], [socketRecord('s1'), socketRecord('s2'), socketRecord('s3')]);
  const sup = (o: SystemdObservation) => systemdMode(o, agentsInScope(d, context()));
  const down: SystemdObservation = { ok: false, error: 'no bus', unreachable: true };
  const cold = desired(['a']);
  return [
    plan(planInput(d, obs, prev, { supervisor: sup(seen) }), context({ pruneConfirmed: true })),
    plan(planInput(d, obs, prev, { supervisor: sup(down) }), context({ pruneConfirmed: true })),
    plan(
      planInput(cold, observed(socket(SOCKET, [])), null, {
        supervisor: systemdMode(systemdSeen(), agentsInScope(cold, context())),
      }),
      context(),
    ),
  ];
}

describe('action targets', () => {
  const plans = [...tmuxPlans(), ...systemdPlans()];
  const all = plans.flatMap((p) => [...p.actions, ...p.deferred]);

  it('the plans hold every kind of action (else this tests less than it says)', () => {
    expect([...new Set(all.map((a) => a.kind))].sort()).toEqual([...ACTION_KINDS].sort());
  });

  it("every action's and deferred action's target is its kind's documented form", () => {
    const off = all.filter((a) => a.target !== documentedTarget(a)).map((a) => `${a.kind} ${a.target}`);
    expect(off).toEqual([]);
  });
});
