// Webhook verification, pure: headers, raw body and secret in, a verdict out.
// Each forge signs differently:
// - GitHub: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>
// - Gitea / Forgejo: X-Gitea-Signature / X-Forgejo-Signature: <hex HMAC-SHA256 of the body>
// - GitLab: X-Gitlab-Token: <the secret itself>
// Every comparison is timing-safe: both sides are hashed to one length first, so neither a differing length nor
// a differing prefix shows in the time taken.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type Forge = 'github' | 'gitea' | 'forgejo' | 'gitlab';

export type Headers = Record<string, string | string[] | undefined>;

export type Verdict =
  | { ok: true; forge: Forge; event: string; push: boolean }
  | { ok: false; forge: Forge | null; reason: string };

function header(h: Headers, name: string): string | null {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? (v.length === 1 ? v[0]! : null) : (v ?? null);
}

/** Equal, in time that does not depend on where or whether they differ. */
export function safeEqual(a: string, b: string): boolean {
  const d = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(d(a), d(b)) && a.length === b.length;
}

const hmacHex = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

/** Which forge sent it, by the headers only that forge sends. */
function forgeOf(h: Headers): Forge | null {
  if (header(h, 'x-forgejo-event') !== null || header(h, 'x-forgejo-signature') !== null) return 'forgejo';
  if (header(h, 'x-gitea-event') !== null || header(h, 'x-gitea-signature') !== null) return 'gitea';
  if (header(h, 'x-gitlab-event') !== null || header(h, 'x-gitlab-token') !== null) return 'gitlab';
  if (header(h, 'x-github-event') !== null || header(h, 'x-hub-signature-256') !== null) return 'github';
  return null;
}

export function verifyWebhook(h: Headers, body: Buffer, secret: string | null): Verdict {
  const forge = forgeOf(h);
  if (!forge) return { ok: false, forge, reason: 'no forge signature or token header' };
  if (secret === null) return { ok: false, forge, reason: 'no --webhook-secret-file given' };
  let given: string | null;
  let want: string;
  switch (forge) {
    case 'github': {
      given = header(h, 'x-hub-signature-256');
      want = `sha256=${hmacHex(secret, body)}`;
      break;
    }
    case 'gitea':
    case 'forgejo': {
      // Forgejo sends both its own header and Gitea's; either must match.
      given = header(h, `x-${forge}-signature`) ?? header(h, 'x-gitea-signature');
      want = hmacHex(secret, body);
      given = given?.toLowerCase() ?? null;
      break;
    }
    case 'gitlab': {
      given = header(h, 'x-gitlab-token');
      want = secret;
      break;
    }
  }
  if (given === null) return { ok: false, forge, reason: 'signature header missing' };
  if (!safeEqual(given, want)) return { ok: false, forge, reason: 'signature does not match' };
  const event = eventOf(h, forge);
  return { ok: true, forge, event, push: event === 'push' || event === 'Push Hook' };
}

function eventOf(h: Headers, forge: Forge): string {
  const name = {
    github: 'x-github-event',
    gitea: 'x-gitea-event',
    forgejo: 'x-forgejo-event',
    gitlab: 'x-gitlab-event',
  };
  return header(h, name[forge]) ?? (forge === 'forgejo' ? (header(h, 'x-gitea-event') ?? '') : '');
}

/**
 * The branch a verified push event names (`ref: refs/heads/<branch>` in GitHub's, Gitea's, Forgejo's and
 * GitLab's payloads alike), or null. Only a hint of what to fetch: what is fetched is the remote's head.
 */
export function pushedBranch(body: Buffer): string | null {
  try {
    const ref = (JSON.parse(body.toString('utf8')) as { ref?: unknown }).ref;
    return typeof ref === 'string' && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
  } catch {
    return null;
  }
}
