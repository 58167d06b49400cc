// One reconcile, top to bottom (DESIGN §4). Each step lives in its own
// module; this file only wires them together.
import { applyActions } from './apply/apply.js';
import { rotateCronLog, rotateLogs } from './apply/log-rotate.js';
import type { ActionResult } from './apply/types.js';
import path from 'node:path';
import { loadDesired, readFleetConfig } from './desired/load.js';
import { buildId, ParseMemo } from './desired/parse-memo.js';
import type { AgentSpec, DesiredState, FleetConfig } from './desired/types.js';
import type { HeartbeatJudgement } from './heartbeat/protocol.js';
import { errorMessage, TerminalError, TransientError, UsageError } from './errors.js';
import { scheduleInterval } from './desired/schedule.js';
import { keepAlive, readAliveRecords } from './git/alive.js';
import {
  type AliveMessage,
  aliveIntervalSeconds,
  RUN_EVERY_ENV,
  type StaleReconciler,
  staleOthers,
} from './status/liveness.js';
import { defaultFleetName, fleetId, markForeign } from './fleet-identity.js';
import { branchNameProblem } from './git/refname.js';
import { objectId } from './git/objects.js';
import { Repo } from './git/repo.js';
import { openFleetRepo, REMOTE_STATUS_BRANCH } from './git/open-repo.js';
import type { RemoteRepo } from './git/remote.js';
import type { RemoteSettings } from './git/remote-settings.js';
import { workTreeOf } from './git/worktree.js';
import { acquireLock, ensureStateDir } from './lock.js';
import { observeHeartbeats } from './observe/heartbeat.js';
import { observeSupervisor, type SupervisorObservation } from './observe/supervisor.js';
import { observeSystemd, type SystemdQuery } from './observe/systemd.js';
import { observeSocket, type SocketObservation } from './observe/tmux.js';
import type { PlanContext } from './plan/input.js';
import { agentsInScope, socketsToObserve } from './plan/scope.js';
import { DEFAULT_BACKOFF } from './plan/crash-loop.js';
import { plan as makePlan } from './plan/plan.js';
import type { Plan } from './plan/types.js';
import { actionKind } from './plan/action-kinds.js';
import type { SupervisorInput } from './plan/units.js';
import type { Pinned } from './pinned.js';
import { statusFileText } from './report/status-json.js';
import { renderStatusMarkdown } from './report/status-md.js';
import { buildStatus } from './status/build.js';
import { MarkdownMemo } from './status/md-memo.js';
import { eventEvidence, serverLossEvents, type ObservedEvent } from './status/evidence.js';
import { evidenceRecorder, PendingEvidence } from './status/pending.js';
import { Systemctl } from './systemd/client.js';
import { desiredUnitFiles } from './systemd/desired-files.js';
import { ownStatus, readStatus, statusPaths } from './status/read.js';
import type { StatusDoc } from './status/types.js';

export interface ReconcileOptions {
  repo: string;
  /** Branch named on the command line; else fleet.yaml's, else main. */
  branch: string | null;
  host: string;
  tenant: string;
  home: string;
  stateDir: string;
  clock: () => Date;
  /** The environment systemctl runs with (XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS, XDG_CONFIG_HOME). */
  env: NodeJS.ProcessEnv;
  /**
   * What panes and generated files get (PATH, LANG, TMUX_TMPDIR, node, CLI, tmux): pinned in the state dir
   * (pinned.ts).
   */
  pinned: Pinned;
  /** --confirm-prune: the revision whose held deletes a person confirmed. */
  confirmPrune?: string | null;
  /** How to reach a remote `repo` (token, ssh key and known_hosts, timeouts); unused for a path. */
  remote?: RemoteSettings;
  /**
   * The daemon's: its private clone of a remote `repo`, with the listing it made just before (so it is not made
   * again); `fetch: false` reads the clone as last fetched, no network (the daemon's looks between reconciles).
   */
  clone?: RemoteRepo;
  fetch?: boolean;
  /** -v: told when each phase ends and how long it took. */
  trace?: (phase: string, ms: number) => void;
}

/** Marks the end of each phase for ReconcileOptions.trace; does nothing without one. */
function phaseClock(trace: ReconcileOptions['trace']): (phase: string) => void {
  let last = performance.now();
  return (phase) => {
    const now = performance.now();
    trace?.(phase, Math.round(now - last));
    last = now;
  };
}

