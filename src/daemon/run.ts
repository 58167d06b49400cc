// `gitfleet run`: the daemon. Wires the triggers (triggers.ts), the listener
// (http.ts) and the signals to the state machine (machine.ts), and carries out
// its effects: a full reconcile (reconcile.ts, as `apply` runs it), a cheap
// look (plan mode: tmux, heartbeats, units; no fetch), a retry timer, the exit.
//
// Locks: the daemon holds its own `daemon` lock for its lifetime (one daemon
// per state dir, so per host and tenant) but the `reconcile` lock only while a
// reconcile runs, so a `gitfleet apply` by hand works while the daemon idles
// (and the daemon, finding the lock held, backs off and retries).
import type { GlobalOptions } from '../cli/options.js';
import { reconcileOptions } from '../cli/settings.js';
import type { Io } from '../cli/io.js';
import type { FleetConfig } from '../desired/types.js';
import { errorMessage, GitfleetError, TerminalError, TransientError, UsageError } from '../errors.js';
import { acquireLock, ensureStateDir, type Lock } from '../lock.js';
import type { Plan } from '../plan/types.js';
import { reconcile } from '../reconcile.js';
import { agentState } from '../report/agent-state.js';
import { collectAfter } from './heap.js';
import { DaemonHttp, isLoopback, type ListenAddress } from './http.js';
import { DaemonLog, type LogFormat, type ReconcileOutcome } from './log.js';
import { initialState, step, type Effect, type Job, type MachineEvent, type Outcome, type Trigger } from './machine.js';
import { DaemonMetrics } from './metrics.js';
import {
  type ChangeSource,
  debounce,
  desiredKey,
  openChangeSource,
  Schedule,
  Ticker,
  watchedBranches,
} from './triggers.js';
import { DEFAULT_OBSERVE_EVERY_MS, DEFAULT_SCHEDULE } from '../desired/fleet-config.js';

export interface DaemonOptions {
  opts: GlobalOptions;
  io: Io;
  listen: ListenAddress | null;
  logFormat: LogFormat;
  webhookSecret: string | null;
}

/** Ref events come in bursts (a push writes the ref, a gc packs it): one look ~100 ms after the last. */
const REF_DEBOUNCE_MS = 100;

