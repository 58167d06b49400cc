// A fleet repository that lives on a forge: a private bare clone in the state
// dir (one per URL, named by a hash of it), kept at the remote's heads, read
// exactly like a local repository (git/repo.ts), with gitfleet's status
// commits pushed back.
//
// - Cheap when nothing moved: one request lists the remote's heads; a branch
//   is fetched only when its head differs from the one last fetched whole
//   (refs/gitfleet/fetched/<branch>, written after the fetch finished, so a
//   fetch cut short leaves nothing that is read).
// - Local branches in the clone are set to the remote's heads at each sync:
//   the remote is the truth, and an unpushed status commit of a failed run is
//   dropped (its evidence is still pending in the state dir, committed again).
// - A push rejected because the head moved is redone on the new head by
//   writing gitfleet's files there again (never a merge); a protected branch
//   is a TerminalError naming status.branch.
// - Writes to the clone (its setup, a fetch with its ref updates, a status
//   commit with its push) hold the clone lock (clone-lock.ts): `ps` fetches
//   too, from another process. Files are written whole (atomic-fs.ts), so
//   reading needs no lock.
import fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import git from 'isomorphic-git';
import { TerminalError, TransientError } from '../errors.js';
import { aliveRecordAt } from './alive-record.js';
import { atomicFs } from './atomic-fs.js';
import { acquireCloneLock } from './clone-lock.js';
import { readToken } from './credentials.js';
import { HttpTransport } from './http-transport.js';
import { isOwnPath } from './own-paths.js';
import { cloneDirName, parseRemoteUrl, type RemoteUrl } from './remote-url.js';
import type { RemoteSettings } from './remote-settings.js';
import { Repo } from './repo.js';
import { backoffMs, DEFAULT_RETRY, withRetry } from './retry.js';
import { sshEnv, SshTransport } from './ssh.js';
import { ALIVE_PREFIX, aliveRef, judge } from '../status/liveness.js';
import type { PushOutcome, Transport } from './transport.js';

const FETCHED = 'refs/gitfleet/fetched/';

export class RemoteRepo {
  private heads: Map<string, string> | null = null;
  /** The remote's liveness refs (status/liveness.ts) as its last listing gave them. */
  private alive: Map<string, string> | null = null;
  /** Network requests made (listing, fetches, pushes), for logs and tests. */
  readonly counts = { list: 0, fetch: 0, push: 0 };

  private readonly fs: typeof fs;

  private constructor(
    readonly repo: Repo,
    readonly url: RemoteUrl,
    private readonly transport: Transport,
    private readonly settings: RemoteSettings,
  ) {
    this.fs = atomicFs(repo.gitdir);
  }

  /** Open (creating it at first use) the private clone of `url` under `<stateDir>/repos/`. */
  static async open(text: string, stateDir: string, settings: RemoteSettings): Promise<RemoteRepo> {
    const url = parseRemoteUrl(text, settings);
    // Before anything touches the disk or the network: a missing known_hosts or a readable token file stop here.
    const ssh = url.transport === 'ssh' ? await sshEnv(settings, url.host) : null;
    const token = url.transport === 'http' ? await readToken(settings) : null;
    const gitdir = path.join(stateDir, 'repos', cloneDirName(url.url));
    if (!(await isSetUp(gitdir))) {
      await mkdir(gitdir, { recursive: true, mode: 0o700 });
      const lock = await acquireCloneLock(gitdir, url.url, 'setting up the clone of', settings);
      try {
        if (!(await isSetUp(gitdir))) await setUp(gitdir, url.url);
      } finally {
        await lock.release();
      }
    }
    const transport = ssh
      ? new SshTransport(url.url, gitdir, ssh, settings.timeoutMs)
      : new HttpTransport(url.url, gitdir, token, settings.username, settings.timeoutMs);
    return new RemoteRepo(await openRepo(gitdir, url.url), url, transport, settings);
  }