export interface ReconcileResult {
  desired: DesiredState;
  plan: Plan;
  results: ActionResult[];
  status: StatusDoc | null;
  /** The status commit made, or null when nothing changed. */
  commit: string | null;
  /**
   * apply: the status this run would record if it looked again now (tmux and heartbeat files; the supervisor as
   * seen after apply), with no lock taken and nothing written: what `apply --wait` polls.
   */
  lookAgain?: () => Promise<StatusDoc>;
  /** apply: what went wrong without failing the run (a liveness ref the forge refused), for stderr or the log. */
  warnings?: string[];
}

/** Paths gitfleet writes; commits touching only these are not desired-state changes. */
export const OWN_DIRS = ['status', 'evidence'] as const;

export async function reconcile(opts: ReconcileOptions, mode: 'plan' | 'apply'): Promise<ReconcileResult> {
  const done = phaseClock(opts.trace);
  // lock: one reconciler per state dir (plan only reads)
  const lock =
    mode === 'apply'
      ? await acquireLock(opts.stateDir, `gitfleet ${mode} --repo ${opts.repo}`)
      : await ensureStateDir(opts.stateDir).then(() => null);
  done(mode === 'apply' ? 'lock' : 'state dir');
  try {
    // The crontab line's log (gitfleet install without systemd), first: a run that fails later still keeps it small.
    if (mode === 'apply') await rotateCronLog(opts.stateDir);
    // source: committed desired state at the branch head, and the last status
    const src = await readSource(opts);
    if (mode === 'apply') {
      await src.repo.assertCanMove(src.desired.config.statusBranch);
      // Only apply writes refs, under the state dir's lock: a ref lock noted here and found later is ours,
      // left by a kill.
      src.repo.lockJournal = path.join(opts.stateDir, 'ref-lock.json');
      await src.repo.assertRefUnlocked(src.desired.config.statusBranch);
    }
    done('read desired state');
    // observe: tmux (one call per socket), the supervisor (one systemctl call), heartbeat files
    const seen = await observe(src, opts);
    done('observe');
    // plan: pure
    const pruneConfirmed = await confirmedPrune(src, opts.confirmPrune ?? null, opts.host);
    const policy: PlanContext = {
      host: opts.host,
      tenant: opts.tenant,
      now: opts.clock(),
      desiredRevision: src.revision,
      backoff: DEFAULT_BACKOFF,
      pruneConfirmed,
    };
    const observed = { tmux: seen.tmux, supervisor: seen.supervisor.input, heartbeats: seen.heartbeats };
    const plan = makePlan({ desired: src.desired, observed, previous: src.previous }, policy);
    done('plan');
    if (mode === 'plan') return { desired: src.desired, plan, results: [], status: null, commit: null };
    // apply, then look again at what now runs
    const sup = seen.supervisor.input;
    const units = sup.mode === 'systemd' ? { systemctl: new Systemctl(opts.env), files: sup.files } : undefined;
    const evidence = await keepEvidence(src, plan.fleet, opts);
    const results = await applyActions(plan.actions, src.desired, {
      fleet: plan.fleet,
      id: src.desired.config.id,
      tenant: opts.tenant,
      path: opts.pinned.path,
      stateDir: opts.stateDir,
      clock: opts.clock,
      onStart: evidence.onStart,
      onResult: evidence.onResult,
      ...(units ? { units } : {}),
    });
    done(`apply ${results.length} action(s)`);
    // pane logs: cap and rotate (copytruncate; never fails the run)
    await rotateLogs(opts.stateDir, plan.fleet, seen.agents);
    const after = results.length > 0 ? await settle(src, opts, seen, results) : seen;
    done('observe again');
    // report: status + evidence, committed only when something changed
    // liveness: the other reconcilers of this repository that stopped (status/liveness.ts)
    const warnings: string[] = [];
    const stale = await staleReconcilers(src, opts, warnings);
    done('read liveness refs');
    const statusOf = (o: Observation): StatusDoc => ({
      ...buildStatus(
        {
          desired: src.desired,
          plan,
          observed: { tmux: o.tmux, supervisor: o.supervisor.input, heartbeats: o.heartbeats },
          results,
          previous: src.previous,
        },
        { ...policy, now: opts.clock() },
      ),
      ...(stale.length > 0 ? { staleReconcilers: stale } : {}),
    });
    const status = statusOf(after);
    const events = serverLossEvents(src.previous, seen.tmux, after.supervisor.input, opts.clock());
    const commit = await commitStatus(src, status, results, events, evidence, opts);
    done(commit ? 'commit status' : 'status unchanged');
    const alive = await keepAlive(
      src,
      src.statusName,
      aliveMessage(src, opts),
      src.desired.config.author,
      opts.clock(),
    );
    if (alive.warning) warnings.push(alive.warning);
    done(alive.moved ? 'liveness ref moved' : 'liveness ref kept');
    const lookAgain = async () => statusOf(await observe(src, opts, after, { keepSupervisor: true }));
    return { desired: src.desired, plan, results, status, commit, lookAgain, warnings };
  } finally {
    await lock?.release();
  }
}

