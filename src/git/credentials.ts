// The HTTPS token, read when gitfleet connects: from the environment, or from
// a file only its owner can read. A file others may read is refused (the
// token may already have leaked; it must not be used as if it had not).
import { stat, readFile } from 'node:fs/promises';
import { TerminalError, UsageError } from '../errors.js';
import { type RemoteSettings, Secret } from './remote-settings.js';

export async function readToken(s: RemoteSettings): Promise<Secret | null> {
  if (!s.tokenFile) return s.token;
  const st = await stat(s.tokenFile).catch(() => null);
  if (!st) throw new UsageError(`token file ${s.tokenFile} (--git-token-file / GITFLEET_GIT_TOKEN_FILE): no such file`);
  if (!st.isFile()) throw new UsageError(`token file ${s.tokenFile}: not a regular file`);
  if ((st.mode & 0o077) !== 0)
    throw new TerminalError(
      `token file ${s.tokenFile} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); ` +
        `refusing to use it: chmod 600 ${s.tokenFile} (and rotate the token if others could read it)`,
    );
  const token = (await readFile(s.tokenFile, 'utf8')).trim();
  if (!token) throw new UsageError(`token file ${s.tokenFile} is empty`);
  return new Secret(token);
}

/** Basic auth with the token as password: what GitHub, GitLab and Gitea/Forgejo take over HTTPS. */
export function authHeader(username: string, token: Secret | null): Record<string, string> {
  if (!token) return {};
  return { Authorization: `Basic ${Buffer.from(`${username}:${token.reveal()}`).toString('base64')}` };
}
