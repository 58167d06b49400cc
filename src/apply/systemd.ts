// Carry out a plan's unit actions (supervisor: systemd) with systemctl --user
// and file writes. Each action reports the commands it ran. A phase of
// enables or starts is one systemctl call for all its units (systemctl
// takes many), falling back to one call per unit when it fails.
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { writeAtomic } from '../files.js';
import { sha256 } from '../hash.js';
import type { Action } from '../plan/types.js';
import { failureMessage, type Systemctl } from '../systemd/client.js';
import type { GeneratedFile } from '../systemd/fleet-units.js';
import { isNoServer, sessionTarget, tmux, tmuxArgv } from '../tmux/client.js';
import { killWatchers } from './tmux.js';

export interface UnitContext {
  systemctl: Systemctl;
  /** What install_unit writes, by path (the planner saw the same map). */
  files: ReadonlyMap<string, GeneratedFile>;
}

/** systemctl's words for "there is no such unit (any more)": stopping it is then already done. */
const GONE = /not loaded|does not exist|not found/i;

/** Watch views share the session's windows: end them first (a view already gone is fine). */
async function endWatchers(action: Action, command: string[]): Promise<void> {
  const cmds = killWatchers(action);
  if (cmds.length === 0 || !action.apply.socket) return;
  command.push(tmuxArgv(action.apply.socket, cmds).join(' '));
  await tmux(action.apply.socket, cmds);
}

export async function applyUnitAction(
  action: Action,
  ctx: UnitContext,
): Promise<{ command: string[]; error: string | null }> {
  const d = action.apply;
  if (action.kind !== 'install_unit' && action.kind !== 'reload_units' && !d.unit)
    throw new Error(`${action.kind} ${action.target}: no unit named`);
  const sd = ctx.systemctl;
  const command: string[] = [];
  const systemctl = async (...args: string[]): Promise<string | null> => {
    command.push(sd.argv(args).join(' '));
    const r = await sd.call(...args);
    return r.exitCode === 0 ? null : failureMessage(args, r);
  };
  switch (action.kind) {
    case 'install_unit': {
      const f = ctx.files.get(d.file!);
      if (!f || sha256(f.content) !== d.sha256)
        return { command, error: `${d.file}: content differs from the plan's (sha256 ${d.sha256}); plan again` };
      command.push(`write ${f.path}`);
      // Spec files hold the agent's environment values: private to the user.
      if (f.kind === 'spec') await writeAtomic(f.path, f.content, 0o600, 0o700);
      else await writeAtomic(f.path, f.content);
      return { command, error: null };
    }
    case 'reload_units':
      return { command, error: await systemctl('daemon-reload') };
    case 'enable_unit':
      return { command, error: await systemctl('enable', d.unit!) };
    case 'start_unit':
      return { command, error: await systemctl('start', d.unit!) };
    case 'restart_unit':
      await endWatchers(action, command);
      return { command, error: await systemctl('restart', d.unit!) };
    case 'stop_unit': {
      await endWatchers(action, command);
      // Stop and disable first; only then remove files, so a failure leaves the unit as it was.
      const disable = ['disable', '--now', d.unit!];
      command.push(sd.argv(disable).join(' '));
      const r = await sd.call(...disable);
      if (r.exitCode !== 0 && !GONE.test(r.stderr)) return { command, error: failureMessage(disable, r) };
      // Forget a failed last start, so `systemctl --user --failed` does not list a unit that is gone
      // (fails harmlessly otherwise).
      command.push(sd.argv(['reset-failed', d.unit!]).join(' '));
      await sd.call('reset-failed', d.unit!);
      if (d.role === 'agent' && d.killSession && d.socket && d.session) {
        // The unit's ExecStop ends the session; make sure of it (a unit that never started has none to run).
        const kill = [['kill-session', '-t', sessionTarget(d.session)]];
        command.push(tmuxArgv(d.socket, kill).join(' '));
        const k = await tmux(d.socket, kill);
        if (k.exitCode !== 0 && !/can't find session/.test(k.stderr) && !isNoServer(k.stderr))
          return { command, error: `tmux kill-session failed: ${k.stderr.trim()}` };
      }
      for (const f of d.removeFiles ?? []) {
        command.push(`remove ${f}`);
        await rm(f, { force: true });
        // The drop-in folder goes too, only if now empty.
        if (f.endsWith('.service.d/gitfleet.conf')) await rmdir(path.dirname(f)).catch(() => undefined);
      }
      return { command, error: null };
    }
    default:
      throw new Error(`${action.kind} is not a unit action`);
  }
}

/** The unit actions whose phase runs as one systemctl call: the verb is the action's. */
const BATCHED = { enable_unit: 'enable', start_unit: 'start' } as const;

export function isBatchedUnitAction(action: Action): boolean {
  return action.kind in BATCHED;
}

/**
 * A phase of enable_unit or start_unit actions: one `systemctl --user <verb>
 * unit...` for all of them. If it fails, the manager may have done part of
 * it, so each unit runs again on its own: enabling an enabled unit and
 * starting an active one do nothing, and the call of the unit that fails
 * says why. Each action reports its own command, as when run alone.
 */
export async function applyUnitBatch(
  actions: readonly Action[],
  ctx: UnitContext,
): Promise<{ command: string[]; error: string | null }[]> {
  if (actions.length === 1) return [await applyUnitAction(actions[0]!, ctx)];
  const verb = BATCHED[actions[0]!.kind as keyof typeof BATCHED];
  if (!verb || actions.some((a) => a.kind !== actions[0]!.kind || !a.apply.unit))
    throw new Error('applyUnitBatch: a phase of one batched kind, each naming its unit');
  const sd = ctx.systemctl;
  const r = await sd.call(verb, ...actions.map((a) => a.apply.unit!));
  if (r.exitCode === 0)
    return actions.map((a) => ({ command: [sd.argv([verb, a.apply.unit!]).join(' ')], error: null }));
  const out: { command: string[]; error: string | null }[] = [];
  for (const a of actions) out.push(await applyUnitAction(a, ctx));
  return out;
}