/**
 * The other reconcilers this one judges stale now. When the refs cannot be read (the forge is slow), the last
 * status's list stands: no transition is made up from what was not seen.
 */
async function staleReconcilers(src: Source, opts: ReconcileOptions, warnings: string[]): Promise<StaleReconciler[]> {
  try {
    return staleOthers(await readAliveRecords(src, opts.clock()), src.statusName, opts.clock());
  } catch (e) {
    warnings.push(`could not read the other reconcilers' liveness refs: ${errorMessage(e)}`);
    return src.previous?.staleReconcilers ?? [];
  }
}

/** What this reconciler's liveness ref says: who it is, how often it runs (fleet.yaml reconcile.schedule). */
function aliveMessage(src: Source, opts: ReconcileOptions): AliveMessage {
  return {
    host: opts.host,
    tenant: opts.tenant,
    intervalSeconds: aliveIntervalSeconds(src.scheduleMs, opts.env[RUN_EVERY_ENV]),
    revision: src.revision,
  };
}

export interface Source {
  repo: Repo;
  /** A remote repository's private clone and its link to the remote; null for a path. */
  remote: RemoteRepo | null;
  head: string;
  revision: string;
  desired: DesiredState;
  previous: StatusDoc | null;
  /** This host's and tenant's status name: `status/<statusName>.json`, `evidence/<statusName>/` (statusName). */
  statusName: string;
  /** The shortest gap between runs of fleet.yaml reconcile.schedule, now (desired/schedule.ts). */
  scheduleMs: number;
}

export async function readSource(
  opts: Pick<ReconcileOptions, 'repo' | 'branch' | 'host' | 'tenant' | 'home' | 'remote' | 'clone' | 'fetch'> & {
    stateDir?: string;
  },
): Promise<Source> {
  const bad = opts.branch === null ? null : branchNameProblem(opts.branch);
  if (bad) throw new UsageError(`--branch: ${bad}`);
  // A remote repository: its private clone, each branch read here fetched first (only when it moved).
  const { repo, remote } = opts.clone ? { repo: opts.clone.repo, remote: opts.clone } : await openFleetRepo(opts);
  const sync = (branches: string[]) => (opts.fetch === false ? undefined : remote?.sync(branches));
  let branch = opts.branch ?? 'main';
  await sync([branch]);
  let head = await resolveBranch(repo, branch);
  const id = await fleetId(repo, head, opts.stateDir ?? null);
  const statusBranch = remote ? REMOTE_STATUS_BRANCH : undefined;
  const defaults = (b: string) => ({ fleet: defaultFleetName(id), id, branch: b, host: opts.host, statusBranch });
  const build = buildId();
  const memo = opts.stateDir && build ? await ParseMemo.load(opts.stateDir, build) : null;
  let fleet = await readFleetConfig(repo, head, defaults(branch), memo);
  if (!opts.branch && fleet.config.branch !== branch) {
    // fleet.yaml on main names another branch as the source of truth: follow it once.
    branch = fleet.config.branch;
    await sync([branch]);
    head = await resolveBranch(
      repo,
      branch,
      `fleet.yaml on ${opts.branch ?? 'main'} names branch "${branch}" (key branch)`,
    );
    fleet = await readFleetConfig(repo, head, defaults(branch), memo);
  }
  await sync([branch, fleet.config.statusBranch]);
  const statusHead = fleet.config.statusBranch === branch ? head : await repo.resolve(fleet.config.statusBranch);
  const { name: statusName, previous } = await ownStatus(repo, statusHead, opts.host, opts.tenant);
  const desired = await loadDesired(repo, head, fleet, { home: opts.home, ...lastKnown(previous), memo });
  // For every command, though only apply's liveness ref states it: the memo keeps only what a run used, so a run
  // that skipped it would drop the remembered runs and the next apply would load croner again.
  const scheduleMs = await scheduleInterval(desired.config.schedule, memo);
  await memo?.save();
  const revision = await repo.desiredRevision(head, OWN_DIRS);
  return { repo, remote, head, revision, desired, previous, statusName, scheduleMs };
}

