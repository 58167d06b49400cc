// Small in-memory builders for the planner and status tests: desired state
// from inline roster YAML, tmux observations from PaneInfo objects, and a
// planner input and context with a fixed clock. Nothing here touches tmux, git or the disk.
import { stringify } from 'yaml';
import { parseFleetConfig } from '../../src/desired/fleet-parse.js';
import { rosterKind } from '../../src/desired/kinds/roster/index.js';
import { assembleDesired } from '../../src/desired/load.js';
import type { AgentSpec, DesiredState, FileState, SourceFile } from '../../src/desired/types.js';
import type { PaneInfo, SocketObservation } from '../../src/observe/tmux.js';
import type { Observed, PlanContext, PlanInput } from '../../src/plan/input.js';
import { DEFAULT_BACKOFF } from '../../src/plan/crash-loop.js';
import { agentsInScope } from '../../src/plan/scope.js';
import { TMUX_MODE, type SupervisorInput } from '../../src/plan/units.js';
import type { SystemdObservation, UnitState } from '../../src/observe/systemd.js';
import type { AgentRecord, SocketRecord, StatusDoc } from '../../src/status/types.js';
import {
  agentUnit,
  fleetFiles,
  holderUnit,
  type FleetUnitContext,
  type GeneratedFile,
} from '../../src/systemd/fleet-units.js';

export const FLEET = 'lab';
export const HOST = 'box1';
export const TENANT = 'op';
export const HOME = '/home/op';
export const SOCKET = 'mosaic-factory';
export const NOW = new Date('2026-03-01T12:00:00.000Z');

/** An agent entry: a bare name, or a name with extra roster keys. */
export type AgentEntry = string | ({ name: string } & Record<string, unknown>);

/** One roster file's text: runtime `claude` (command `claude --yolo`) and the given agents. */
export function rosterYaml(agents: AgentEntry[], opts: { socket?: string; holder?: string } = {}): string {
  return stringify({
    version: 1,
    tmux: { socket_name: opts.socket ?? SOCKET, ...(opts.holder ? { holder_session: opts.holder } : {}) },
    runtimes: { claude: { command: 'claude --yolo', reset_command: '/clear' } },
    agents: agents.map((a) => (typeof a === 'string' ? { name: a, runtime: 'claude' } : { runtime: 'claude', ...a })),
  });
}

/** Desired state from roster files (path → text), an optional fleet.yaml and last-known-good versions. */
export function desiredFrom(
  files: Record<string, string>,
  fleetYaml: string | null = null,
  fallback: SourceFile[] = [],
): DesiredState {
  const parsed = parseFleetConfig(fleetYaml, { fleet: FLEET, branch: 'main', host: HOST });
  if (!parsed.config) throw new Error(`bad fleet.yaml in test: ${JSON.stringify(parsed.problems)}`);
  const fleetState: FileState = {
    path: 'fleet.yaml',
    blob: null,
    valid: true,
    usingLastKnownGood: false,
    problems: [],
  };
  const sources = Object.entries(files).map(([path, text]) => ({ path, blob: `blob:${path}`, text }));
  return assembleDesired(parsed.config, fleetState, sources, new Map(fallback.map((f) => [f.path, f])), {
    home: HOME,
    kinds: [rosterKind],
  });
}

/** Desired state from one roster file. */
export const desired = (
  agents: AgentEntry[],
  opts: { socket?: string; holder?: string } = {},
  fleetYaml: string | null = null,
): DesiredState => desiredFrom({ 'rosters/agents.yaml': rosterYaml(agents, opts) }, fleetYaml);

/** The agent `name` (on `socket`, if given) of a desired state. */
export function spec(d: DesiredState, name: string, socket?: string): AgentSpec {
  const a = d.rosters
    .flatMap((r) => r.agents)
    .find((x) => x.name === name && (socket === undefined || x.socket === socket));
  if (!a) throw new Error(`no agent ${name} in test desired state`);
  return a;
}

