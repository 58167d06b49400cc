// Opening `--repo` for reading desired state. A path on this host is a Repo as it is; only a URL loads
// git/remote.ts (and with it isomorphic-git, for fetch and push), so a local reconcile never loads either.
import { TerminalError } from '../errors.js';
import type { RemoteRepo } from './remote.js';
import type { RemoteSettings } from './remote-settings.js';
import { isRemoteRepo, redactUrl } from './remote-url.js';
import { Repo } from './repo.js';

/**
 * `--repo` opened for reading desired state: a path on this host as it is,
 * a URL as its private clone in `stateDir` (git/remote.ts). The caller
 * syncs the branches it needs (RemoteRepo.sync) before reading them.
 */
export async function openFleetRepo(opts: {
  repo: string;
  stateDir?: string | undefined;
  remote?: RemoteSettings | undefined;
}): Promise<{ repo: Repo; remote: RemoteRepo | null }> {
  if (!isRemoteRepo(opts.repo)) return { repo: await Repo.open(opts.repo), remote: null };
  if (!opts.stateDir || !opts.remote)
    throw new TerminalError(`--repo ${redactUrl(opts.repo)}: a remote repository needs a state dir`);
  const { RemoteRepo } = await import('./remote.js');
  const remote = await RemoteRepo.open(opts.repo, opts.stateDir, opts.remote);
  return { repo: remote.repo, remote };
}

/** Where status goes when fleet.yaml has no status.branch and the repository is remote (README: why). */
export const REMOTE_STATUS_BRANCH = 'gitfleet-status';
