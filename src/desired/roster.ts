// Roster files (field format v1 + extensions): parse is pure and collects
// every problem with its position; read() lives in desired/load.ts.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Problem } from '../errors.js';
import { DEFAULT_HEARTBEAT_INTERVAL_SECONDS } from '../heartbeat/protocol.js';
import { expandHome, splitCommandLine } from './command.js';
import { maskCommandLine } from '../redact.js';
import { validateAgainst } from './schema.js';
import type { AgentSpec, Roster, UpdatePolicy } from './types.js';
import { parseYaml, positionOf, problemAt, type Path } from './yaml.js';

export const DEFAULT_SOCKET = 'mosaic-factory';
export const DEFAULT_HOLDER = '_holder';

interface RawRuntime {
  reset_command?: string;
  command?: string | string[];
  env?: Record<string, string | number | boolean>;
  heartbeat?: boolean | number;
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

/** update: on-idle waits this long without pane output before an agent counts as idle. */
export const DEFAULT_IDLE_AFTER_SECONDS = 120;

export interface ParseContext {
  home: string;
}

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
  const problems = [...parsed.problems, ...validateAgainst('roster', yaml)];
  if (problems.length > 0) return { roster: null, problems };

  const raw = yaml.value as RawRoster;
  if (raw.tmux?.socket_name === 'default') {
    // `tmux -L default` is the user's own default server: gitfleet never acts there.
    problems.push(
      problemAt(
        yaml,
        ['tmux', 'socket_name'],
        'tmux.socket_name: "default" is the default tmux server\'s socket, which gitfleet never touches; allowed: any other name',
      ),
    );
  }
  const defaultsCwd = raw.defaults?.working_directory;
  const defaultsCwdProblem = defaultsCwd === undefined ? null : cwdProblem(defaultsCwd);
  if (defaultsCwdProblem)
    problems.push(
      problemAt(yaml, ['defaults', 'working_directory'], `defaults.working_directory: ${defaultsCwdProblem}`),
    );
  const socket = raw.tmux?.socket_name ?? DEFAULT_SOCKET;
  const holder = raw.tmux?.holder_session ?? DEFAULT_HOLDER;
  const runtimes = raw.runtimes ?? {};
  const defaultCwd = raw.defaults?.working_directory ?? '~';
  const agents: AgentSpec[] = [];
  const bySession = new Map<string, string>([[sessionName(holder), holder]]);

  raw.agents.forEach((a, i) => {
    const at = (sub: Path, message: string, where: 'key' | 'value' = 'value') =>
      problems.push(problemAt(yaml, ['agents', i, ...sub], message, where));
    const session = sessionName(a.name);
    const clash = bySession.get(session);
    if (clash !== undefined) {
      at(
        ['name'],
        clash === holder
          ? `agents[${i}].name: "${a.name}" is the holder session's name; choose another name or tmux.holder_session`
          : `agents[${i}].name: "${a.name}" is declared twice in this roster (as tmux session "${session}", same as "${clash}"); agent names are unique per socket`,
      );
      return;
    }
    bySession.set(session, a.name);

    const runtime = Object.hasOwn(runtimes, a.runtime) ? (runtimes[a.runtime] ?? {}) : undefined;
    if (runtime === undefined && a.command === undefined) {
      const declared = Object.keys(runtimes);
      at(
        ['runtime'],
        `agents[${i}].runtime: "${a.runtime}" is not declared under runtimes and the agent gives no command; declared: ${declared.length ? declared.join(', ') : '(none)'}`,
      );
      return;
    }
    const written = a.command ?? runtime?.command ?? a.runtime;
    const cmdPath: Path = a.command !== undefined ? ['agents', i, 'command'] : ['runtimes', a.runtime, 'command'];
    let argv: string[];
    if (Array.isArray(written)) argv = written;
    else {
      const split = splitCommandLine(written, ctx.home);
      if ('error' in split) {
        problems.push(
          problemAt(
            yaml,
            cmdPath,
            `command ${JSON.stringify(maskCommandLine(written, runtime?.redact ?? []))}: ${split.error}`,
          ),
        );
        return;
      }
      argv = split.argv;
    }
    const env = stringEnv({ ...(runtime?.env ?? {}), ...(a.env ?? {}) });
    if (a.working_directory !== undefined) {
      const why = cwdProblem(a.working_directory);
      if (why) {
        at(['working_directory'], `agents[${i}].working_directory: ${why}`);
        return;
      }
    } else if (defaultsCwdProblem) return;
    const cwd = expandHome(a.working_directory ?? defaultCwd, ctx.home);
    const pos = positionOf(yaml, ['agents', i]);
    agents.push({
      name: a.name,
      session,
      socket,
      source: { file, line: pos.line, col: pos.col },
      runtime: a.runtime,
      argv,
      cwd,
      env,
      host: a.host ?? null,
      tenant: a.tenant ?? null,
      enabled: a.enabled ?? true,
      update: a.update ?? 'on-idle',
      class: a.class ?? null,
      resetCommand: runtime?.reset_command ?? null,
      resetBetweenTasks: a.reset_between_tasks ?? false,
      heartbeatInterval:
        runtime?.heartbeat === true
          ? DEFAULT_HEARTBEAT_INTERVAL_SECONDS
          : typeof runtime?.heartbeat === 'number'
            ? runtime.heartbeat
            : null,
      processNames: runtime?.process_names ?? [path.basename(argv[0]!)],
      idleAfter: runtime?.idle_after ?? DEFAULT_IDLE_AFTER_SECONDS,
      redact: runtime?.redact ?? [],
      specHash: specHash(a.runtime, argv, cwd, env),
    });
  });

  if (problems.length > 0) return { roster: null, problems };
  agents.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const holderAt = raw.tmux?.holder_session !== undefined ? positionOf(yaml, ['tmux', 'holder_session'], 'key') : null;
  return { roster: { file, socket, holder: sessionName(holder), holderAt, transport: 'tmux', agents }, problems };
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
