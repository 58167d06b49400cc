// One writer at a time in a remote repository's private clone. `ps`, `plan`
// and `validate` fetch too, without the state dir's reconcile lock (they would
// otherwise wait for a whole apply), so two gitfleets could write one .git at
// once: two fetches, or a `ps` setting refs/heads/<status branch> back to the
// remote's head under an apply's status commit before it was pushed. This lock
// is held only around a fetch with its ref updates, or a status commit and its
// push: a reader waits for one network operation, never for a whole apply.
// Reads need no lock: every file the writers write appears whole (atomic-fs.ts).
import { TransientError } from '../errors.js';
import { acquireNamedLock, type Lock, lockName } from '../lock.js';
import { redactUrl } from './remote-url.js';
import type { RemoteSettings } from './remote-settings.js';

export function acquireCloneLock(
  gitdir: string,
  url: string,
  doing: string,
  settings: Pick<RemoteSettings, 'timeoutMs' | 'notice'>,
): Promise<Lock> {
  // Bounded by one network operation's timeout: about the longest a holder keeps it between two checks.
  const waitMs = settings.timeoutMs;
  return lockName(gitdir, 'clone').then((name) =>
    acquireNamedLock(name, `gitfleet ${doing} ${redactUrl(url)}`, waitMs, {
      slow: (who) =>
        settings.notice?.(`waiting for the private clone of ${redactUrl(url)}: another gitfleet writes it, ${who}`),
      held: (who) =>
        new TransientError(
          `the private clone of ${redactUrl(url)} (${gitdir}) is locked by another gitfleet writing it: ${who}; ` +
            `gave up after ${Math.round(waitMs / 1000)} s (GITFLEET_GIT_TIMEOUT); try again when it has finished`,
        ),
    }),
  );
}