  /**
   * The same clone, remote and listing (shared: what either learns, the other knows), with a fresh Repo: the
   * daemon reconciles with one of these each time, so a listing it just made is not made again, while a Repo's
   * object cache does not live for weeks.
   */
  async reopen(): Promise<RemoteRepo> {
    const again = new RemoteRepo(await openRepo(this.dir, this.url.url), this.url, this.transport, this.settings);
    again.heads = this.heads; // null before the first listing: then each lists for itself
    again.alive = this.alive;
    return again;
  }

  get dir(): string {
    return this.repo.gitdir;
  }

  private retry<T>(op: () => Promise<T>): Promise<T> {
    return withRetry(op, { attempts: this.settings.attempts, ...DEFAULT_RETRY });
  }

  private async listHeads(): Promise<Map<string, string>> {
    this.counts.list++;
    const refs = await this.retry(() => this.transport.listRefs());
    // Updated in place: instances from reopen() share them, so a push one makes is known to the next.
    this.heads = refill(this.heads, refs.heads);
    this.alive = refill(this.alive, refs.alive);
    return this.heads;
  }

  /**
   * Make the clone's `branches` the remote's heads, fetching only those that
   * moved. Lists the remote once per process unless `relist`.
   */
  sync(branches: readonly string[], relist = false): Promise<{ moved: boolean }> {
    return this.writing('fetching from', () => this.syncHeld(branches, relist));
  }

  /**
   * For a webhook that named the branches pushed: fetch those (each fetch asks for its head itself), without
   * listing every head first. Falls back to sync() before the first listing, which later pushes need.
   */
  fetchPushed(branches: readonly string[]): Promise<void> {
    const heads = this.heads;
    if (!heads) return this.sync(branches, true).then(() => undefined);
    return this.writing('fetching from', async () => {
      for (const b of new Set(branches)) {
        this.counts.fetch++;
        const head = await this.retry(() => this.transport.fetchBranch(b));
        await git.writeRef({ fs: this.fs, gitdir: this.dir, ref: `${FETCHED}${b}`, value: head, force: true });
        heads.set(b, head);
        await this.setLocal(b, head);
      }
    });
  }

  /** `fn` holding the clone lock. */
  private async writing<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    const lock = await acquireCloneLock(this.dir, this.url.url, doing, this.settings);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  private async syncHeld(branches: readonly string[], relist: boolean): Promise<{ moved: boolean }> {
    const heads = relist || !this.heads ? await this.listHeads() : this.heads;
    let moved = false;
    for (const b of new Set(branches)) {
      if (await this.newHead(heads, b)) {
        this.counts.fetch++;
        const head = await this.retry(() => this.transport.fetchBranch(b));
        await git.writeRef({ fs: this.fs, gitdir: this.dir, ref: `${FETCHED}${b}`, value: head, force: true });
        moved = true;
      }
      await this.setLocal(b, heads.has(b) ? (await this.repo.resolve(`${FETCHED}${b}`))! : null);
    }
    return { moved };
  }

  /**
   * For the daemon's poll: whether any of `branches` moved on the remote since it was last fetched. Lists the
   * remote's heads and reads refs, never fetches or writes: it may run while a reconcile fetches.
   */
  async moved(branches: readonly string[]): Promise<boolean> {
    const heads = await this.listHeads();
    for (const b of new Set(branches)) if (await this.newHead(heads, b)) return true;
    return false;
  }

  /** The remote's head of `branch` when it is not what was last fetched whole; null when the same or none. */
  private async newHead(heads: ReadonlyMap<string, string>, branch: string): Promise<string | null> {
    const remote = heads.get(branch) ?? null;
    return remote !== null && remote !== (await this.repo.resolve(`${FETCHED}${branch}`)) ? remote : null;
  }

  private async setLocal(branch: string, oid: string | null): Promise<void> {
    const ref = `refs/heads/${branch}`;
    if (oid === null) await git.deleteRef({ fs: this.fs, gitdir: this.dir, ref }).catch(() => undefined);
    else if ((await this.repo.resolve(ref)) !== oid)
      await git.writeRef({ fs: this.fs, gitdir: this.dir, ref, value: oid, force: true });
  }

