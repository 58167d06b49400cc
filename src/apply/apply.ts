// Carry out a plan: actions in plan order, grouped into phases (consecutive
// actions of one kind, see samePhase). A phase of tmux actions runs as one tmux
// process per socket (apply/tmux.ts runTmuxBatch), a phase of unit enables
// or starts as one systemctl call (apply/systemd.ts applyUnitBatch); other
// unit actions run one by one with bounded concurrency. Every action still
// gets its own start, result and command. A failed action is a result,
// never an exception: the others still run.
import type { AgentSpec, DesiredState } from '../desired/types.js';
import { errorMessage } from '../errors.js';
import { actionKind } from '../plan/action-kinds.js';
import type { Action } from '../plan/types.js';
import { pool } from '../pool.js';
import { applyUnitAction, applyUnitBatch, isBatchedUnitAction, type UnitContext } from './systemd.js';
import { type PaneContext, type PreparedTmuxAction, prepareTmuxAction, runTmuxBatch } from './tmux.js';
import type { ActionResult } from './types.js';

export interface ApplyContext extends PaneContext {
  clock: () => Date;
  concurrency?: number;
  /** Present in systemd mode. */
  units?: UnitContext;
  /**
   * Called as each action finishes, before the next phase starts (reconcile
   * keeps its evidence then, so a kill later loses none). Must not throw.
   */
  onResult?: (result: ActionResult) => Promise<void>;
  /** Called before an action starts (write-ahead evidence); if it throws, the action does not run. */
  onStart?: (action: Action, startedAt: string) => Promise<void>;
}

type Outcome = { command: string[]; error: string | null };

export async function applyActions(
  actions: readonly Action[],
  desired: DesiredState,
  ctx: ApplyContext,
): Promise<ActionResult[]> {
  const agents = new Map(desired.rosters.flatMap((r) => r.agents).map((a) => [`${a.socket}/${a.session}`, a]));
  const agentOf = (a: Action) => agents.get(`${a.apply.socket}/${a.apply.session}`);
  const results: ActionResult[] = [];
  const phases: Action[][] = [];
  for (const a of actions) {
    const last = phases[phases.length - 1];
    if (last && samePhase(last[0]!, a, ctx)) last.push(a);
    else phases.push([a]);
  }
  for (const phase of phases) {
    // A unit (re)started after its spec or drop-in failed to write would run the old spec, or unbound:
    // once a file write failed, no agent unit starts in this run (the next run retries the write).
    const failedWrites = results
      .filter((r) => !r.ok && r.action.kind === 'install_unit')
      .map((r) => r.action.apply.file!);
    const first = phase[0]!;
    if (actionKind(first.kind).applier === 'tmux' || (ctx.units && isBatchedUnitAction(first))) {
      results.push(...(await applyBatched(phase, agentOf, ctx, failedWrites)));
      continue;
    }
    results.push(
      ...(await pool(phase, ctx.concurrency ?? 4, async (a) => {
        const result = await applyOne(a, ctx, failedWrites);
        await ctx.onResult?.(result);
        return result;
      })),
    );
  }
  return results;
}

/**
 * Consecutive actions of one kind and role make a phase. A phase that runs as one process (a tmux batch per
 * socket, one systemctl enable or start) also takes the holder's action next to its agents': plan order puts the
 * holder first (created, started) or last (deleted), and the batch keeps that order, so a cold start is one tmux
 * process per socket, or one enable and one start, not one more for the holder. Other unit actions run
 * concurrently within a phase: there the holder keeps a phase of its own.
 */
function samePhase(first: Action, a: Action, ctx: ApplyContext): boolean {
  if (first.kind !== a.kind) return false;
  if (first.apply.role === a.apply.role) return true;
  return actionKind(a.kind).applier === 'tmux' || (ctx.units !== undefined && isBatchedUnitAction(a));
}

/** Why an action does not run at all in this run, or null. */
function refusal(action: Action, ctx: ApplyContext, failedWrites: readonly string[]): string | null {
  if (
    failedWrites.length > 0 &&
    action.apply.role === 'agent' &&
    (action.kind === 'start_unit' || action.kind === 'restart_unit')
  ) {
    return `not started: writing ${failedWrites.join(', ')} failed earlier in this run`;
  }
  if (actionKind(action.kind).applier === 'systemd' && !ctx.units)
    return `${action.kind}: no systemd user manager in this run`;
  return null;
}