/** A live pane of a session nobody tagged (as if started by hand). */
export function pane(session: string, o: Partial<PaneInfo> = {}): PaneInfo {
  return {
    session,
    paneId: `%${session}`,
    pid: 4242,
    dead: false,
    deadStatus: null,
    deadTime: null,
    currentCommand: 'bash',
    fleet: null,
    spec: null,
    agent: null,
    role: null,
    activity: null,
    watchOf: null,
    fleetId: null,
    tenant: null,
    specFields: null,
    created: null,
    width: 80,
    height: 24,
    ...o,
  };
}

/** The pane gitfleet would have started for `a`, running its current spec. */
export const running = (a: AgentSpec, o: Partial<PaneInfo> = {}): PaneInfo =>
  pane(a.session, {
    fleet: FLEET,
    spec: a.specHash,
    specFields: a.fields,
    agent: a.name,
    role: 'agent',
    currentCommand: a.argv[0]!,
    ...o,
  });

/** The same pane after its runtime exited. */
export const dead = (a: AgentSpec, status = 1, o: Partial<PaneInfo> = {}): PaneInfo =>
  running(a, { dead: true, deadStatus: status, deadTime: 1_700_000_000, pid: null, ...o });

/** The fleet's holder session. */
export const holder = (name = '_holder', o: Partial<PaneInfo> = {}): PaneInfo =>
  pane(name, { fleet: FLEET, role: 'holder', currentCommand: 'cat', ...o });

/** A socket seen by tmux (server running when it has sessions). */
export function socket(name: string, panes: PaneInfo[]): [string, SocketObservation] {
  const running = panes.length > 0;
  return [
    name,
    {
      socket: name,
      ok: true,
      serverRunning: running,
      serverPid: running ? 4242 : null,
      version: running ? '3.3a' : null,
      sessions: new Map(panes.map((p) => [p.session, p])),
    },
  ];
}

/** A socket whose observation failed. */
export const failedSocket = (name: string, error: string): [string, SocketObservation] => [
  name,
  { socket: name, ok: false, error },
];

export const observed = (...sockets: [string, SocketObservation][]): Map<string, SocketObservation> => new Map(sockets);

/** The planner's input: supervisor tmux and no heartbeats, unless `o` gives them. */
export function planInput(
  d: DesiredState,
  tmux: Observed['tmux'],
  previous: StatusDoc | null = null,
  o: Partial<Pick<Observed, 'supervisor' | 'heartbeats'>> = {},
): PlanInput {
  return {
    desired: d,
    observed: { tmux, supervisor: o.supervisor ?? TMUX_MODE, heartbeats: o.heartbeats ?? new Map() },
    previous,
  };
}

export function context(o: Partial<PlanContext> = {}): PlanContext {
  return {
    host: HOST,
    tenant: TENANT,
    now: NOW,
    desiredRevision: 'rev-1',
    backoff: DEFAULT_BACKOFF,
    pruneConfirmed: false,
    ...o,
  };
}

/** `now` moved by `seconds`. */
export const at = (seconds: number, from: Date = NOW): Date => new Date(from.getTime() + seconds * 1000);

// ---- supervisor: systemd ----------------------------------------------------
// Units as `systemctl --user show` reports them, the files gitfleet keeps, and
// a previous status: still in memory only, no systemd involved.

export const UNIT_DIR = '/home/op/.config/systemd/user';
export const STATE_DIR = '/home/op/.local/state/gitfleet';

/** The unit context of the systemd tests: fixed absolute paths, a tmux with -D. */
export const UNIT_CTX: FleetUnitContext = {
  fleet: FLEET,
  node: '/usr/bin/node',
  cli: '/opt/gitfleet/dist/cli.js',
  tmux: '/usr/bin/tmux',
  stateDir: STATE_DIR,
  unitDir: UNIT_DIR,
  path: '/usr/local/bin:/usr/bin:/bin',
  lang: 'C.UTF-8',
  tmuxForeground: true,
};

/** One unit as systemd shows it: loaded, active and enabled unless told otherwise. */
export function unitState(name: string, o: Partial<UnitState> = {}): UnitState {
  return {
    name,
    load: 'loaded',
    active: 'active',
    sub: 'running',
    enabled: 'enabled',
    restarts: 0,
    mainPid: null,
    ...o,
  };
}

