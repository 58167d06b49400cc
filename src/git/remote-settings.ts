// Pure: how gitfleet reaches a remote repository, from the environment and
// the command line. The token itself is held in a Secret, which prints as
// `***` however it is rendered (template, JSON, util.inspect), so an options
// object logged by mistake still shows no credential.
import { UsageError } from '../errors.js';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The value, for the one place that sends it (the Authorization header). */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '***';
  }
  toJSON(): string {
    return '***';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret(***)';
  }
}

export interface RemoteSettings {
  /** http:// to a host that is not loopback (--allow-insecure-http, GITFLEET_ALLOW_INSECURE_HTTP=1). */
  allowInsecureHttp: boolean;
  /** The token from GITFLEET_GIT_TOKEN, when no file is given. */
  token: Secret | null;
  /** --git-token-file, else GITFLEET_GIT_TOKEN_FILE: read at connect, refused when others may read it. */
  tokenFile: string | null;
  /**
   * The basic-auth user name sent with the token (GITFLEET_GIT_USERNAME). GitHub takes `x-access-token` for
   * every token kind, Gitea/Forgejo and GitLab personal/project tokens take any name; GitLab OAuth tokens want
   * `oauth2`.
   */
  username: string;
  /** ssh: GITFLEET_SSH_KEY (optional: ssh's default identity otherwise) and the required GITFLEET_SSH_KNOWN_HOSTS. */
  sshKey: string | null;
  knownHosts: string | null;
  /** Every network operation's limit (GITFLEET_GIT_TIMEOUT, seconds; default 60). */
  timeoutMs: number;
  /** Tries per network operation on transient failures (GITFLEET_GIT_ATTEMPTS; default 3). */
  attempts: number;
  /** Where a line for people goes while gitfleet waits (the clone lock held > 1 s): the CLI's stderr. */
  notice?: (message: string) => void;
}

export const DEFAULT_GIT_TIMEOUT_MS = 60_000;
export const DEFAULT_GIT_ATTEMPTS = 3;

export function remoteSettings(
  env: NodeJS.ProcessEnv,
  flags: { tokenFile?: string | undefined; allowInsecureHttp?: boolean | undefined },
): RemoteSettings {
  const timeout = env.GITFLEET_GIT_TIMEOUT;
  const attempts = env.GITFLEET_GIT_ATTEMPTS;
  return {
    allowInsecureHttp: flags.allowInsecureHttp === true || env.GITFLEET_ALLOW_INSECURE_HTTP === '1',
    token: flags.tokenFile || !env.GITFLEET_GIT_TOKEN ? null : new Secret(env.GITFLEET_GIT_TOKEN.trim()),
    tokenFile: flags.tokenFile || env.GITFLEET_GIT_TOKEN_FILE || null,
    username: env.GITFLEET_GIT_USERNAME || 'x-access-token',
    sshKey: env.GITFLEET_SSH_KEY || null,
    knownHosts: env.GITFLEET_SSH_KNOWN_HOSTS || null,
    timeoutMs: timeout ? seconds('GITFLEET_GIT_TIMEOUT', timeout) : DEFAULT_GIT_TIMEOUT_MS,
    attempts: attempts ? count('GITFLEET_GIT_ATTEMPTS', attempts) : DEFAULT_GIT_ATTEMPTS,
  };
}

function seconds(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : NaN;
  if (!(ms > 0)) throw new UsageError(`${name}=${JSON.stringify(text)}: a number of seconds, e.g. 60 or 2.5`);
  return ms;
}

function count(name: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 10)
    throw new UsageError(`${name}=${JSON.stringify(text)}: a whole number from 1 to 10`);
  return Number(text);
}
