// Carry out a plan: actions in plan order, grouped into phases (consecutive
// actions of one kind and role) that run with bounded concurrency. tmux
// actions go to apply/tmux.ts, unit actions to apply/systemd.ts. A failed
// action is a result, never an exception: the others still run.
import type { AgentSpec, DesiredState } from '../desired/types.js';
import { errorMessage } from '../errors.js';
import { actionKind } from '../plan/action-kinds.js';
import type { Action } from '../plan/types.js';
import { applyUnitAction, type UnitContext } from './systemd.js';
import { applyTmuxAction, type PaneContext } from './tmux.js';
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

export async function applyActions(
  actions: readonly Action[],
  desired: DesiredState,
  ctx: ApplyContext,
): Promise<ActionResult[]> {
  const agents = new Map(desired.rosters.flatMap((r) => r.agents).map((a) => [`${a.socket}/${a.session}`, a]));
  const results: ActionResult[] = [];
  const phases: Action[][] = [];
  for (const a of actions) {
    const last = phases[phases.length - 1];
    if (last && last[0]!.kind === a.kind && last[0]!.apply.role === a.apply.role) last.push(a);
    else phases.push([a]);
  }
  for (const phase of phases) {
    // A unit (re)started after its spec or drop-in failed to write would run the old spec, or unbound:
    // once a file write failed, no agent unit starts in this run (the next run retries the write).
    const failedWrites = results
      .filter((r) => !r.ok && r.action.kind === 'install_unit')
      .map((r) => r.action.apply.file!);
    results.push(
      ...(await pool(phase, ctx.concurrency ?? 4, async (a) => {
        const result = await applyOne(a, agents.get(`${a.apply.socket}/${a.apply.session}`), ctx, failedWrites);
        await ctx.onResult?.(result);
        return result;
      })),
    );
  }
  return results;
}

async function applyOne(
  action: Action,
  agent: AgentSpec | undefined,
  ctx: ApplyContext,
  failedWrites: readonly string[],
): Promise<ActionResult> {
  const startedAt = ctx.clock().toISOString();
  try {
    await ctx.onStart?.(action, startedAt);
    if (
      failedWrites.length > 0 &&
      action.apply.role === 'agent' &&
      (action.kind === 'start_unit' || action.kind === 'restart_unit')
    ) {
      throw new Error(`not started: writing ${failedWrites.join(', ')} failed earlier in this run`);
    }
    let out: { command: string[]; error: string | null };
    if (actionKind(action.kind).applier === 'tmux') out = await applyTmuxAction(action, agent, ctx);
    else if (ctx.units) out = await applyUnitAction(action, ctx.units);
    else throw new Error(`${action.kind}: no systemd user manager in this run`);
    return {
      action,
      ok: out.error === null,
      error: out.error,
      startedAt,
      finishedAt: ctx.clock().toISOString(),
      command: out.command,
    };
  } catch (e) {
    return { action, ok: false, error: errorMessage(e), startedAt, finishedAt: ctx.clock().toISOString(), command: [] };
  }
}

async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