export class Daemon {
  private state = initialState();
  private readonly log: DaemonLog;
  readonly metrics = new DaemonMetrics();
  private source: ChangeSource | null = null;
  private schedule: Schedule | null = null;
  private ticker: Ticker | null = null;
  private http: DaemonHttp | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly refChanged = debounce(() => this.send({ type: 'trigger', trigger: 'ref-change' }), REF_DEBOUNCE_MS);
  /** The fleet settings of the last reconcile that read them (schedule, branches, paths). */
  private config: FleetConfig | null = null;
  /** The desired-state key the last full reconcile started from (triggers.ts desiredKey). */
  private lastKey: string | null = null;
  /** What the last look that acted saw: the same again is not acted on twice (a failing action waits). */
  private lastLook: string | null = null;
  private lastSuccess: Date | null = null;
  private lastOutcome: ReconcileOutcome | null = null;
  /** Branches verified webhooks named since the last reconcile began; null once one named none. */
  private pushed: Set<string> | null = new Set();
  private gitdir = '';
  private exited!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.exited = resolve));

  constructor(private readonly o: DaemonOptions) {
    this.log = new DaemonLog(o.logFormat, o.io.stdout);
  }

  /** Run until SIGTERM or SIGINT; resolves once stopped (the current reconcile finished, every lock released). */
  async run(): Promise<void> {
    const { opts } = this.o;
    await ensureStateDir(opts.stateDir);
    const lock = await this.daemonLock();
    const onSignal = (sig: NodeJS.Signals) => {
      this.log.event('stopping', { signal: sig, reconciling: this.state.running?.kind === 'reconcile' });
      this.send({ type: 'stop' });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const pollSeconds = Number(this.o.io.env.GITFLEET_POLL_INTERVAL);
      const { source, gitdir } = await openChangeSource(opts.repo, {
        stateDir: opts.stateDir,
        remote: opts.remote,
        host: opts.host,
        ...(pollSeconds > 0 ? { pollMs: pollSeconds * 1000 } : {}),
      });
      this.source = source;
      this.gitdir = gitdir;
      await this.source.start(watchedBranches(opts.branch, null), () => this.refChanged.call());
      if (this.o.listen) await this.startHttp(this.o.listen);
      // No schedule yet: fleet.yaml's comes with the start reconcile (configured), and the default armed now fired
      // a reconcile of its own whenever its run fell within the start one. A start that fails arms the default.
      this.log.event('started', {
        repo: opts.repo,
        host: opts.host,
        tenant: opts.tenant,
        pid: process.pid,
        ...(this.http ? { listen: this.http.address } : {}),
      });
      this.send({ type: 'trigger', trigger: 'start' });
      await this.done;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      this.refChanged.cancel();
      this.schedule?.stop();
      this.ticker?.stop();
      if (this.retryTimer) clearTimeout(this.retryTimer);
      await this.source?.close();
      await this.http?.close();
      await lock.release();
    }
    this.log.event('stopped', {});
  }

  private async daemonLock(): Promise<Lock> {
    const { opts } = this.o;
    try {
      return await acquireLock(opts.stateDir, `gitfleet run --repo ${opts.repo}`, 0, 'daemon');
    } catch (e) {
      if (!(e instanceof TransientError)) throw e;
      throw new TerminalError(
        `gitfleet run is already running for state dir ${opts.stateDir} (one daemon per host and tenant): ` +
          errorMessage(e).replace(/^another gitfleet holds the lock of state dir \S+: /, ''),
      );
    }
  }

  private async startHttp(at: ListenAddress): Promise<void> {
    if (!isLoopback(at.host))
      this.log.event('warning', {
        message:
          `listening on ${at.host}, not loopback: /metrics and /healthz are readable from the network; ` +
          'webhooks are still verified',
      });
    this.http = await DaemonHttp.listen(at, {
      secret: this.o.webhookSecret,
      log: this.log,
      metrics: this.metrics,
      onPush: (_forge, branch) => {
        if (branch === null) this.pushed = null;
        else this.pushed?.add(branch);
        this.send({ type: 'trigger', trigger: 'webhook' });
      },
      health: () => this.health(),
    });
  }

  /** Healthy while the last reconcile ran to its end within three schedule intervals. */
  health(now = new Date()): { healthy: boolean; body: Record<string, unknown> } {
    const interval = this.schedule?.intervalMs ?? 0;
    const healthy = this.lastSuccess !== null && now.getTime() - this.lastSuccess.getTime() <= 3 * interval;
    return {
      healthy,
      body: {
        healthy,
        lastSuccess: this.lastSuccess?.toISOString() ?? null,
        lastOutcome: this.lastOutcome,
        scheduleIntervalSeconds: interval / 1000,
        reconciling: this.state.running?.kind === 'reconcile',
      },
    };
  }

  /** (Re)arm the schedule and the observe tick when fleet.yaml changed them. */
  private arm(pattern: string, observeEveryMs: number): void {
    if (this.state.stopping) return;
    if (this.schedule?.pattern !== pattern) {
      this.schedule?.stop();
      this.schedule = new Schedule(pattern, this.o.opts.host, () =>
        this.send({ type: 'trigger', trigger: 'schedule' }),
      );
      this.schedule.start();
    }
    if (this.ticker?.ms !== observeEveryMs) {
      this.ticker?.stop();
      this.ticker = new Ticker(observeEveryMs, () => this.send({ type: 'look' }));
      this.ticker.start();
    }
  }

  private send(e: MachineEvent): void {
    const r = step(this.state, e, Date.now());
    this.state = r.state;
    for (const effect of r.effects) this.carryOut(effect);
  }

  private carryOut(effect: Effect): void {
    switch (effect.type) {
      case 'exit':
        this.exited();
        return;
      case 'arm':
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.send({ type: 'timer' }), Math.max(0, effect.at - Date.now()));
        return;
      case 'start':
        void this.runJob(effect.job)
          .catch((): Outcome => 'transient') // each job reports its own errors; this is a last guard
          .then((outcome) => {
            // What the job allocated is garbage now: freed before the daemon idles or starts the next (heap.ts).
            collectAfter(effect.job.kind);
            this.send({ type: 'done', outcome });
          });
        return;
    }
  }

  private runJob(job: Job): Promise<Outcome> {
    return job.kind === 'look' ? this.look() : this.reconcile(job.trigger);
  }

  private async reconcile(trigger: Trigger): Promise<Outcome> {
    const { opts, io } = this.o;
    const branches = watchedBranches(opts.branch, this.config);
    const started = Date.now();
    const ro = reconcileOptions(opts, io, true);
    const pushed = this.pushed && [...this.pushed];
    this.pushed = new Set();
    let refreshed = false;
    let key: Promise<string | null> = Promise.resolve(null);
    try {
      await this.source!.refresh(trigger, pushed);
      refreshed = true;
      ro.trace?.('refresh', Date.now() - started);
      // The key is an optimisation: when it cannot be read, the reconcile below says what is wrong.
      key = desiredKey(this.gitdir, branches, this.config).catch(() => null);
      // A ref moved but the desired state did not (gitfleet's own status commit, a branch reset to the same
      // tree): nothing to do, and no log line. Any other trigger reconciles anyway: its key is read alongside.
      if (trigger === 'ref-change' && (await key) === this.lastKey) return 'unchanged';
    } catch {
      // A failed fetch: the reconcile below fetches again itself, and reports the error.
    }
    const line = { trigger, actions: 0, failed: 0, revision: null, commit: null, error: null };
    try {
      // The clone just refreshed, with the listing made for it: nothing is asked of the remote twice.
      const clone = refreshed ? await this.source!.clone() : undefined;
      const r = await reconcile({ ...ro, ...(clone ? { clone } : {}) }, 'apply');
      this.lastKey = await key;
      for (const message of r.warnings ?? []) this.log.event('warning', { message });
      const failed = r.results.filter((x) => !x.ok).length;
      const outcome: ReconcileOutcome =
        r.desired.problems.length > 0 ? 'invalid' : r.status?.converged ? 'ok' : 'not-converged';
      this.finished({
        ...line,
        outcome,
        actions: r.results.length,
        failed,
        revision: r.plan.desiredRevision,
        commit: r.commit,
        durationMs: Date.now() - started,
        results: r.results.map((x) => ({ kind: x.action.kind, ok: x.ok })),
        agents: agentCounts(r.status?.agents ?? []),
      });
      this.configured(r.desired.config);
      this.lastLook = failedLook(r.results);
      return 'ok';
    } catch (e) {
      const outcome: ReconcileOutcome =
        e instanceof TransientError
          ? 'transient'
          : e instanceof TerminalError || e instanceof UsageError
            ? 'terminal'
            : 'error';
      const error = e instanceof GitfleetError ? e.message : `internal error: ${errorMessage(e)}`;
      this.finished({ ...line, outcome, error, durationMs: Date.now() - started, results: [], agents: null });
      // fleet.yaml never read yet: the default schedule and looks, until a reconcile reads it.
      if (!this.config) this.arm(DEFAULT_SCHEDULE, DEFAULT_OBSERVE_EVERY_MS);
      // An unexpected error may well pass: retried with backoff like a transient one.
      return outcome === 'terminal' ? 'terminal' : 'transient';
    }
  }

  private finished(
    l: Parameters<DaemonLog['reconcile']>[0] & {
      results: { kind: string; ok: boolean }[];
      agents: Map<string, number> | null;
    },
  ): void {
    const now = new Date();
    this.log.reconcile(l);
    this.metrics.reconciled({ ...l, actions: l.results, finishedAt: now });
    this.lastOutcome = l.outcome;
    if (l.outcome === 'ok' || l.outcome === 'not-converged' || l.outcome === 'invalid') this.lastSuccess = now;
  }

  /** New fleet settings: follow another branch, a new schedule or observe interval. */
  private configured(config: FleetConfig): void {
    this.config = config;
    this.arm(config.schedule, config.observeEveryMs);
    void this.source?.follow(watchedBranches(this.o.opts.branch, config)).catch((e) => {
      this.log.event('warning', { message: `cannot watch the branch refs: ${errorMessage(e)}` });
    });
  }

  /**
   * A cheap look between full reconciles: observe and plan, nothing applied, no lock, no fetch (a remote
   * repository's clone is read as the last reconcile left it). A full reconcile
   * follows only when the plan has work and what it sees differs from what the last acting look saw (a pane died,
   * an agent left its roster by hand): the same failing action is retried at the schedule, not every tick.
   */
  private async look(): Promise<Outcome> {
    try {
      const { plan } = await reconcile({ ...reconcileOptions(this.o.opts, this.o.io), fetch: false }, 'plan');
      const seen = lookKey(plan);
      if (plan.actions.length > 0 && seen !== this.lastLook) {
        this.lastLook = seen;
        this.send({ type: 'trigger', trigger: 'observe' });
      }
    } catch {
      // The next full reconcile reports what is wrong, once.
    }
    return 'look-quiet';
  }
}

/** What a look acts on: the plan's actions with the facts that change when a pane dies again. */
function lookKey(plan: Pick<Plan, 'actions'>): string {
  return plan.actions
    .map((a) => `${a.kind} ${a.target} ${a.reason} ${a.detail.streak ?? ''} ${a.detail.exitStatus ?? ''}`)
    .sort()
    .join('\n');
}

/** After a reconcile: its failed actions are "seen", so a look does not retry them at once. */
function failedLook(results: readonly { ok: boolean; action: Plan['actions'][number] }[]): string | null {
  const failed = results.filter((r) => !r.ok).map((r) => r.action);
  return failed.length > 0 ? lookKey({ actions: failed }) : null;
}

function agentCounts(agents: readonly Parameters<typeof agentState>[0][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of agents) counts.set(agentState(a), (counts.get(agentState(a)) ?? 0) + 1);
  return counts;
}
