// The last line of defence against a desired state that reads as "nothing
// runs here": a roster moved, a folder renamed, a host typo. A plan that
// would delete every agent of a socket, or more of them than
// reconcile.max_prune allows, holds those deletes (PruneHeld) until a
// person confirms that revision. Pure.
import type { FleetConfig } from '../desired/types.js';
import type { SocketObservation } from '../observe/tmux.js';
import type { Action, HeldPrune } from './types.js';
import { shortRevision } from '../revision.js';
import { otherTenant } from '../fleet-identity.js';

const isDelete = (a: Action) => a.kind === 'delete_session' || a.kind === 'stop_unit';

/** How many of `running` agents one plan may delete without confirmation. */
export function pruneLimit(running: number, max: FleetConfig['maxPrune']): number {
  return 'count' in max ? max.count : Math.floor((running * max.percent) / 100);
}

export function holdMassPrune(
  plan: { actions: Action[]; deferred: Action[] },
  observed: ReadonlyMap<string, SocketObservation>,
  config: Pick<FleetConfig, 'fleet' | 'maxPrune'>,
  tenant: string,
  revision: string,
  confirmed: boolean,
): { actions: Action[]; deferred: Action[]; held: HeldPrune[] } {
  if (confirmed) return { ...plan, held: [] };
  const held: HeldPrune[] = [];
  const holdOn = new Set<string>();
  const sockets = new Set(
    plan.actions
      .filter(isDelete)
      .map((a) => a.apply.socket)
      .filter((s): s is string => !!s),
  );
  for (const socket of [...sockets].sort()) {
    const obs = observed.get(socket);
    if (!obs?.ok) continue;
    // The socket's agents: sessions of ours running there, and whatever a delete would end (a unit whose
    // session is gone still brings it back at boot). Another tenant's on a shared server are not this one's.
    const ours = [...obs.sessions.values()]
      .filter((p) => p.fleet === config.fleet && p.role !== 'holder' && !p.watchOf && !otherTenant(p, tenant))
      .map((p) => p.session);
    // An explicit `enabled: false` is a person's decision about that agent, not a misread desired state.
    const deletes = plan.actions.filter(
      (a) => isDelete(a) && a.apply.socket === socket && a.apply.role !== 'holder' && a.reason !== 'disabled',
    );
    const running = new Set([...ours, ...deletes.map((a) => a.apply.session ?? a.target)]).size;
    const limit = pruneLimit(running, config.maxPrune);
    if (deletes.length === 0 || (deletes.length < running && deletes.length <= limit)) continue;
    holdOn.add(socket);
    const short = shortRevision(revision);
    const howMany = deletes.length >= running ? 'all of them' : `more than reconcile.max_prune allows: ${limit}`;
    held.push({
      socket,
      deletes: deletes.length,
      running,
      agents: deletes.map((a) => a.detail.agent ?? a.apply.session ?? a.target).sort(),
      message:
        `${deletes.length} of ${running} agents on socket ${socket} would be deleted (${howMany}); ` +
        `held until revision ${short} is confirmed: gitfleet apply --confirm-prune ${short}, ` +
        `or reconcile.confirm_prune: ${short} in fleet.yaml`,
    });
  }
  if (holdOn.size === 0) return { ...plan, held };
  const hold = (a: Action) => isDelete(a) && holdOn.has(a.apply.socket ?? '') && a.reason !== 'disabled';
  return {
    actions: plan.actions.filter((a) => !hold(a)),
    deferred: [...plan.deferred, ...plan.actions.filter(hold).map((a) => ({ ...a, reason: 'prune_held' as const }))],
    held,
  };
}
