// Roster files (field format v1 + extensions): parse is pure and collects
// every problem with its position (schema errors and roster rules in one
// pass); reading the files is the loader's (desired/load.ts).
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Problem } from '../../../errors.js';
import { DEFAULT_HEARTBEAT_INTERVAL_SECONDS } from '../../../heartbeat/protocol.js';
import { expandHome, splitCommandLine } from './command.js';
import { maskCommandLine } from '../../../redact.js';
import { specFields } from '../../../spec-fields.js';
import { schemaCheck } from '../../schema.js';
import type { ParseContext } from '../kind.js';
import { ROSTER_SCHEMA } from './about.js';
import type { AgentSpec, Roster, UpdatePolicy } from './types.js';
import { parseYaml, positionOf, problemAt, type Path, type YamlFile } from '../../yaml.js';

export const DEFAULT_SOCKET = 'mosaic-factory';
export const DEFAULT_HOLDER = '_holder';

interface RawRuntime {
  reset_command?: string;
  command?: string | string[];
  env?: Record<string, string | number | boolean>;
  heartbeat?: boolean | number;
  heartbeat_grace?: number;
  process_names?: string[];
  idle_after?: number;
  redact?: string[];
}
interface RawAgent {
  name: string;
  runtime: string;
  class?: string;
  working_directory?: string;
  reset_between_tasks?: boolean;
  command?: string | string[];
  env?: Record<string, string | number | boolean>;
  host?: string;
  tenant?: string;
  enabled?: boolean;
  update?: UpdatePolicy;
}
interface RawRoster {
  version: 1;
  transport?: 'tmux';
  tmux?: { socket_name?: string; holder_session?: string };
  defaults?: { working_directory?: string };
  runtimes?: Record<string, RawRuntime | null>;
  agents: RawAgent[];
}

/**
 * A heartbeat runtime's start-up grace, in intervals, when it gives no heartbeat_grace: a runtime that beats at
 * start and then every interval has beaten well within it; one that beats only after its first interval, too.
 */
export const GRACE_INTERVALS = 3;

/** update: on-idle waits this long without pane output before an agent counts as idle. */
export const DEFAULT_IDLE_AFTER_SECONDS = 120;

/** Keys of these maps are data (runtime names, variable names): keep them as written. */
const isDataMap = (path: Path): boolean =>
  (path.length === 1 && path[0] === 'runtimes') ||
  (path.length === 3 && (path[0] === 'runtimes' || path[0] === 'agents') && path[2] === 'env');

/** tmux turns '.' and ':' in session names into '_'; do it ourselves so we know the name. */
export const sessionName = (agent: string): string => agent.replace(/[.:]/g, '_');

export function parseRoster(
  file: string,
  text: string,
  ctx: ParseContext,
): { roster: Roster | null; problems: Problem[] } {
  const parsed = parseYaml(file, text, isDataMap);
  if (!parsed.yaml) return { roster: null, problems: parsed.problems };
  const yaml = parsed.yaml;
  const schema = schemaCheck(ROSTER_SCHEMA, yaml);
  const problems = [...parsed.problems, ...schema.problems];
  const broken = [...parsed.broken, ...schema.broken];
  // One pass: the roster rules run on every part the schema found sound, so a typo no longer hides an
  // undeclared runtime. Agents are built only while the file has no problem at all (a file with problems
  // has no value), so building may trust the schema's types; the rules may not, and read through `get`.
  const related = (a: Path, b: Path) => a.every((k, i) => i >= b.length || b[i] === k);
  const sound = (path: Path) => !broken.some((b) => related(b, path));
  const intact = (path: Path) => !broken.some((b) => b.length <= path.length && related(b, path));
  const get = (path: Path): unknown => valueAt(yaml.value, path);
  const str = (path: Path): string | undefined => {
    const v = get(path);
    return typeof v === 'string' && sound(path) ? v : undefined;
  };

  if (get(['tmux', 'socket_name']) === 'default') {
    // `tmux -L default` is the user's own default server: gitfleet never acts there.
    problems.push(
      problemAt(
        yaml,
        ['tmux', 'socket_name'],
        'tmux.socket_name: "default" is the default tmux server\'s socket, which gitfleet never touches; ' +
          'allowed: any other name',
      ),
    );
  }
  const defaultsCwd = str(['defaults', 'working_directory']);
  const defaultsCwdProblem = defaultsCwd === undefined ? null : cwdProblem(defaultsCwd);
  if (defaultsCwdProblem)
    problems.push(
      problemAt(yaml, ['defaults', 'working_directory'], `defaults.working_directory: ${defaultsCwdProblem}`),
    );
  const defaultsCwdUsable =
    get(['defaults', 'working_directory']) === undefined || (defaultsCwd && !defaultsCwdProblem);
  // A holder name the schema refused is unknown: no agent is judged against it.
  const holderWritten = get(['tmux', 'holder_session']) !== undefined;
  const holder = holderWritten ? str(['tmux', 'holder_session']) : DEFAULT_HOLDER;
  const runtimesValue = get(['runtimes']);
  const runtimes: Record<string, unknown> | undefined =
    runtimesValue === undefined ? {} : isMapping(runtimesValue) && intact(['runtimes']) ? runtimesValue : undefined;
  const agentsValue = get(['agents']);
  const entries = Array.isArray(agentsValue) && intact(['agents']) ? agentsValue : [];
  const agents: AgentSpec[] = [];
  const bySession = new Map<string, string>(holder === undefined ? [] : [[sessionName(holder), holder]]);

  const view: RosterView = {
    yaml,
    problems,
    ctx,
    get,
    str,
    sound,
    intact,
    holder,
    runtimes,
    bySession,
    defaultsCwdUsable,
  };
  for (let i = 0; i < entries.length; i++) {
    const agent = checkAgent(view, i);
    if (agent) agents.push(agent);
  }

  if (problems.length > 0) return { roster: null, problems };
  const raw = yaml.value as RawRoster;
  agents.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const holderAt = raw.tmux?.holder_session !== undefined ? positionOf(yaml, ['tmux', 'holder_session'], 'key') : null;
  const socket = raw.tmux?.socket_name ?? DEFAULT_SOCKET;
  return { roster: { file, socket, holder: sessionName(holder!), holderAt, transport: 'tmux', agents }, problems };
}