/** What the last status knew: each file's last valid blob, and which file owned each agent. */
function lastKnown(previous: StatusDoc | null) {
  return {
    lastGood: new Map((previous?.files ?? []).filter((f) => f.blob).map((f) => [f.path, f.blob!])),
    previousOwners: new Map(
      (previous?.agents ?? []).map((r) => [`${r.socket}/${r.session.name}`, r.source.replace(/:\d+(:\d+)?$/, '')]),
    ),
  };
}

/** The desired state in a work tree (validate --worktree); `head` is its HEAD, null before the first commit. */
export interface WorkTreeSource {
  repo: Repo;
  root: string;
  head: string | null;
  desired: DesiredState;
}

/**
 * The files on disk in the work tree of `opts.repo`, read and checked as a commit's would be (git/worktree.ts);
 * the last status (on fleet.yaml's status branch) gives the same fallbacks and owners as for a commit.
 */
export async function readWorkTreeSource(
  opts: Pick<ReconcileOptions, 'repo' | 'branch' | 'host' | 'tenant' | 'home'> & { stateDir?: string },
): Promise<WorkTreeSource> {
  const repo = await Repo.open(opts.repo);
  const root = repo.workTree;
  if (!root)
    throw new UsageError(
      `--repo ${opts.repo} is a bare repository: it has no work tree to check; ` +
        'run validate --worktree in a clone, or validate without --worktree to check the committed state',
    );
  const head = await repo.resolve('HEAD');
  const id = head ? await fleetId(repo, head, opts.stateDir ?? null) : null;
  const defaults = { fleet: id ? defaultFleetName(id) : repo.name, id, branch: opts.branch ?? 'main', host: opts.host };
  const tree = workTreeOf(root, repo.gitdir, head);
  const fleet = await readFleetConfig(repo, tree, defaults);
  const statusHead = await repo.resolve(fleet.config.statusBranch);
  const { previous } = await ownStatus(repo, statusHead, opts.host, opts.tenant);
  const desired = await loadDesired(repo, tree, fleet, { home: opts.home, ...lastKnown(previous) });
  return { repo, root, head, desired };
}

/**
 * Whether a person confirmed the deletes this desired state makes: the
 * revision named (--confirm-prune, else fleet.yaml reconcile.confirm_prune)
 * has the same rosters and the same fleet settings (confirm_prune aside) as
 * the head. A later change to either needs its own confirmation.
 */
async function confirmedPrune(src: Source, fromCli: string | null, host: string): Promise<boolean> {
  const named = fromCli ?? src.desired.config.confirmPrune;
  if (!named) return false;
  const oid = await src.repo.expandOid(named);
  if (!oid) {
    if (fromCli)
      throw new UsageError(
        `--confirm-prune ${named}: no such commit in ${src.repo.label} (or the prefix is ambiguous); ` +
          'give the revision the plan names',
      );
    return false;
  }
  const now = src.desired.config;
  const rosters = async (commit: string) => (await src.repo.entryAt(commit, now.paths.rosters).catch(() => null))?.oid;
  if ((await rosters(oid)) !== (await rosters(src.head))) return false;
  const then = await readFleetConfig(src.repo, oid, {
    fleet: now.id ? defaultFleetName(now.id) : now.fleet,
    id: now.id,
    branch: now.branch,
    host,
    ...(src.remote ? { statusBranch: REMOTE_STATUS_BRANCH } : {}),
  }).catch(() => null);
  const settings = (c: FleetConfig) => JSON.stringify({ ...c, confirmPrune: null });
  return then !== null && settings(then.config) === settings(now);
}