  /**
   * The remote's liveness refs as far as judging them at `now` needs (name → commit in the clone). A ref that
   * moved is fetched only when the copy at hand is missing or would judge it stale: a newer record of the same
   * reconciler is seen later still, so it can only be alive too. Over HTTP each fetch is a request of its own,
   * so a reader fetches another host's ref about once in three of its intervals, not at every run; over ssh one
   * fetch takes them all. `exact` (ps: it shows when each was last seen) fetches every ref that moved. Uses the
   * listing of this run's sync, so a fleet where nobody moved costs no request.
   */
  async aliveRefs(now: Date, exact = false): Promise<Map<string, string>> {
    if (!this.alive) await this.listHeads();
    const local = await this.repo.refsUnder(ALIVE_PREFIX);
    const out = new Map<string, string>();
    const moved: string[] = [];
    for (const [name, oid] of this.alive!) {
      const have = local.get(name);
      if (have === oid) out.set(name, oid);
      else if (have && !exact && (await this.freshCopy(name, have, now))) out.set(name, have);
      else {
        moved.push(aliveRef(name));
        out.set(name, oid);
      }
    }
    if (moved.length > 0) {
      this.counts.fetch++;
      await this.writing('fetching liveness refs from', () => this.retry(() => this.transport.fetchRefs(moved)));
    }
    return out;
  }

  /** Whether the clone's liveness record `oid` of `name` still judges it alive at `now`. */
  private async freshCopy(name: string, oid: string, now: Date): Promise<boolean> {
    const r = await aliveRecordAt(this.repo, name, oid);
    return r !== null && judge(r, now).state === 'alive';
  }

  /**
   * Move this reconciler's liveness ref on the remote to `oid` (forced: no one else writes it). The clone's ref
   * of that name is the last one the remote took: set back when the push fails, so the next run tries again.
   */
  pushAlive(name: string, oid: string): Promise<PushOutcome> {
    return this.writing('pushing the liveness ref to', () => this.pushAliveHeld(name, oid));
  }

  private async pushAliveHeld(name: string, oid: string): Promise<PushOutcome> {
    const ref = aliveRef(name);
    const before = await this.repo.resolve(ref);
    await this.repo.setRef(ref, oid);
    let outcome: PushOutcome | null = null;
    try {
      this.counts.push++;
      outcome = await this.retry(() => this.transport.forcePush(ref, oid));
      if (outcome.ok) this.alive?.set(name, oid);
      return outcome;
    } finally {
      // Failing that too, the push's own error is the one to report: a clone's ref left at `oid` only delays the
      // next push of the liveness ref by half an interval (status/liveness.ts refreshDue).
      if (!outcome?.ok) await this.repo.setRef(ref, before).catch(() => undefined);
    }
  }

  /**
   * Commit with `write` (which writes gitfleet's files on the clone's current
   * head of `branch`) and push. A rejection because the head moved: fetch
   * it, write again on the new head, push again (bounded, with jittered
   * backoff). Returns what `write` returned last.
   */
  commitAndPush(branch: string, host: string, write: () => Promise<string | null>): Promise<string | null> {
    return this.writing('pushing status to', () => this.commitAndPushHeld(branch, host, write));
  }