/** Generated files as they would sit on disk: path → content. */
export const onDisk = (files: Iterable<GeneratedFile>): Map<string, string> =>
  new Map([...files].map((f) => [f.path, f.content]));

/** A successful observation of the user manager (nothing installed unless told). */
export function systemdSeen(
  o: { units?: UnitState[]; files?: Map<string, string>; found?: string[]; linger?: boolean | null } = {},
): SystemdObservation {
  return {
    ok: true,
    units: new Map((o.units ?? []).map((u) => [u.name, u])),
    files: o.files ?? new Map(),
    found: o.found ?? [],
    linger: o.linger === undefined ? true : o.linger,
  };
}

/**
 * plan()'s supervisor input in systemd mode: the files gitfleet keeps for the enabled `agents`, generated with
 * UNIT_CTX.
 */
export function systemdMode(seen: SystemdObservation, agents: readonly AgentSpec[]): SupervisorInput {
  return {
    mode: 'systemd',
    reason: 'test',
    observed: seen,
    files: fleetFiles(
      UNIT_CTX,
      agents.filter((a) => a.enabled),
    ),
    unitDir: UNIT_DIR,
    stateDir: STATE_DIR,
  };
}

/** A socket record of a previous status (server pid 4242 unless told). */
export const socketRecord = (name: string, o: Partial<SocketRecord> = {}): SocketRecord => ({
  name,
  observed: true,
  error: null,
  serverRunning: true,
  serverPid: 4242,
  holder: '_holder',
  unit: null,
  ...o,
});

/** The status record a previous run wrote for `a` (its pane had exited; tmux mode), with fields overridden by `o`. */
export function agentRecord(a: AgentSpec, o: Partial<AgentRecord> = {}): AgentRecord {
  return {
    name: a.name,
    host: HOST,
    tenant_id: TENANT,
    socket: a.socket,
    runtime: a.runtime,
    source: `${a.source.file}:${a.source.line}`,
    enabled: a.enabled,
    specHash: a.specHash,
    session: { name: a.session, alive: false, pid: null, command: null, exitStatus: 1, spec: a.specHash },
    heartbeat: null,
    unit: null,
    restarts: 0,
    backoff: null,
    conditions: [],
    ...o,
  };
}

/** A previous status with the given agent records and sockets. */
export function previousStatus(
  agents: AgentRecord[],
  sockets: SocketRecord[] = [],
  o: Partial<StatusDoc> = {},
): StatusDoc {
  return {
    formatVersion: 1,
    fleet: FLEET,
    host: HOST,
    tenant_id: TENANT,
    desiredRevision: 'rev-0',
    converged: false,
    summary: { agents: agents.length, ready: 0, notReady: 0, disabled: 0, unmanaged: 0, errors: 0 },
    supervisor: { mode: 'systemd', reason: 'test', observed: true, error: null, linger: true, lingerFix: null },
    agents,
    sockets,
    unmanaged: [],
    files: [],
    errors: [],
    ...o,
  };
}

/**
 * A host where apply converged `d`: every file gitfleet keeps on disk as it
 * would write it, each enabled agent's unit and each of their sockets' server
 * unit active and enabled (found on disk through their .wants links).
 * `units` replace or add units; `extraFound` are more units found on disk.
 */
export function installed(
  d: DesiredState,
  o: { units?: UnitState[]; files?: Map<string, string>; extraFound?: string[]; linger?: boolean | null } = {},
): SystemdObservation {
  const agents = agentsInScope(d, context()).filter((a) => a.enabled);
  const sockets = [...new Set(agents.map((a) => a.socket))];
  const base = [
    ...agents.map((a) => unitState(agentUnit(d.config.fleet, a), { sub: 'exited' })),
    ...sockets.map((s) => unitState(holderUnit(d.config.fleet, s))),
  ];
  const byName = new Map(base.map((u) => [u.name, u]));
  for (const u of o.units ?? []) byName.set(u.name, u);
  return systemdSeen({
    units: [...byName.values()],
    files: o.files ?? onDisk(fleetFiles(UNIT_CTX, agents).values()),
    found: [...base.map((u) => u.name), ...(o.extraFound ?? [])].sort(),
    linger: o.linger,
  });
}