async function applyOne(action: Action, ctx: ApplyContext, failedWrites: readonly string[]): Promise<ActionResult> {
  const startedAt = ctx.clock().toISOString();
  try {
    await ctx.onStart?.(action, startedAt);
    const refused = refusal(action, ctx, failedWrites);
    if (refused) throw new Error(refused);
    return finished(action, startedAt, await applyUnitAction(action, ctx.units!), ctx);
  } catch (e) {
    return failed(action, startedAt, e, ctx);
  }
}

/**
 * One phase in as few processes as it takes: each action is started (its
 * write-ahead evidence) and prepared in plan order, those that can run go in
 * one batch per socket (tmux) or one systemctl call, then every result is
 * reported in plan order.
 */
async function applyBatched(
  phase: readonly Action[],
  agentOf: (a: Action) => AgentSpec | undefined,
  ctx: ApplyContext,
  failedWrites: readonly string[],
): Promise<ActionResult[]> {
  const results: ActionResult[] = new Array(phase.length);
  const startedAt: string[] = new Array(phase.length);
  // Each action's write-ahead record (onStart: a durable file) and its directories, several at once: one
  // after the other, their fsyncs were a third of a cold start of 50 agents. All are done before the batch runs.
  const prepared = await pool([...phase.entries()], ctx.concurrency ?? 4, async ([i, action]) => {
    startedAt[i] = ctx.clock().toISOString();
    try {
      await ctx.onStart?.(action, startedAt[i]!);
      const refused = refusal(action, ctx, failedWrites);
      if (refused) throw new Error(refused);
      if (actionKind(action.kind).applier === 'tmux')
        return { i, tmux: await prepareTmuxAction(action, agentOf(action), ctx) };
      return { i };
    } catch (e) {
      results[i] = failed(action, startedAt[i]!, e, ctx);
      return null;
    }
  });
  const ready = prepared.filter((r): r is { i: number; tmux?: PreparedTmuxAction } => r !== null);
  const groups = new Map<string, typeof ready>();
  for (const r of ready) {
    const key = r.tmux ? `tmux:${r.tmux.socket}` : 'systemctl';
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  await pool([...groups.values()], ctx.concurrency ?? 4, async (group) => {
    let outcomes: Outcome[];
    try {
      outcomes = await runGroup(group, phase, ctx);
    } catch (e) {
      for (const { i } of group) results[i] = failed(phase[i]!, startedAt[i]!, e, ctx);
      return;
    }
    group.forEach(({ i }, k) => {
      results[i] = finished(phase[i]!, startedAt[i]!, outcomes[k]!, ctx);
    });
  });
  await pool(results, ctx.concurrency ?? 4, async (r) => ctx.onResult?.(r));
  return results;
}

async function runGroup(
  group: readonly { i: number; tmux?: PreparedTmuxAction }[],
  phase: readonly Action[],
  ctx: ApplyContext,
): Promise<Outcome[]> {
  const tmuxActions = group.flatMap((r) => (r.tmux ? [r.tmux] : []));
  if (tmuxActions.length === group.length) {
    const errors = await runTmuxBatch(
      tmuxActions[0]!.socket,
      tmuxActions.map((p) => p.cmds),
    );
    return tmuxActions.map((p, k) => ({ command: p.command, error: errors[k] ?? null }));
  }
  return applyUnitBatch(
    group.map(({ i }) => phase[i]!),
    ctx.units!,
  );
}

function finished(action: Action, startedAt: string, out: Outcome, ctx: ApplyContext): ActionResult {
  const finishedAt = ctx.clock().toISOString();
  return { action, ok: out.error === null, error: out.error, startedAt, finishedAt, command: out.command };
}

function failed(action: Action, startedAt: string, e: unknown, ctx: ApplyContext): ActionResult {
  return { action, ok: false, error: errorMessage(e), startedAt, finishedAt: ctx.clock().toISOString(), command: [] };
}
