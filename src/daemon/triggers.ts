// What wakes the daemon: a change of the desired branch (ChangeSource), the
// schedule (croner, shifted by a fixed per-host offset), and the observe tick.
// Each calls back; run.ts turns the calls into state-machine events.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { Cron } from 'croner';
import { scheduleIntervalMs } from '../desired/cron.js';
import { FLEET_FILE } from '../desired/fleet-config.js';
import type { FleetConfig } from '../desired/types.js';
import type { RemoteRepo } from '../git/remote.js';
import type { RemoteSettings } from '../git/remote-settings.js';
import { isRemoteRepo } from '../git/remote-url.js';
import { Repo } from '../git/repo.js';
import type { Trigger } from './machine.js';

/**
 * Where desired-state changes come from. The local one watches the ref files; a remote one (to come) polls the
 * remote head and is poked by webhooks. Either way the daemon then compares desired-state keys (desiredKey), so a
 * source may call `changed` freely: a status commit that moved the head changes no key.
 */
export interface ChangeSource {
  /** Start noticing moves of these branches; `changed` is called (debounced by the caller) on each. */
  start(branches: readonly string[], changed: () => void): Promise<void>;
  /** Follow other branches (fleet.yaml named another one). */
  follow(branches: readonly string[]): Promise<void>;
  /**
   * Bring what gitfleet reads up to date before a reconcile: a remote source fetches the branches here when the
   * remote head moved (for a webhook, a poll, or the schedule). Local: nothing to do, the repository is the truth.
   * `pushed`: the branches verified webhooks named since the last refresh (null: one named none).
   */
  refresh(trigger: Trigger, pushed: readonly string[] | null): Promise<void>;
  /** What a reconcile reads a remote repository through: the clone just refreshed (undefined: local). */
  clone(): Promise<RemoteRepo | undefined>;
  close(): Promise<void>;
}

/**
 * The change source for `--repo`, and the gitdir the daemon reads desired state from. The one place a remote
 * source plugs in: for a URL, a source that keeps the private clone, polls the remote head (with jitter) and
 * fetches in refresh(); its gitdir is the clone's.
 */
export async function openChangeSource(
  repo: string,
  ctx: { stateDir: string; remote: RemoteSettings; host: string; pollMs?: number },
): Promise<{ source: ChangeSource; gitdir: string }> {
  if (isRemoteRepo(repo)) {
    // Loaded only for a URL: git/remote.ts brings isomorphic-git, which a daemon on a local repository never needs.
    const { RemoteRepo } = await import('../git/remote.js');
    const remote = await RemoteRepo.open(repo, ctx.stateDir, ctx.remote);
    return { source: new RemotePollSource(remote, ctx.pollMs ?? DEFAULT_POLL_MS, ctx.host), gitdir: remote.dir };
  }
  const { gitdir } = await Repo.open(repo);
  return { source: new LocalRefSource(gitdir), gitdir };
}

/** How often a remote repository's heads are asked for (GITFLEET_POLL_INTERVAL, seconds), between webhooks. */
export const DEFAULT_POLL_MS = 60_000;

/**
 * A remote repository: its heads are listed every poll interval (±20% jitter; the first at this host's offset,
 * so hosts on one forge spread out), and a head that moved calls `changed`. Only refresh() fetches, and the daemon
 * calls it inside a job, so a fetch never races a reconcile's reading of the clone. A failed poll is retried at the
 * next one: the schedule and webhooks still reconcile, and the reconcile reports the forge's error.
 */
export class RemotePollSource implements ChangeSource {
  private timer: NodeJS.Timeout | null = null;
  private branches: string[] = [];
  private closed = false;

  constructor(
    private readonly remote: RemoteRepo,
    private readonly everyMs: number,
    private readonly host: string,
  ) {}

  async start(branches: readonly string[], changed: () => void): Promise<void> {
    this.branches = [...branches];
    const tick = async () => {
      try {
        if (await this.remote.moved(this.branches)) changed();
      } catch {
        // The next poll, the schedule or a webhook tries again; a reconcile says what is wrong.
      }
      if (!this.closed) this.timer = setTimeout(tick, this.everyMs * (0.8 + 0.4 * Math.random()));
    };
    this.timer = setTimeout(tick, hostOffsetMs(this.host, this.everyMs));
  }

  async follow(branches: readonly string[]): Promise<void> {
    this.branches = [...new Set([...this.branches, ...branches])];
  }

  /**
   * Fetch what moved, except for a look (observe: cheap, no network by design). A webhook that named only
   * watched branches: those are fetched straight away, without listing every head first (one round trip less
   * between a merge and its agents).
   */
  async refresh(trigger: Trigger, pushed: readonly string[] | null): Promise<void> {
    if (trigger === 'observe') return;
    if (trigger === 'webhook' && pushed?.length && pushed.every((b) => this.branches.includes(b)))
      await this.remote.fetchPushed(pushed);
    else await this.remote.sync(this.branches, true);
  }