/** What the checks of one roster share: the file, its problems so far, and reads that trust only sound parts. */
interface RosterView {
  yaml: YamlFile;
  problems: Problem[];
  ctx: ParseContext;
  get: (path: Path) => unknown;
  str: (path: Path) => string | undefined;
  sound: (path: Path) => boolean;
  intact: (path: Path) => boolean;
  /** The holder session's name, undefined when the schema refused it. */
  holder: string | undefined;
  /** The runtimes mapping, undefined when the schema refused it. */
  runtimes: Record<string, unknown> | undefined;
  /** Session names taken so far in this file, with the agent (or holder) that took each. */
  bySession: Map<string, string>;
  defaultsCwdUsable: unknown;
}

/** The rules on agent `i`; the agent itself when it and the whole file so far are sound. */
function checkAgent(v: RosterView, i: number): AgentSpec | null {
  const { yaml, problems, ctx, get, str, sound, intact, holder, runtimes, bySession, defaultsCwdUsable } = v;
  const here = (...sub: Path): Path => ['agents', i, ...sub];
  const at = (sub: Path, message: string) => problems.push(problemAt(yaml, here(...sub), message));
  if (!isMapping(get(here())) || !intact(here())) return null;
  let ok = true;
  const name = str(here('name'));
  if (name === undefined) ok = false;
  else {
    const session = sessionName(name);
    const clash = bySession.get(session);
    if (clash === undefined) bySession.set(session, name);
    else {
      ok = false;
      at(
        ['name'],
        clash === holder
          ? `agents[${i}].name: "${name}" is the holder session's name; choose another name or tmux.holder_session`
          : `agents[${i}].name: "${name}" is declared twice in this roster ` +
              `(as tmux session "${session}", same as "${clash}"); ` +
              `agent names are unique per socket`,
      );
    }
  }

  const runtimeName = str(here('runtime'));
  const agentCommand = get(here('command'));
  // The runtime entry: undefined when not declared, 'unknown' when the schema refused it or runtimes.
  let runtime: Record<string, unknown> | 'unknown' | undefined = 'unknown';
  if (runtimeName !== undefined && runtimes !== undefined && !Object.hasOwn(runtimes, runtimeName)) runtime = undefined;
  else if (runtimeName !== undefined && runtimes !== undefined) {
    const entry = runtimes[runtimeName] ?? {};
    if (isMapping(entry) && intact(['runtimes', runtimeName])) runtime = entry;
  }
  if (runtime === undefined && agentCommand === undefined) {
    const declared = Object.keys(runtimes ?? {});
    at(
      ['runtime'],
      `agents[${i}].runtime: "${runtimeName}" is not declared under runtimes and the agent gives no command; ` +
        `declared: ${declared.length ? declared.join(', ') : '(none)'}`,
    );
    ok = false;
  }
  let argv: string[] | undefined;
  if (runtime !== 'unknown' && (runtime !== undefined || agentCommand !== undefined)) {
    const cmdPath: Path = agentCommand !== undefined ? here('command') : ['runtimes', runtimeName!, 'command'];
    const written = agentCommand ?? runtime?.command ?? runtimeName;
    // A command is shown masked: never while the runtime's redact list is itself refused.
    const redactPath: Path = ['runtimes', runtimeName ?? '', 'redact'];
    const redact = runtime?.redact === undefined ? [] : sound(redactPath) ? (runtime.redact as string[]) : null;
    if (Array.isArray(written) && sound(cmdPath)) argv = written as string[];
    else if (typeof written === 'string' && sound(cmdPath) && redact !== null) {
      const split = splitCommandLine(written, ctx.home);
      if ('error' in split) {
        problems.push(
          problemAt(yaml, cmdPath, `command ${JSON.stringify(maskCommandLine(written, redact))}: ${split.error}`),
        );
      } else argv = split.argv;
    }
  }
  if (argv === undefined) ok = false;

  const cwdWritten = get(here('working_directory')) !== undefined;
  const ownCwd = str(here('working_directory'));
  const why = ownCwd === undefined ? null : cwdProblem(ownCwd);
  if (why) at(['working_directory'], `agents[${i}].working_directory: ${why}`);
  if (cwdWritten ? ownCwd === undefined || why : !defaultsCwdUsable) ok = false;
  // Build only while the whole file is sound so far (a file with problems has no value anyway).
  if (!ok || problems.length > 0) return null;
  return buildAgent(yaml, i, (runtime ?? {}) as RawRuntime, argv!, ctx);
}