async function resolveBranch(repo: Repo, branch: string, namedBy?: string): Promise<string> {
  const oid = await repo.resolve(branch);
  if (oid) return oid;
  const known = await repo.branches();
  const where = namedBy ? `${namedBy}, but it is` : `branch "${branch}"`;
  throw new TerminalError(
    `${where} not found in ${repo.label}; ` +
      `branches: ${known.length ? known.join(', ') : '(none: push a first commit)'}`,
  );
}

/** How long the look after apply waits for started panes to exec their runtime. */
const SETTLE_MS = 3000;

/**
 * What a pane started in this run shows before its runtime takes the
 * terminal: first the tmux server's own child, between its fork and its exec
 * (`tmux`: right after respawn-pane, 1 list-panes in 10 on a 2-core machine),
 * then the `sh` wrapper (apply/tmux.ts PANE_WRAPPER).
 */
const STARTING = new Set(['tmux', 'sh']);

/**
 * Look again after apply. Recorded while a pane is still starting, the
 * status would say it runs `tmux` or `sh`, Ready, even when its runtime dies
 * a moment later (a crash loop read as converged, exit 0). So wait (briefly,
 * bounded) until no pane started in this run is still starting.
 */
async function settle(
  src: Source,
  opts: ReconcileOptions,
  seen: Observation,
  results: readonly ActionResult[],
): Promise<Observation> {
  const started = results
    .filter((r) => r.ok && r.action.apply.role === 'agent' && actionKind(r.action.kind).starts)
    .map((r) => r.action.apply);
  const end = Date.now() + SETTLE_MS;
  for (;;) {
    const after = await observe(src, opts, seen);
    const starting = started.some((d) => {
      const obs = after.tmux.get(d.socket!);
      const pane = obs?.ok ? obs.sessions.get(d.session!) : undefined;
      return pane !== undefined && !pane.dead && STARTING.has(pane.currentCommand);
    });
    if (!starting || Date.now() >= end) return after;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Observation {
  /** Sockets looked at, and agents this host and tenant run. */
  sockets: string[];
  agents: AgentSpec[];
  tmux: Map<string, SocketObservation>;
  supervisor: SupervisorSetup;
  heartbeats: Map<string, HeartbeatJudgement>;
}

/**
 * Everything gitfleet looks at, read-only: one tmux call per socket, one
 * systemctl call (systemd mode), heartbeat files. Given the first
 * observation, looks again at the same things (after apply); `keepSupervisor`
 * then keeps its supervisor as it was (no systemctl call: apply --wait polls).
 */
export async function observe(
  src: Source,
  opts: ReconcileOptions,
  again?: Observation,
  { keepSupervisor = false } = {},
): Promise<Observation> {
  const sockets = again?.sockets ?? socketsToObserve(src.desired, src.previous);
  const agents = again?.agents ?? agentsInScope(src.desired, opts);
  const config = src.desired.config;
  const exits = { stateDir: opts.stateDir, fleet: config.fleet };
  const listed = await Promise.all(sockets.map((s) => observeSocket(s, exits)));
  const tmux = new Map(listed.map((o) => [o.socket, markForeign(o, config)]));
  let supervisor: SupervisorSetup;
  if (again && keepSupervisor) supervisor = again.supervisor;
  else if (again) {
    const s = again.supervisor;
    supervisor =
      s.input.mode === 'systemd' && s.query
        ? { ...s, input: { ...s.input, observed: await observeSystemd(s.query) } }
        : s;
  } else {
    const seen = await observeSupervisor(src.desired, agents, sockets, tmux, src.previous, opts);
    supervisor = supervisorSetup(seen, agents, config.fleet, opts);
  }
  const heartbeats = await observeHeartbeats(
    agents,
    { fleet: src.desired.config.fleet, stateDir: opts.stateDir },
    opts.clock,
  );
  return { sockets, agents, tmux, supervisor, heartbeats };
}

export interface SupervisorSetup {
  input: SupervisorInput;
  /** systemd mode: the query that observes the units again after apply. */
  query?: SystemdQuery;
}

/** What the planner gets: the supervisor observed and, in systemd mode, the files the desired state makes. */
function supervisorSetup(
  seen: SupervisorObservation,
  agents: readonly AgentSpec[],
  fleet: string,
  opts: ReconcileOptions,
): SupervisorSetup {
  if (seen.mode === 'tmux') return { input: seen };
  const { reason, observed, unitDir, query, tmuxVersion } = seen;
  const ctx = { fleet, stateDir: opts.stateDir, unitDir, pinned: opts.pinned, tmuxVersion };
  const files = desiredUnitFiles(agents, ctx);
  return { input: { mode: 'systemd', reason, observed, files, unitDir, stateDir: opts.stateDir }, query };
}

/**
 * Evidence of each action is kept in the state dir as the action finishes
 * (status/pending.ts), at a path neither pending nor committed on the status branch.
 */
async function keepEvidence(src: Source, fleet: string, opts: ReconcileOptions) {
  const statusHead = (await src.repo.resolve(src.desired.config.statusBranch)) ?? src.head;
  const taken = async (p: string) => (await src.repo.entryAt(statusHead, p)) !== null;
  const ctx = { fleet, host: opts.host, desiredRevision: src.revision, folder: src.statusName };
  return evidenceRecorder(new PendingEvidence(opts.stateDir, fleet), ctx, taken);
}

type Evidence = Awaited<ReturnType<typeof keepEvidence>>;

/**
 * Before a status commit on `parent`: the plain `status/<host>.json` this reconciler chose (no other tenant had
 * it) may have been written by another tenant of the host meanwhile. Then nothing is written: the next run finds
 * it taken and writes `status/<host>@<tenant>.json` instead, so no file ever has two writers.
 */
async function assertStillOurs(src: Source, parent: string, opts: ReconcileOptions): Promise<void> {
  if (src.statusName !== opts.host) return;
  const other = await readStatus(src.repo, parent, opts.host);
  if (other && other.tenant_id !== opts.tenant)
    throw new TransientError(
      `status/${opts.host}.json was just written by tenant ${other.tenant_id} of this host; ` +
        `the next run writes status/${opts.host}@${opts.tenant}.json`,
    );
}

async function commitStatus(
  src: Source,
  status: StatusDoc,
  results: ActionResult[],
  events: ObservedEvent[],
  evidence: Evidence,
  opts: ReconcileOptions,
): Promise<string | null> {
  const { json, md } = statusPaths(src.statusName);
  // Every pending evidence file, also those an earlier killed or failed run left.
  const kept = await evidence.files();
  // The dashboard is rendered only when the branch does not already hold this document's page (status/md-memo.ts).
  const mdMemo = await MarkdownMemo.load(opts.stateDir, buildId(), status, src.statusName);
  let mdBlob = mdMemo.blob;
  const mdText = () => {
    const text = renderStatusMarkdown(status, src.statusName);
    mdBlob = objectId('blob', Buffer.from(text, 'utf8'));
    return text;
  };
  const changes = [
    { path: json, content: statusFileText(status) },
    { path: md, content: { blob: mdBlob, text: mdText } },
    ...eventEvidence(events, {
      fleet: status.fleet,
      host: opts.host,
      desiredRevision: status.desiredRevision,
      folder: src.statusName,
    }),
    ...kept,
  ];
  const done = results.filter((r) => r.ok).length;
  const failed = results.length - done;
  const { ready, agents, disabled } = status.summary;
  const summary = `${done} applied${failed ? `, ${failed} failed` : ''}; ${ready}/${agents - disabled} ready`;
  const config = src.desired.config;
  const write = () =>
    src.repo.commitFiles({
      branch: config.statusBranch,
      base: src.head,
      changes,
      message: `gitfleet(${src.statusName}): ${summary} [skip ci]`,
      author: config.author,
      now: opts.clock(),
      guard: (parent: string) => assertStillOurs(src, parent, opts),
    });
  // A remote repository: pushed too, written again on a head that moved meanwhile (git/remote.ts).
  const commit = src.remote ? await src.remote.commitAndPush(config.statusBranch, opts.host, write) : await write();
  // Only now does the branch hold them (null: it already did, from a run killed before this step).
  await evidence.remove(kept);
  if (mdBlob) await mdMemo.save(mdBlob);
  return commit;
}
