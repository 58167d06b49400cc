// Who a fleet is. Ownership of tmux sessions must not depend on where the
// repository sits or what its folder is called: two repos both named
// `fleet.git` would otherwise prune each other's agents, and a moved copy
// would disown its own. A fleet is its name (fleet.yaml `fleet:`, or one
// derived from the repository's root commit) plus its id, the root commit
// itself, which every clone and copy of the repository shares and no other
// repository has.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FleetConfig } from './desired/types.js';
import { writeAtomic } from './files.js';
import type { Repo } from './git/repo.js';
import type { PaneInfo, SocketObservation } from './observe/tmux.js';

/** Digits of the root commit kept as the fleet id (tmux option @gitfleet-id). */
export const ID_LENGTH = 12;

/** The name of a fleet whose fleet.yaml gives none: stable across moves and clones. */
export const defaultFleetName = (id: string): string => `fleet-${id.slice(0, 8)}`;

/**
 * The root commit of `head`'s first-parent line. Walking a long history on
 * every run would cost more than the rest of a no-op, so the answer is
 * cached in the state dir per repository and checked (a root has no parent).
 */
export async function fleetId(repo: Repo, head: string, stateDir: string | null): Promise<string> {
  const cache = stateDir
    ? path.join(stateDir, 'identity', `${createHash('sha256').update(repo.gitdir).digest('hex').slice(0, 16)}.json`)
    : null;
  if (cache) {
    const known = await readFile(cache, 'utf8').then(
      (t) => JSON.parse(t) as { root?: unknown },
      () => null,
    );
    if (known && typeof known.root === 'string' && /^[0-9a-f]{40}$/.test(known.root)) {
      const parent = await repo.firstParent(known.root).catch(() => 'missing');
      if (parent === undefined) return known.root.slice(0, ID_LENGTH);
    }
  }
  let oid = head;
  for (let parent = await repo.firstParent(oid); parent; parent = await repo.firstParent(oid)) oid = parent;
  if (cache)
    await writeAtomic(cache, `${JSON.stringify({ gitdir: repo.gitdir, root: oid })}\n`, 0o600, 0o700).catch(
      () => undefined,
    );
  return oid.slice(0, ID_LENGTH);
}

/**
 * Mark sessions of another fleet that shares our name (same `@gitfleet-fleet`,
 * another `@gitfleet-id`) as foreign, so nothing downstream takes them for
 * ours: their fleet tag becomes `<name>@<their id>`. Sessions without an id
 * (started before fleet ids, or by an agent unit) keep counting by name.
 */
export function markForeign(obs: SocketObservation, config: Pick<FleetConfig, 'fleet' | 'id'>): SocketObservation {
  if (!obs.ok || config.id === null) return obs;
  let changed = false;
  const sessions = new Map(obs.sessions);
  for (const [name, p] of sessions) {
    if (p.fleet === config.fleet && p.fleetId && p.fleetId !== config.id) {
      sessions.set(name, { ...p, fleet: `${p.fleet}@${p.fleetId}` });
      changed = true;
    }
  }
  return changed ? { ...obs, sessions } : obs;
}

/**
 * Tagged with another tenant: tenants of one Unix user share a tmux server (TMUX_TMPDIR), and each acts only on the
 * sessions it started. An untagged session (started before gitfleet tagged tenants, or by an agent unit) is anyone's,
 * as it always was.
 */
export function otherTenant(pane: Pick<PaneInfo, 'tenant'>, tenant: string): boolean {
  return pane.tenant !== null && pane.tenant !== tenant;
}

/** A session of another fleet on a socket, if any: a socket belongs to one fleet. */
export function foreignFleet(obs: SocketObservation, fleet: string): string | null {
  if (!obs.ok) return null;
  for (const p of obs.sessions.values()) if (p.fleet && p.fleet !== fleet) return `${p.fleet} (session "${p.session}")`;
  return null;
}