  clone(): Promise<RemoteRepo> {
    return this.remote.reopen();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** A local repository: chokidar on `refs/heads/<branch>` and `packed-refs` (git gc moves refs there). */
export class LocalRefSource implements ChangeSource {
  private watcher: FSWatcher | null = null;
  private files = new Set<string>();
  private changed: () => void = () => {};

  constructor(private readonly gitdir: string) {}

  async start(branches: readonly string[], changed: () => void): Promise<void> {
    this.changed = changed;
    await this.follow(branches);
  }

  async follow(branches: readonly string[]): Promise<void> {
    const files = new Set([
      path.join(this.gitdir, 'packed-refs'),
      ...branches.map((b) => path.join(this.gitdir, 'refs', 'heads', b)),
    ]);
    if (this.watcher && [...files].every((f) => this.files.has(f)) && files.size === this.files.size) return;
    await this.watcher?.close();
    this.files = files;
    // Directories, not the files: git replaces a ref by renaming `<ref>.lock` over it, which a watch on the old
    // file (its inode) would miss. depth 0: nothing below them is read.
    const dirs = [...new Set([...files].map((f) => path.dirname(f)))];
    const watcher = watch(dirs, { ignoreInitial: true, depth: 0, atomic: false });
    watcher.on('all', (_event, p) => {
      if (this.files.has(p)) this.changed();
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    this.watcher = watcher;
  }

  async refresh(): Promise<void> {}

  async clone(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
  }
}

/**
 * What desired state a branch holds, as a key: the tree ids of fleet.yaml and the kinds' folders at each
 * branch's head. gitfleet's own commits (status/, evidence/) leave it unchanged, whatever the commit id: so the
 * daemon never triggers itself. A fresh Repo each time: its object cache would otherwise grow for weeks.
 */
export async function desiredKey(gitdir: string, branches: readonly string[], config: FleetConfig | null) {
  const repo = await Repo.open(gitdir);
  const dirs = config ? Object.values(config.paths) : ['rosters', 'boards', 'huts', 'vault'];
  const parts: string[] = [];
  for (const b of branches) {
    const head = await repo.resolve(b);
    if (!head) {
      parts.push(`${b} -`);
      continue;
    }
    for (const p of [FLEET_FILE, ...dirs]) parts.push(`${b} ${p} ${(await repo.entryAt(head, p))?.oid ?? '-'}`);
  }
  return parts.join('\n');
}

/** The branches the daemon watches: the one named on the command line, else main and the one fleet.yaml names. */
export function watchedBranches(cliBranch: string | null, config: FleetConfig | null): string[] {
  if (cliBranch) return [cliBranch];
  return [...new Set(['main', config?.branch ?? 'main'])];
}

/** `fn` once, `ms` after the last of a burst of calls. */
export function debounce(fn: () => void, ms: number): { call: () => void; cancel: () => void } {
  let timer: NodeJS.Timeout | null = null;
  return {
    call() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** This host's fixed offset within an interval: twenty hosts on one repo do not all fire at the same second. */
export function hostOffsetMs(host: string, intervalMs: number): number {
  const h = createHash('sha256').update(host).digest().readUInt32BE(0);
  return intervalMs > 0 ? h % intervalMs : 0;
}

/** setTimeout's longest delay; a run further away is waited for in steps. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * A cron pattern, every run shifted later by the host's offset. croner computes the runs; the timers are ours,
 * so the offset applies to every run, not just the first.
 */
export class Schedule {
  private timer: NodeJS.Timeout | null = null;
  private readonly cron: Cron;
  readonly intervalMs: number;
  readonly offsetMs: number;

  constructor(
    readonly pattern: string,
    host: string,
    private readonly fire: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.cron = new Cron(pattern, { paused: true });
    this.intervalMs = scheduleIntervalMs(pattern);
    this.offsetMs = hostOffsetMs(host, this.intervalMs);
  }

  /** When this host's next run is due (ms), or null when the pattern has no more runs. */
  nextAt(after = this.now()): number | null {
    const base = this.cron.nextRun(new Date(Math.max(after, this.now()) - this.offsetMs));
    return base ? base.getTime() + this.offsetMs : null;
  }

  /** Arm the next run (after `after`: the run just fired never fires twice). */
  start(after = this.now()): void {
    this.stop();
    const at = this.nextAt(after);
    if (at === null) return;
    const arm = () => {
      const wait = at - this.now();
      this.timer = setTimeout(
        () => {
          if (this.now() < at) return arm();
          this.fire();
          this.start(at + 1);
        },
        Math.min(Math.max(wait, 0), MAX_DELAY),
      );
    };
    arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** The observe tick: a look every `ms`. */
export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  constructor(
    readonly ms: number,
    private readonly tick: () => void,
  ) {}
  start(): void {
    this.stop();
    this.timer = setInterval(this.tick, this.ms);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
