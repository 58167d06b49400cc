// Global options, accepted before or after the command name.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

export const GLOBAL_OPTIONS = {
  repo: { type: 'string' },
  branch: { type: 'string' },
  host: { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export interface GlobalOptions {
  repo: string;
  branch: string | null;
  host: string;
  tenant: string;
  home: string;
  stateDir: string;
  json: boolean;
  help: boolean;
  version: boolean;
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
  for (const k of ['repo', 'branch', 'state-dir'] as const) {
    if (v[k] === '') throw new UsageError(`--${k} needs a value`);
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