  private async commitAndPushHeld(branch: string, host: string, write: () => Promise<string | null>) {
    const attempts = 5;
    for (let attempt = 1; ; attempt++) {
      const commit = await write();
      const local = await this.repo.resolve(branch);
      // The remote's head as last fetched whole, by this process or another (a `ps` may have fetched since).
      const remote = await this.repo.resolve(`${FETCHED}${branch}`);
      if (!local || local === remote) return commit;
      await this.assertOwnCommits(branch, local, host, remote);
      this.counts.push++;
      const outcome = await this.retry(() => this.transport.push(branch, local));
      if (outcome.ok) {
        this.heads?.set(branch, local);
        await git.writeRef({ fs: this.fs, gitdir: this.dir, ref: `${FETCHED}${branch}`, value: local, force: true });
        return commit;
      }
      if (outcome.reason === 'protected')
        throw new TerminalError(
          `pushing status to branch "${branch}" of ${this.url.url} was refused (${outcome.detail}): the branch is ` +
            'protected or the credentials may not push there. Set status.branch in fleet.yaml to a branch ' +
            'gitfleet may push to (e.g. status: {branch: gitfleet-status})',
        );
      if (attempt >= attempts)
        throw new TransientError(
          `pushing status to branch "${branch}" of ${this.url.url}: the branch kept moving (${attempts} attempts); ` +
            'will retry next run',
        );
      await new Promise((r) => setTimeout(r, backoffMs(attempt, DEFAULT_RETRY)));
      // Someone pushed in between: take their head and write gitfleet's files again on top of it.
      await this.syncHeld([branch], true);
    }
  }

  /**
   * Before a push: every commit between what the remote has and what will be
   * pushed has one parent and touches only gitfleet's own paths for `host`.
   */
  private async assertOwnCommits(branch: string, local: string, host: string, fetched: string | null) {
    const known = new Set([...(this.heads?.values() ?? []), ...(fetched ? [fetched] : [])]);
    let oid = local;
    for (let i = 0; i < 50 && !known.has(oid); i++) {
      const { parents, paths } = await this.repo.changedPaths(oid);
      const foreign = paths.filter((p) => !isOwnPath(p, host));
      if (parents !== 1 || foreign.length > 0) {
        const why = parents !== 1 ? `has ${parents} parents` : `changes ${foreign.slice(0, 3).join(', ')}`;
        throw new TerminalError(
          `refusing to push ${oid.slice(0, 12)} to ${branch}: gitfleet's commits may change only its own files ` +
            `(status/${host}.*, evidence/${host}/), this one ${why}`,
        );
      }
      oid = (await this.repo.firstParent(oid))!;
    }
    if (!known.has(oid))
      throw new TerminalError(`refusing to push ${local.slice(0, 12)} to ${branch}: it does not build on the remote`);
  }
}

/** The refspec is set last: a clone whose setup was cut short is set up again. */
async function isSetUp(gitdir: string): Promise<boolean> {
  if (!fs.existsSync(path.join(gitdir, 'HEAD'))) return false;
  return (await git.getConfig({ fs, gitdir, path: 'remote.origin.fetch' }).catch(() => undefined)) !== undefined;
}

/** Set up a bare clone of `url` at `gitdir` (under the clone lock: two first runs may race). */
async function setUp(gitdir: string, url: string): Promise<void> {
  const afs = atomicFs(gitdir);
  await git.init({ fs: afs, gitdir, bare: true, defaultBranch: 'main' });
  // For people looking into the state dir; holds no credentials (they are refused in URLs).
  await git.setConfig({ fs: afs, gitdir, path: 'gitfleet.url', value: url });
  await git.setConfig({ fs: afs, gitdir, path: 'gc.auto', value: '0' });
  // Fetched heads land under refs/remotes/origin/ (isomorphic-git needs the refspec); gitfleet reads them
  // only once marked whole under refs/gitfleet/fetched/.
  await git.setConfig({ fs: afs, gitdir, path: 'remote.origin.url', value: url });
  await git.setConfig({ fs: afs, gitdir, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
}

async function openRepo(gitdir: string, url: string): Promise<Repo> {
  const repo = await Repo.open(gitdir);
  repo.label = url;
  return repo;
}

/** `into` made equal to `from`, in place when there is one (it may be shared), else `from` itself. */
function refill(into: Map<string, string> | null, from: Map<string, string>): Map<string, string> {
  if (!into) return from;
  into.clear();
  for (const [k, v] of from) into.set(k, v);
  return into;
}
