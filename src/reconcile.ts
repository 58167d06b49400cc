// One reconcile, top to bottom (DESIGN §4). Each step lives in its own
// module; this file only wires them together.
import { applyTmuxActions } from './apply/tmux.js';
import type { ActionResult } from './apply/types.js';
import { loadDesired, readFleetConfig } from './desired/load.js';
import type { DesiredState } from './desired/types.js';
import { TerminalError } from './errors.js';
import { Repo } from './git/repo.js';
import { acquireLock } from './lock.js';
import { observeSocket, type SocketObservation } from './observe/tmux.js';
import { DEFAULT_BACKOFF, plan as makePlan, socketsToObserve, type Policy } from './plan/plan.js';
import type { Plan } from './plan/types.js';
import { renderStatusMarkdown } from './report/status-md.js';
import { buildStatus } from './status/build.js';
import { evidenceFiles } from './status/evidence.js';
import { readStatus, statusPaths } from './status/read.js';
import type { StatusDoc } from './status/types.js';

export interface ReconcileOptions {
  repo: string;
  /** Branch named on the command line; else fleet.yaml's, else main. */
  branch: string | null;
  host: string;
  tenant: string;
  home: string;
  stateDir: string;
  /** PATH given to panes that declare none. */
  panePath: string;
  clock: () => Date;
}

export interface ReconcileResult {
  desired: DesiredState;
  plan: Plan;
  results: ActionResult[];
  status: StatusDoc | null;
  /** The status commit made, or null when nothing changed. */
  commit: string | null;
}

/** Paths gitfleet writes; commits touching only these are not desired-state changes. */
export const OWN_DIRS = ['status', 'evidence'] as const;

export async function reconcile(opts: ReconcileOptions, mode: 'plan' | 'apply'): Promise<ReconcileResult> {
  // lock: one reconciler per state dir (plan only reads)
  const lock = mode === 'apply' ? await acquireLock(opts.stateDir, `gitfleet ${mode} --repo ${opts.repo}`) : null;
  try {
    // source: committed desired state at the branch head, and the last status
    const src = await readSource(opts);
    if (mode === 'apply') await src.repo.assertCanMove(src.desired.config.statusBranch);
    // observe: one tmux call per socket
    const observed = await observeAll(socketsToObserve(src.desired, src.previous));
    // plan: pure
    const policy: Policy = { host: opts.host, tenant: opts.tenant, now: opts.clock(), desiredRevision: src.revision, backoff: DEFAULT_BACKOFF };
    const plan = makePlan(src.desired, observed, src.previous, policy);
    if (mode === 'plan') return { desired: src.desired, plan, results: [], status: null, commit: null };
    // apply: tmux actions, then look again at what now runs
    const results = await applyTmuxActions(plan.actions, src.desired, { fleet: plan.fleet, path: opts.panePath, stateDir: opts.stateDir, clock: opts.clock });
    const after = results.length > 0 ? await observeAll([...observed.keys()]) : observed;
    // report: status + evidence, committed only when something changed
    const status = buildStatus({ desired: src.desired, plan, observed: after, results, previous: src.previous, policy: { ...policy, now: opts.clock() } });
    const commit = await commitStatus(src, status, results, opts);
    return { desired: src.desired, plan, results, status, commit };
  } finally {
    await lock?.release();
  }
}

interface Source {
  repo: Repo;
  head: string;
  revision: string;
  desired: DesiredState;
  previous: StatusDoc | null;
}

export async function readSource(opts: Pick<ReconcileOptions, 'repo' | 'branch' | 'host' | 'home'>): Promise<Source> {
  const repo = await Repo.open(opts.repo);
  let branch = opts.branch ?? 'main';
  let head = await resolveBranch(repo, branch);
  let fleet = await readFleetConfig(repo, head, { fleet: repo.name, branch, host: opts.host });
  if (!opts.branch && fleet.config.branch !== branch) {
    // fleet.yaml on main names another branch as the source of truth: follow it once.
    branch = fleet.config.branch;
    head = await resolveBranch(repo, branch);
    fleet = await readFleetConfig(repo, head, { fleet: repo.name, branch, host: opts.host });
  }
  const statusHead = fleet.config.statusBranch === branch ? head : await repo.resolve(fleet.config.statusBranch);
  const previous = statusHead ? await readStatus(repo, statusHead, opts.host) : null;
  const lastGood = new Map((previous?.files ?? []).filter((f) => f.blob).map((f) => [f.path, f.blob!]));
  const desired = await loadDesired(repo, head, fleet, { home: opts.home, lastGood });
  const revision = await repo.desiredRevision(head, OWN_DIRS);
  return { repo, head, revision, desired, previous };
}

async function resolveBranch(repo: Repo, branch: string): Promise<string> {
  const oid = await repo.resolve(branch);
  if (oid) return oid;
  const known = await repo.branches();
  throw new TerminalError(`branch "${branch}" not found in ${repo.gitdir}; branches: ${known.length ? known.join(', ') : '(none: push a first commit)'}`);
}

async function observeAll(sockets: readonly string[]): Promise<Map<string, SocketObservation>> {
  const obs = await Promise.all(sockets.map(observeSocket));
  return new Map(obs.map((o) => [o.socket, o]));
}

async function commitStatus(src: Source, status: StatusDoc, results: ActionResult[], opts: ReconcileOptions): Promise<string | null> {
  const { json, md } = statusPaths(opts.host);
  const changes = [
    { path: json, content: JSON.stringify(status, null, 2) + '\n' },
    { path: md, content: renderStatusMarkdown(status) },
    ...evidenceFiles(results, { fleet: status.fleet, host: opts.host, desiredRevision: status.desiredRevision }),
  ];
  const done = results.filter((r) => r.ok).length;
  const failed = results.length - done;
  const summary = `${done} applied${failed ? `, ${failed} failed` : ''}; ${status.summary.ready}/${status.summary.agents - status.summary.disabled} ready`;
  const config = src.desired.config;
  return src.repo.commitFiles({
    branch: config.statusBranch,
    base: src.head,
    changes,
    message: `gitfleet(${opts.host}): ${summary} [skip ci]`,
    author: config.author,
    now: opts.clock(),
  });
}
