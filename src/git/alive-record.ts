// Reading one liveness record (status/liveness.ts) back from its commit: shared by git/alive.ts and the remote
// clone's fresh-copy check (git/remote.ts), which alive.ts itself uses, so it stands apart from both.
import { type AliveRecord, parseAlive } from '../status/liveness.js';
import type { Repo } from './repo.js';

/** The liveness record commit `oid` holds for `name`, or null when it is missing or not one. */
export async function aliveRecordAt(repo: Repo, name: string, oid: string): Promise<AliveRecord | null> {
  const c = await repo.commitInfo(oid);
  return c ? parseAlive(name, c.message, c.committedAt) : null;
}
