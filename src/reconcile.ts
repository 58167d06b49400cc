// One reconcile, top to bottom (DESIGN §4). Each step lives in its own
// module; this file only wires them together.
import { applyActions } from './apply/apply.js';
import type { ActionResult } from './apply/types.js';
import { loadDesired, readFleetConfig } from './desired/load.js';
import type { AgentSpec, DesiredState } from './desired/types.js';
import type { HeartbeatJudgement } from './heartbeat/protocol.js';
import { TerminalError } from './errors.js';
import { Repo } from './git/repo.js';
import { acquireLock } from './lock.js';
import { observeHeartbeats } from './observe/heartbeat.js';
import { observeSupervisor, type SupervisorSetup } from './observe/supervisor.js';
import { observeSystemd } from './observe/systemd.js';
import { observeSocket, type SocketObservation } from './observe/tmux.js';
import { agentsInScope, DEFAULT_BACKOFF, plan as makePlan, socketsToObserve, type Policy } from './plan/plan.js';
import type { Plan } from './plan/types.js';
import { renderStatusMarkdown } from './report/status-md.js';
import { buildStatus } from './status/build.js';
import { evidenceFiles, serverLossEvents, type ObservedEvent } from './status/evidence.js';
import { Systemctl } from './systemd/client.js';
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
  /** The environment systemctl and the generated units get (XDG_RUNTIME_DIR, PATH, LANG, TMUX_TMPDIR). */
  env: NodeJS.ProcessEnv;
  /** Absolute paths of node and of gitfleet's built CLI: the agent units run `gitfleet agent-start`. */
  node: string;
  cli: string;
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
    // observe: tmux (one call per socket), the supervisor (one systemctl call), heartbeat files
    const seen = await observe(src, opts);
    // plan: pure
    const policy: Policy = { host: opts.host, tenant: opts.tenant, now: opts.clock(), desiredRevision: src.revision, backoff: DEFAULT_BACKOFF };
    const plan = makePlan(src.desired, seen.tmux, src.previous, policy, seen.supervisor.input, seen.heartbeats);
    if (mode === 'plan') return { desired: src.desired, plan, results: [], status: null, commit: null };
    // apply, then look again at what now runs
    const sup = seen.supervisor.input;
    const units = sup.mode === 'systemd' ? { systemctl: new Systemctl(opts.env), files: sup.files } : undefined;
    const results = await applyActions(plan.actions, src.desired, { fleet: plan.fleet, path: opts.panePath, stateDir: opts.stateDir, clock: opts.clock, ...(units ? { units } : {}) });
    const after = results.length > 0 ? await settle(src, opts, seen, results) : seen;
    // report: status + evidence, committed only when something changed
    const status = buildStatus({ desired: src.desired, plan, observed: after.tmux, results, previous: src.previous, policy: { ...policy, now: opts.clock() }, supervisor: after.supervisor.input, heartbeats: after.heartbeats });
    const events = serverLossEvents(src.previous, seen.tmux, after.supervisor.input, opts.clock());
    const commit = await commitStatus(src, status, results, events, opts);
    return { desired: src.desired, plan, results, status, commit };
  } finally {
    await lock?.release();
  }
}

export interface Source {
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

/** How long the look after apply waits for started panes to exec their runtime. */
const SETTLE_MS = 3000;

/**
 * Look again after apply. A pane just started runs `sh -c 'exec "$@"'` for a
 * moment before it execs the runtime; recorded then, the status would say
 * `sh` and change at the next run. So wait (briefly, bounded) until no pane
 * started in this run still shows the wrapper.
 */
async function settle(src: Source, opts: ReconcileOptions, seen: Observation, results: readonly ActionResult[]): Promise<Observation> {
  const started = results.filter((r) => r.ok && r.action.detail.role === 'agent' && STARTS.includes(r.action.kind)).map((r) => r.action.detail);
  const end = Date.now() + SETTLE_MS;
  for (;;) {
    const after = await observe(src, opts, seen);
    const wrapping = started.some((d) => {
      const obs = after.tmux.get(d.socket!);
      const pane = obs?.ok ? obs.sessions.get(d.session!) : undefined;
      return pane !== undefined && !pane.dead && pane.currentCommand === 'sh';
    });
    if (!wrapping || Date.now() >= end) return after;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const STARTS: readonly string[] = ['create_session', 'restart_session', 'respawn_pane', 'start_unit', 'restart_unit'];

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
 * observation, looks again at the same things (after apply).
 */
export async function observe(src: Source, opts: ReconcileOptions, again?: Observation): Promise<Observation> {
  const sockets = again?.sockets ?? socketsToObserve(src.desired, src.previous);
  const agents = again?.agents ?? agentsInScope(src.desired, opts);
  const tmux = new Map((await Promise.all(sockets.map(observeSocket))).map((o) => [o.socket, o]));
  let supervisor: SupervisorSetup;
  if (again) {
    const s = again.supervisor;
    supervisor = s.input.mode === 'systemd' && s.query ? { ...s, input: { ...s.input, observed: await observeSystemd(s.query) } } : s;
  } else supervisor = await observeSupervisor(src.desired, agents, sockets, tmux, src.previous, opts);
  const heartbeats = await observeHeartbeats(agents, { fleet: src.desired.config.fleet, stateDir: opts.stateDir }, opts.clock);
  return { sockets, agents, tmux, supervisor, heartbeats };
}

async function commitStatus(src: Source, status: StatusDoc, results: ActionResult[], events: ObservedEvent[], opts: ReconcileOptions): Promise<string | null> {
  const { json, md } = statusPaths(opts.host);
  const changes = [
    { path: json, content: JSON.stringify(status, null, 2) + '\n' },
    { path: md, content: renderStatusMarkdown(status) },
    ...evidenceFiles(results, events, { fleet: status.fleet, host: opts.host, desiredRevision: status.desiredRevision }),
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
