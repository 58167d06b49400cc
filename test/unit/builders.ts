// Small in-memory builders for the planner and status tests: desired state
// from inline roster YAML, tmux observations from PaneInfo objects, and a
// policy with a fixed clock. Nothing here touches tmux, git or the disk.
import { stringify } from 'yaml';
import { parseFleetConfig } from '../../src/desired/fleet-config.js';
import { assembleDesired } from '../../src/desired/load.js';
import type { AgentSpec, DesiredState, FileState, SourceFile } from '../../src/desired/types.js';
import type { PaneInfo, SocketObservation } from '../../src/observe/tmux.js';
import { DEFAULT_BACKOFF, type Policy } from '../../src/plan/plan.js';

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
export function desiredFrom(files: Record<string, string>, fleetYaml: string | null = null, fallback: SourceFile[] = []): DesiredState {
  const parsed = parseFleetConfig(fleetYaml, { fleet: FLEET, branch: 'main', host: HOST });
  if (!parsed.config) throw new Error(`bad fleet.yaml in test: ${JSON.stringify(parsed.problems)}`);
  const fleetState: FileState = { path: 'fleet.yaml', blob: null, valid: true, usingLastKnownGood: false, problems: [] };
  const sources = Object.entries(files).map(([path, text]) => ({ path, blob: `blob:${path}`, text }));
  return assembleDesired(parsed.config, fleetState, sources, new Map(fallback.map((f) => [f.path, f])), { home: HOME });
}

/** Desired state from one roster file. */
export const desired = (agents: AgentEntry[], opts: { socket?: string; holder?: string } = {}, fleetYaml: string | null = null): DesiredState =>
  desiredFrom({ 'rosters/agents.yaml': rosterYaml(agents, opts) }, fleetYaml);

/** The agent `name` (on `socket`, if given) of a desired state. */
export function spec(d: DesiredState, name: string, socket?: string): AgentSpec {
  const a = d.rosters.flatMap((r) => r.agents).find((x) => x.name === name && (socket === undefined || x.socket === socket));
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
    width: 80,
    height: 24,
    ...o,
  };
}

/** The pane gitfleet would have started for `a`, running its current spec. */
export const running = (a: AgentSpec, o: Partial<PaneInfo> = {}): PaneInfo =>
  pane(a.session, { fleet: FLEET, spec: a.specHash, agent: a.name, role: 'agent', currentCommand: a.argv[0]!, ...o });

/** The same pane after its runtime exited. */
export const dead = (a: AgentSpec, status = 1, o: Partial<PaneInfo> = {}): PaneInfo =>
  running(a, { dead: true, deadStatus: status, deadTime: 1_700_000_000, pid: null, ...o });

/** The fleet's holder session. */
export const holder = (name = '_holder', o: Partial<PaneInfo> = {}): PaneInfo =>
  pane(name, { fleet: FLEET, role: 'holder', currentCommand: 'cat', ...o });

/** A socket seen by tmux (server running when it has sessions). */
export function socket(name: string, panes: PaneInfo[]): [string, SocketObservation] {
  return [name, { socket: name, ok: true, serverRunning: panes.length > 0, sessions: new Map(panes.map((p) => [p.session, p])) }];
}

/** A socket whose observation failed. */
export const failedSocket = (name: string, error: string): [string, SocketObservation] => [name, { socket: name, ok: false, error }];

export const observed = (...sockets: [string, SocketObservation][]): Map<string, SocketObservation> => new Map(sockets);

export function policy(o: Partial<Policy> = {}): Policy {
  return { host: HOST, tenant: TENANT, now: NOW, desiredRevision: 'rev-1', backoff: DEFAULT_BACKOFF, ...o };
}

/** `now` moved by `seconds`. */
export const at = (seconds: number, from: Date = NOW): Date => new Date(from.getTime() + seconds * 1000);
