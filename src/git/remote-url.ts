// Pure: is `--repo` a path or a remote URL, and is that URL one gitfleet will
// use? Refusals happen here, before any network: credentials in the URL
// (they would land in logs, unit files and `ps`), plain http:// to a host
// that is not loopback without an explicit opt-in (the token would travel in
// clear), and schemes gitfleet does not speak.
import { sha256 } from '../hash.js';
import { UsageError } from '../errors.js';

export interface RemoteUrl {
  /** How gitfleet talks to it: isomorphic-git over HTTP(S), or the system git and ssh. */
  transport: 'http' | 'ssh';
  /** The URL as given (it holds no credentials: those are refused). */
  url: string;
  host: string;
  /** http:// to a host that is not loopback, allowed by the operator's opt-in: say so on stderr. */
  warning: string | null;
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * git's scp-like form `[user@]host:path`: no `://`, and no slash before the
 * colon that ends the host. The user part is kept whole (a password in it is refused).
 */
function scpLike(text: string): { user: string | null; host: string; path: string } | null {
  if (text.includes('://')) return null;
  const at = /^([^/@]*)@(\[[^\]/]+\]|[^@/:[\]]+):(.*)$/s.exec(text);
  if (at) return { user: at[1]!, host: at[2]!, path: at[3]! };
  const plain = /^(\[[^\]/]+\]|[^@/:[\]]+):(.*)$/s.exec(text);
  return plain ? { user: null, host: plain[1]!, path: plain[2]! } : null;
}

/** Whether `--repo` names a remote repository rather than a path on this host. */
export function isRemoteRepo(text: string): boolean {
  return HAS_SCHEME.test(text) || scpLike(text) !== null;
}

/** The URL with any user information replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

const CREDENTIALS_HELP =
  'give the token in GITFLEET_GIT_TOKEN or a file (--git-token-file, GITFLEET_GIT_TOKEN_FILE), ' +
  'or for ssh a key (GITFLEET_SSH_KEY)';

/** Check a remote `--repo`; throws a UsageError that never repeats a credential. */
export function parseRemoteUrl(text: string, opts: { allowInsecureHttp: boolean }): RemoteUrl {
  const scp = scpLike(text);
  if (scp) {
    if (scp.user?.includes(':')) throw credentialsRefused(`${scp.host}:${scp.path}`);
    if (!scp.path) throw new UsageError(`--repo ${scp.host}: no repository path after the colon`);
    return { transport: 'ssh', url: text, host: scp.host.replace(/^\[|\]$/g, ''), warning: null };
  }
  const scheme = text.slice(0, text.indexOf(':')).toLowerCase();
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`--repo ${redactUrl(text)}: not a valid URL`);
  }
  const shown = `${u.protocol}//${u.host}${u.pathname}`;
  if (scheme === 'http' || scheme === 'https') {
    // Any user information in an http(s) URL is a credential (forges take a token as the user name too).
    if (u.username || u.password) throw credentialsRefused(shown);
    if (u.search || u.hash) throw new UsageError(`--repo ${shown}: a query or fragment is not allowed in the URL`);
    let warning: string | null = null;
    if (scheme === 'http' && !isLoopback(u.hostname)) {
      if (!opts.allowInsecureHttp)
        throw new UsageError(
          `--repo ${shown}: plain http:// would send the token in clear to a host that is not loopback; ` +
            'use https://, or opt in with --allow-insecure-http (GITFLEET_ALLOW_INSECURE_HTTP=1)',
        );
      warning = `warning: --repo ${shown} is plain http://: the token travels in clear (--allow-insecure-http)`;
    }
    return { transport: 'http', url: shown, host: u.hostname, warning };
  }
  if (scheme === 'ssh') {
    if (u.password) throw credentialsRefused(`ssh://${u.host}${u.pathname}`);
    if (u.search || u.hash) throw new UsageError(`--repo ${shown}: a query or fragment is not allowed in the URL`);
    return { transport: 'ssh', url: text, host: u.hostname.replace(/^\[|\]$/g, ''), warning: null };
  }
  throw new UsageError(
    `--repo ${redactUrl(text)}: unsupported scheme "${scheme}"; allowed: https://host/org/fleet.git, ` +
      'ssh://git@host/org/fleet.git, git@host:org/fleet.git, http:// for loopback, or a path on this host',
  );
}

function credentialsRefused(shown: string): UsageError {
  return new UsageError(
    `--repo ${redactUrl(shown)}: the URL has credentials in it; refusing to use or store them: remove them from ` +
      `the URL and ${CREDENTIALS_HELP}`,
  );
}

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves this host. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The private clone's folder name in the state dir: a hash of the URL (which holds no credentials). */
export function cloneDirName(url: string): string {
  return `${sha256(url).slice(0, 16)}.git`;
}