/** Agent `i` of a file the schema and every rule accepted: its written shape can be trusted. */
function buildAgent(yaml: YamlFile, i: number, rt: RawRuntime, argv: string[], ctx: ParseContext): AgentSpec {
  const raw = yaml.value as RawRoster;
  const a = raw.agents[i]!;
  const env = stringEnv({ ...(rt.env ?? {}), ...(a.env ?? {}) });
  const cwd = expandHome(a.working_directory ?? raw.defaults?.working_directory ?? '~', ctx.home);
  const pos = positionOf(yaml, ['agents', i]);
  const heartbeatInterval =
    rt.heartbeat === true ? DEFAULT_HEARTBEAT_INTERVAL_SECONDS : typeof rt.heartbeat === 'number' ? rt.heartbeat : null;
  return {
    name: a.name,
    session: sessionName(a.name),
    socket: raw.tmux?.socket_name ?? DEFAULT_SOCKET,
    source: { file: yaml.file, line: pos.line, col: pos.col },
    runtime: a.runtime,
    argv,
    cwd,
    env,
    host: a.host ?? null,
    tenant: a.tenant ?? null,
    enabled: a.enabled ?? true,
    update: a.update ?? 'on-idle',
    class: a.class ?? null,
    resetCommand: rt.reset_command ?? null,
    resetBetweenTasks: a.reset_between_tasks ?? false,
    heartbeatInterval,
    heartbeatGrace: heartbeatInterval === null ? null : (rt.heartbeat_grace ?? GRACE_INTERVALS * heartbeatInterval),
    processNames: rt.process_names ?? [path.basename(argv[0]!)],
    idleAfter: rt.idle_after ?? DEFAULT_IDLE_AFTER_SECONDS,
    redact: rt.redact ?? [],
    specHash: specHash(a.runtime, argv, cwd, env),
    fields: specFields({ runtime: a.runtime, argv, cwd, env, redact: rt.redact ?? [] }),
  };
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** The value at `path`, or undefined where the file has none (of any shape). */
function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/**
 * Why a working directory is refused, or null. Relative paths would be
 * relative to wherever gitfleet happens to run, and `~user` would become a
 * folder literally named so: both are refused rather than guessed.
 */
function cwdProblem(dir: string): string | null {
  const allowed = 'allowed: an absolute path, ~ or ~/path';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(dir))
    return `${JSON.stringify(dir)} contains a control character (NUL, newline, ...); ${allowed}`;
  if (dir.startsWith('~') && dir !== '~' && !dir.startsWith('~/'))
    return `"${dir}": "~user" is not expanded; ${allowed}`;
  if (!dir.startsWith('/') && !dir.startsWith('~'))
    return `"${dir}" is a relative path (relative to what?); ${allowed}`;
  return null;
}

function stringEnv(env: Record<string, string | number | boolean>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) out[k] = String(env[k]);
  return out;
}

/** Everything that changes what runs in the pane, and nothing else. */
export function specHash(runtime: string, argv: string[], cwd: string, env: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify({ runtime, argv, cwd, env })).digest('hex').slice(0, 16);
}
