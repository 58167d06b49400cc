// Global options, accepted before or after the command name.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import type { ReconcileOptions } from '../reconcile.js';

export const GLOBAL_OPTIONS = {
  repo: { type: 'string' },
  branch: { type: 'string' },
  host: { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  // install / uninstall only (see INSTALL_ONLY)
  every: { type: 'string' },
  'dry-run': { type: 'boolean' },
  name: { type: 'string' },
} as const;

/** Options that only some commands take. */
const INSTALL_ONLY: Record<string, readonly string[]> = { every: ['install'], 'dry-run': ['install', 'uninstall'], name: ['install', 'uninstall'] };

/** What every command knows: where the fleet is, who and where we are, and how to answer. */
export interface GlobalOptions extends Pick<ReconcileOptions, 'repo' | 'branch' | 'host' | 'tenant' | 'home' | 'stateDir'> {
  json: boolean;
  help: boolean;
  version: boolean;
  /** install: --every (null: the default); install/uninstall: --dry-run, --name. */
  every: string | null;
  dryRun: boolean;
  name: string | null;
}

export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): { command: string | null; positionals: string[]; opts: GlobalOptions } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: GLOBAL_OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}; see gitfleet --help`);
  }
  const v = parsed.values;
  const [command = null, ...positionals] = parsed.positionals;
  const home = env.HOME || os.homedir();
  const host = v.host ?? os.hostname().split('.')[0]!;
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host)) throw new UsageError(`--host ${JSON.stringify(host)}: allowed: letters, digits, '.', '-'`);
  for (const k of ['repo', 'branch', 'state-dir', 'every', 'name'] as const) {
    if (v[k] === '') throw new UsageError(`--${k} needs a value`);
  }
  for (const [k, commands] of Object.entries(INSTALL_ONLY)) {
    if (v[k as keyof typeof v] !== undefined && !commands.includes(command ?? '')) throw new UsageError(`--${k} is an option of ${commands.join(' and ')} only`);
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
      stateDir: path.resolve(v['state-dir'] ?? env.GITFLEET_STATE_DIR ?? path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'gitfleet')),
      json: v.json ?? false,
      help: v.help ?? false,
      version: v.version ?? false,
      every: v.every ?? null,
      dryRun: v['dry-run'] ?? false,
      name: v.name ?? null,
    },
  };
}

/** PATH for panes: the launcher's, plus the usual per-user tool dirs a timer's PATH lacks. */
export function panePath(env: NodeJS.ProcessEnv, home: string): string {
  const dirs = (env.PATH ?? '').split(':').filter(Boolean);
  for (const d of [`${home}/.local/bin`, `${home}/.npm-global/bin`, `${home}/bin`, '/usr/local/bin', '/usr/bin', '/bin']) {
    if (!dirs.includes(d)) dirs.push(d);
  }
  return dirs.join(':');
}
