// Pure: what a unit (or the crontab line) needs in its environment to reach a
// remote fleet repository, taken from the installer's settings: the paths of
// the token file, ssh key, known_hosts and CA, and the non-secret knobs. A
// secret never goes in: unit files are world-readable, `systemctl show`
// prints their environment to any user, and a crontab line shows in `ps`.
// So a token that exists only in GITFLEET_GIT_TOKEN is refused here, with
// how to put it in a file the units can name instead.
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { RemoteSettings } from '../git/remote-settings.js';
import type { RemoteUrl } from '../git/remote-url.js';

/** Settings passed on as given (already checked by remoteSettings): none of them is a secret. */
const PLAIN = ['GITFLEET_GIT_USERNAME', 'GITFLEET_GIT_TIMEOUT', 'GITFLEET_GIT_ATTEMPTS', 'GITFLEET_POLL_INTERVAL'];

export function remoteUnitEnv(url: RemoteUrl, s: RemoteSettings, env: NodeJS.ProcessEnv): [string, string][] {
  const out: [string, string][] = [];
  const file = (k: string, v: string) => out.push([k, path.resolve(v)]);
  if (url.transport === 'http') {
    if (s.tokenFile) file('GITFLEET_GIT_TOKEN_FILE', s.tokenFile);
    else if (s.token) throw tokenOnlyInEnv(url.url);
    if (s.allowInsecureHttp) out.push(['GITFLEET_ALLOW_INSECURE_HTTP', '1']);
    // A private CA: node reads these only when it starts, so the units' node must be given them too.
    if (env.NODE_EXTRA_CA_CERTS) file('NODE_EXTRA_CA_CERTS', env.NODE_EXTRA_CA_CERTS);
    if (/(^|\s)--use-openssl-ca(\s|$)/.test(env.NODE_OPTIONS ?? '')) out.push(['NODE_OPTIONS', '--use-openssl-ca']);
  } else {
    if (s.sshKey) file('GITFLEET_SSH_KEY', s.sshKey);
    if (s.knownHosts) file('GITFLEET_SSH_KNOWN_HOSTS', s.knownHosts);
  }
  for (const k of PLAIN) if (env[k]) out.push([k, env[k]!]);
  return out;
}

function tokenOnlyInEnv(url: string): UsageError {
  return new UsageError(
    `--repo ${url}: the token is only in GITFLEET_GIT_TOKEN, and install never writes a secret into a unit or ` +
      'crontab (others can read those: systemctl show, ps). Put the token in a file only you can read and pass ' +
      'its path: mkdir -p ~/.config/gitfleet; (umask 077; printf %s "$GITFLEET_GIT_TOKEN" > ' +
      '~/.config/gitfleet/token), then ' +
      'gitfleet install --git-token-file ~/.config/gitfleet/token ... (or GITFLEET_GIT_TOKEN_FILE)',
  );
}
