// Global options, accepted before or after the command name.
//
// Parsed by node's util.parseArgs, not a CLI library (issue #10 asked whether commander or yargs would remove more
// hand-written code than they add). They would not: parsing here is one parseArgs call plus checks no library
// makes for us (which command takes which option, durations, revisions, the error style); help is prose per
// command (help.ts) that neither library's generated help could say; and completion is generated from the same
// tables (commands.ts, GLOBAL_OPTIONS, COMMAND_ONLY) in ~200 lines for three shells, where commander has none
// built in and yargs covers bash and zsh only. A dependency and its start-up cost, for nothing removed.
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
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
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
  // apply only (--timeout too, with --wait)
  repin: { type: 'boolean' },
  // validate only
  worktree: { type: 'boolean' },
  // apply only
  wait: { type: 'boolean' },
  // apply and plan
  'confirm-prune': { type: 'string' },
  // run (and install --daemon)
  listen: { type: 'string' },
  'log-format': { type: 'string' },
  'webhook-secret-file': { type: 'string' },
  daemon: { type: 'boolean' },
} as const;

/** Options that only some commands take. */
export const COMMAND_ONLY: Record<string, readonly string[]> = {
  'all-hosts': ['ps'],
  every: ['install', 'heartbeat'],
  'dry-run': ['install', 'uninstall'],
  name: ['install', 'uninstall'],
  file: ['heartbeat', 'agent'],
  status: ['heartbeat'],
  pid: ['heartbeat'],
  message: ['agent'],
  verify: ['agent'],
  timeout: ['agent', 'apply'],
  from: ['agent'],
  raw: ['agent'],
  lines: ['agent'],
  repin: ['apply'],
  worktree: ['validate'],
  wait: ['apply'],
  'confirm-prune': ['apply', 'plan'],
  listen: ['run', 'install'],
  'log-format': ['run', 'install'],
  'webhook-secret-file': ['run', 'install'],
  daemon: ['install', 'uninstall'],
};

/** What every command knows: where the fleet is, who and where we are, and how to answer. */
export interface GlobalOptions
  extends Pick<ReconcileOptions, 'repo' | 'branch' | 'host' | 'tenant' | 'home' | 'stateDir'>,
    Required<Pick<ReconcileOptions, 'remote'>> {
  json: boolean;
  help: boolean;
  version: boolean;
  /** -q: only errors; -v: also timings per phase and the commands run (help.ts says what each command prints). */
  quiet: boolean;
  verbose: boolean;
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
  /** validate: --worktree, check the files on disk in the repository's work tree instead of a commit. */
  worktree: boolean;
  /** apply: --wait, until every agent is Ready or --timeout (timeoutMs; null: the default) is up. */
  wait: boolean;
  /** apply, plan: --confirm-prune <revision>, release deletes held as PruneHeld for that revision. */
  confirmPrune: string | null;
  /** run (and install --daemon): --listen, --log-format, --webhook-secret-file as given (checked by the command). */
  listen: string | null;
  logFormat: string | null;
  webhookSecretFile: string | null;
  /** install, uninstall: --daemon, the `gitfleet run` service instead of the timer. */
  daemon: boolean;
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
  if (v.quiet && v.verbose) throw new UsageError('-q (only errors) and -v (more detail) exclude each other: give one');
  for (const [k, commands] of Object.entries(COMMAND_ONLY)) {
    if (v[k as keyof typeof v] !== undefined && !commands.includes(command ?? ''))
      throw new UsageError(`--${k} is an option of ${commands.join(' and ')} only`);
  }
  if (command === 'apply' && v.timeout !== undefined && !v.wait)
    throw new UsageError('--timeout: apply takes it only with --wait (how long to wait for every agent to be Ready)');
  return {
    command,
    positionals,
    opts: {
      repo: v.repo ?? env.GITFLEET_REPO ?? '.',
      branch: v.branch ?? null,
      host,
      tenant: tenantOf(env),
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
      quiet: v.quiet ?? false,
      verbose: v.verbose ?? false,
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
      worktree: v.worktree ?? false,
      wait: v.wait ?? false,
      confirmPrune: v['confirm-prune'] === undefined ? null : revisionArg(v['confirm-prune']),
      listen: v.listen ?? null,
      logFormat: v['log-format'] ?? null,
      webhookSecretFile: v['webhook-secret-file'] ?? null,
      daemon: v.daemon ?? false,
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

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in seconds (10, 2.5, 10s), milliseconds (500ms), minutes (2m) or hours (1h), more than zero. */
function durationMs(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? 's']! : NaN;
  if (!(ms > 0))
    throw new UsageError(`${flag} ${JSON.stringify(text)}: a duration, e.g. 10 or 2.5 (seconds), 90s, 500ms, 2m or 1h`);
  return ms;
}

function positiveCount(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${flag} ${JSON.stringify(text)}: a whole number of at least 1`);
  return Number(text);
}

/**
 * Who this reconciler acts for: the user running it, or GITFLEET_TENANT (a service account reconciling for a named
 * tenant). It names files (`status/<host>@<tenant>.json`), so it must be a plain name.
 */
function tenantOf(env: NodeJS.ProcessEnv): string {
  const tenant = env.GITFLEET_TENANT || os.userInfo().username;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(tenant))
    throw new UsageError(
      `tenant "${tenant}" (${env.GITFLEET_TENANT ? 'GITFLEET_TENANT' : 'the user name'}): ` +
        "letters, digits, '_', '.' and '-' only",
    );
  return tenant;
}
