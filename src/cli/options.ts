// Global options, accepted before or after the command name.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { remoteSettings } from '../git/remote-settings.js';
import type { ReconcileOptions } from '../reconcile.js';

export const GLOBAL_OPTIONS = {
  repo: { type: 'string' },
  branch: { type: 'string' },
  host: { type: 'string' },
  'state-dir': { type: 'string' },
  // a remote --repo (git/remote-settings.ts; the rest comes from the environment)
  'git-token-file': { type: 'string' },
  'allow-insecure-http': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  // install / uninstall only (see COMMAND_ONLY)
  every: { type: 'string' },
  'dry-run': { type: 'boolean' },
  name: { type: 'string' },
  // heartbeat only (--every too)
  file: { type: 'string' },
  status: { type: 'string' },
  pid: { type: 'string' },
  // agent only (--file and --json too)
  message: { type: 'string' },
  verify: { type: 'boolean' },
  timeout: { type: 'string' },
  from: { type: 'string' },
  raw: { type: 'boolean' },
  lines: { type: 'string', short: 'n' },
  // ps only
  'all-hosts': { type: 'boolean' },
  // apply only
  repin: { type: 'boolean' },
  // apply and plan
  'confirm-prune': { type: 'string' },
} as const;

/** Options that only some commands take. */
const COMMAND_ONLY: Record<string, readonly string[]> = {
  'all-hosts': ['ps'],
  every: ['install', 'heartbeat'],
  'dry-run': ['install', 'uninstall'],
  name: ['install', 'uninstall'],
  file: ['heartbeat', 'agent'],
  status: ['heartbeat'],
  pid: ['heartbeat'],
  message: ['agent'],
  verify: ['agent'],
  timeout: ['agent'],
  from: ['agent'],
  raw: ['agent'],
  lines: ['agent'],
  repin: ['apply'],
  'confirm-prune': ['apply', 'plan'],
};

/** What every command knows: where the fleet is, who and where we are, and how to answer. */
export interface GlobalOptions
  extends Pick<ReconcileOptions, 'repo' | 'branch' | 'host' | 'tenant' | 'home' | 'stateDir'>,
    Required<Pick<ReconcileOptions, 'remote'>> {
  json: boolean;
  help: boolean;
  version: boolean;
  /** install: --every (null: the default); install/uninstall: --dry-run, --name. */
  every: string | null;
  dryRun: boolean;
  name: string | null;
  /** heartbeat: --file, --status, --pid as given (null: not given; checked by the command); --every in seconds. */
  file: string | null;
  heartbeatStatus: string | null;
  pid: string | null;
  /**
   * agent: --message, --verify, --timeout (in ms), --from, --raw, -n/--lines (--file is shared); which verb takes
   * which is checked by the command.
   */
  message: string | null;
  verify: boolean;
  timeoutMs: number | null;
  from: string | null;
  raw: boolean;
  lines: number | null;
  /** ps: --all-hosts. */
  allHosts: boolean;
  /** apply: --repin, take PATH, LANG, TMUX_TMPDIR and the programs from this environment again (src/pinned.ts). */
  repin: boolean;
  /** apply, plan: --confirm-prune <revision>, release deletes held as PruneHeld for that revision. */
  confirmPrune: string | null;
}

export function parseCommandLine(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { command: string | null; positionals: string[]; opts: GlobalOptions } {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof GLOBAL_OPTIONS; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options: GLOBAL_OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    // Node's words ("Unknown option '--x'. To specify ...") in gitfleet's one error style: lower case, "quoted".
    const said = (e as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/'([^']*)'/g, '"$1"');
    throw new UsageError(`${said[0]!.toLowerCase()}${said.slice(1)}; see gitfleet --help`);
  }
  const v = parsed.values;
  const [command = null, ...positionals] = parsed.positionals;
  const home = env.HOME || os.homedir();
  const host = v.host ?? os.hostname().split('.')[0]!;
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host))
    throw new UsageError(`--host ${JSON.stringify(host)}: allowed: letters, digits, '.', '-'`);
  for (const k of ['repo', 'branch', 'state-dir', 'every', 'name', 'git-token-file'] as const) {
    if (v[k] === '') throw new UsageError(`--${k} needs a value`);
  }
  for (const [k, commands] of Object.entries(COMMAND_ONLY)) {
    if (v[k as keyof typeof v] !== undefined && !commands.includes(command ?? ''))
      throw new UsageError(`--${k} is an option of ${commands.join(' and ')} only`);
  }
  return {
    command,
    positionals,
    opts: {
      repo: v.repo ?? env.GITFLEET_REPO ?? '.',
      branch: v.branch ?? null,
      host,
      tenant: os.userInfo().username,
      home,
      stateDir: path.resolve(
        v['state-dir'] ??
          env.GITFLEET_STATE_DIR ??
          path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'gitfleet'),
      ),
      remote: remoteSettings(env, { tokenFile: v['git-token-file'], allowInsecureHttp: v['allow-insecure-http'] }),
      json: v.json ?? false,
      help: v.help ?? false,
      version: v.version ?? false,
      every: v.every ?? null,
      dryRun: v['dry-run'] ?? false,
      name: v.name ?? null,
      file: v.file ?? null,
      heartbeatStatus: v.status ?? null,
      pid: v.pid ?? null,
      message: v.message ?? null,
      verify: v.verify ?? false,
      timeoutMs: v.timeout === undefined ? null : durationMs('--timeout', v.timeout),
      from: v.from ?? null,
      raw: v.raw ?? false,
      lines: v.lines === undefined ? null : positiveCount('--lines', v.lines),
      allHosts: v['all-hosts'] ?? false,
      repin: v.repin ?? false,
      confirmPrune: v['confirm-prune'] === undefined ? null : revisionArg(v['confirm-prune']),
    },
  };
}

function revisionArg(v: string): string {
  if (!/^[0-9a-f]{7,40}$/.test(v))
    throw new UsageError(
      `--confirm-prune ${JSON.stringify(v)}: allowed: a commit id, at least 7 hex digits (the revision the plan names)`,
    );
  return v;
}

/** PATH for panes: the launcher's, plus the usual per-user tool dirs a timer's PATH lacks. Pinned (src/pinned.ts). */
export function panePath(env: NodeJS.ProcessEnv, home: string): string {
  const dirs = (env.PATH ?? '').split(':').filter(Boolean);
  for (const d of [
    `${home}/.local/bin`,
    `${home}/.npm-global/bin`,
    `${home}/bin`,
    '/usr/local/bin',
    '/usr/bin',
    '/bin',
  ]) {
    if (!dirs.includes(d)) dirs.push(d);
  }
  return dirs.join(':');
}

/** A duration in seconds (10, 2.5, 10s) or milliseconds (500ms), more than zero. */
function durationMs(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : NaN;
  if (!(ms > 0)) throw new UsageError(`${flag} ${JSON.stringify(text)}: a number of seconds, e.g. 10, 2.5 or 500ms`);
  return ms;
}

function positiveCount(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${flag} ${JSON.stringify(text)}: a whole number of at least 1`);
  return Number(text);
}
