// Liveness refs in the fleet repository (status/liveness.ts judges them): read
// every reconciler's, and move this one's. A local repository's refs are
// read and written in place; a remote one's are listed with the run's one
// listing, fetched only when they moved, and this one's pushed (forced: it is
// this reconciler's own ref). Failing to keep it is a warning, never a failed
// reconcile: the agents run all the same.
import { errorMessage } from '../errors.js';
import {
  ALIVE_PREFIX,
  type AliveMessage,
  type AliveRecord,
  aliveMessageText,
  aliveRef,
  refreshDue,
} from '../status/liveness.js';
import { aliveRecordAt } from './alive-record.js';
import { branchNameProblem } from './refname.js';
import type { RemoteRepo } from './remote.js';
import type { Author, Repo } from './repo.js';

export interface AliveRepo {
  repo: Repo;
  remote: RemoteRepo | null;
}

/**
 * Every reconciler's last sighting as the repository (for a remote one: the forge) holds it, by name. Judging at
 * `now` needs no newer record than one that already says alive, so a remote one that moved may be such an older
 * copy (RemoteRepo.aliveRefs) unless `exact`.
 */
export async function readAliveRecords(src: AliveRepo, now: Date, exact = false): Promise<AliveRecord[]> {
  const refs = src.remote ? await src.remote.aliveRefs(now, exact) : await src.repo.refsUnder(ALIVE_PREFIX);
  const out: AliveRecord[] = [];
  for (const [name, oid] of [...refs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const r = await aliveRecordAt(src.repo, name, oid);
    if (r) out.push(r);
  }
  return out;
}

/**
 * Move this reconciler's liveness ref (`name`: its status name) to a new record of `now`, when it is due
 * (refreshDue). Returns whether it moved, and a warning when it could not be kept.
 */
export async function keepAlive(
  src: AliveRepo,
  name: string,
  message: AliveMessage,
  author: Author,
  now: Date,
): Promise<{ moved: boolean; warning: string | null }> {
  const ref = aliveRef(name);
  const bad = branchNameProblem(ref.slice('refs/'.length));
  if (bad) return { moved: false, warning: `no liveness ref for ${name}: ${bad}` };
  const current = await src.repo.resolve(ref);
  if (!refreshDue(current ? await aliveRecordAt(src.repo, name, current) : null, message, now))
    return { moved: false, warning: null };
  try {
    const oid = await src.repo.writeOrphanCommit({ message: aliveMessageText(message), author, now });
    if (!src.remote) {
      await src.repo.setRef(ref, oid);
      return { moved: true, warning: null };
    }
    const outcome = await src.remote.pushAlive(name, oid);
    if (outcome.ok) return { moved: true, warning: null };
    return {
      moved: false,
      warning:
        `${src.remote.url.url} refused ${ref} (${outcome.detail || 'no reason given'}): other hosts cannot tell ` +
        "whether this one still runs. Let gitfleet's credentials push refs/gitfleet/* (README, Stale hosts)",
    };
  } catch (e) {
    return { moved: false, warning: `could not move the liveness ref ${ref}: ${errorMessage(e)}` };
  }
}
