// The planner: a pure function of what is desired, everything observed and
// the last status (PlanInput), under a context (host, tenant, clock,
// revision, backoff, prune confirmation). No I/O, no clock reads. It composes
// one sub-planner per concern, each returning actions: sessions
// (plan/sessions.ts), in systemd mode units on top of them (plan/units.ts),
// then the prune guard (plan/prune-guard.ts); here they are sorted and made
// into a Plan.
import type { PlanContext, PlanInput } from './input.js';
import { holdMassPrune } from './prune-guard.js';
import { scopeOf } from './scope.js';
import { sessionPlan } from './sessions.js';
import { ACTION_KINDS, type Action, type ActionKind, type Plan } from './types.js';
import { supervisorInfo, unitPlan } from './units.js';

export function plan(input: PlanInput, context: PlanContext): Plan {
  const { desired, observed } = input;
  const scope = scopeOf(desired, input.previous, context);
  const sessions = sessionPlan(input, context, scope);
  let work = { actions: sessions.actions, deferred: sessions.deferred };
  const supervisor = observed.supervisor;
  if (supervisor.mode === 'systemd') work = unitPlan(work, input, scope, supervisor);
  const { actions, deferred, held } = holdMassPrune(
    work,
    observed.tmux,
    desired.config,
    context.tenant,
    context.desiredRevision,
    context.pruneConfirmed,
  );
  sortActions(actions);
  sortActions(deferred);
  const summary = Object.fromEntries(
    ACTION_KINDS.map((k) => [k, actions.filter((a) => a.kind === k).length]),
  ) as Record<ActionKind, number>;
  return {
    formatVersion: 1,
    fleet: desired.config.fleet,
    host: context.host,
    desiredRevision: context.desiredRevision,
    actions,
    deferred,
    unobserved: sessions.unobserved,
    supervisor: supervisorInfo(supervisor),
    summary: { ...summary, deferred: deferred.length },
    errors: desired.problems,
    pruneHeld: held,
  };
}

/**
 * In ACTION_KINDS order, then by target. The holder (session or server unit) comes up before its agents and goes
 * after them. Every server unit's enable comes before any one's start, and the starts right after them: a cold
 * start's enables (agents' and servers') and starts (servers' and agents') then each make one phase, one
 * systemctl call (apply/apply.ts samePhase).
 */
function sortActions(xs: Action[]): void {
  const order = (a: Action) => {
    const i = ACTION_KINDS.indexOf(a.kind);
    if (a.apply.role !== 'holder') return i;
    if (a.kind === 'create_session') return -1;
    if (a.kind === 'start_unit') return ACTION_KINDS.indexOf('enable_unit') + 0.75;
    return i + 0.5;
  };
  xs.sort((x, y) => order(x) - order(y) || (x.target < y.target ? -1 : x.target > y.target ? 1 : 0));
}
