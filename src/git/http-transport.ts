// The remote over HTTP(S), with isomorphic-git: the token goes only into the
// Authorization header (basic auth), never into a URL, a message or a ref.
import git from 'isomorphic-git';
import { errorMessage, TerminalError, TransientError } from '../errors.js';
import { atomicFs } from './atomic-fs.js';
import { authHeader } from './credentials.js';
import { httpClient, NetworkTimeout, TlsRefused } from './http-client.js';
import type { Secret } from './remote-settings.js';
import { ALIVE_PREFIX } from '../status/liveness.js';
import { MOVED, PROTECTED, type PushOutcome, type RemoteRefs, sortRefs, type Transport } from './transport.js';

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ETIMEDOUT_GITFLEET',
]);

export class HttpTransport implements Transport {
  private readonly headers: Record<string, string>;
  private readonly http;
  /** Fetches and pushes write packs and refs into the clone whole (atomic-fs.ts): others read it meanwhile. */
  private readonly fs: ReturnType<typeof atomicFs>;
  constructor(
    readonly label: string,
    private readonly gitdir: string,
    token: Secret | null,
    username: string,
    timeoutMs: number,
  ) {
    this.headers = authHeader(username, token);
    this.fs = atomicFs(gitdir);
    this.http = httpClient(timeoutMs);
  }

  async listRefs(): Promise<RemoteRefs> {
    try {
      // Protocol v1 advertises every ref in the one answer anyway: branches and liveness refs are sorted here.
      const refs = await git.listServerRefs({
        http: this.http,
        url: this.label,
        headers: this.headers,
        protocolVersion: 1,
      });
      return sortRefs(refs, ALIVE_PREFIX);
    } catch (e) {
      throw this.failure(e, 'reading the branch heads of');
    }
  }

  async fetchBranch(branch: string): Promise<string> {
    try {
      return await this.fetchOne(branch);
    } catch (e) {
      throw this.failure(e, `fetching branch ${branch} from`);
    }
  }

  /** One ref (a branch name or a full ref) fetched whole; resolves to its commit. */
  private async fetchOne(ref: string): Promise<string> {
    const r = await git.fetch({ ...this.origin(), ref, remoteRef: ref, singleBranch: true, tags: false });
    if (!r.fetchHead) throw new TerminalError(`fetching ${ref} from ${this.label}: the server sent no head`);
    return r.fetchHead;
  }

  /** Push the clone's `ref` to the remote's `remoteRef`. */
  private pushOne(ref: string, remoteRef: string, force: boolean): Promise<unknown> {
    return git.push({ ...this.origin(), ref, remoteRef, force });
  }

  /** What every fetch and push of the clone's `origin` passes isomorphic-git. */
  private origin() {
    return {
      fs: this.fs,
      http: this.http,
      gitdir: this.gitdir,
      url: this.label,
      remote: 'origin',
      headers: this.headers,
    };
  }

  async push(branch: string, _oid: string): Promise<PushOutcome> {
    // isomorphic-git pushes a local ref: the caller set refs/heads/<branch> to _oid in the private clone.
    try {
      await this.pushOne(branch, `refs/heads/${branch}`, false);
      return { ok: true };
    } catch (e) {
      const code = (e as { code?: string }).code;
      const status = (e as { data?: { statusCode?: number } }).data?.statusCode;
      if (code === 'PushRejectedError') return { ok: false, reason: 'moved', detail: 'not a fast-forward' };
      if (code === 'GitPushError') {
        const detail = String((e as { data?: { prettyDetails?: string } }).data?.prettyDetails ?? '').trim();
        if (PROTECTED.test(detail)) return { ok: false, reason: 'protected', detail };
        if (MOVED.test(detail)) return { ok: false, reason: 'moved', detail };
        throw new TerminalError(`pushing ${branch} to ${this.label} was refused: ${detail}`);
      }
      if (status === 403) return { ok: false, reason: 'protected', detail: 'HTTP 403 Forbidden' };
      throw this.failure(e, `pushing branch ${branch} to`);
    }
  }

  async fetchRefs(refs: readonly string[]): Promise<void> {
    // isomorphic-git fetches one ref per request; each is one tiny commit (and the empty tree).
    for (const ref of refs) {
      try {
        const head = await this.fetchOne(ref);
        await git.writeRef({ fs: this.fs, gitdir: this.gitdir, ref, value: head, force: true });
      } catch (e) {
        throw this.failure(e, `fetching ${ref} from`);
      }
    }
  }

  async forcePush(ref: string, _oid: string): Promise<PushOutcome> {
    // Pushed from the clone's own ref of that name, which the caller set to _oid.
    try {
      await this.pushOne(ref, ref, true);
      return { ok: true };
    } catch (e) {
      const code = (e as { code?: string }).code;
      const status = (e as { data?: { statusCode?: number } }).data?.statusCode;
      if (code === 'GitPushError') {
        const detail = String((e as { data?: { prettyDetails?: string } }).data?.prettyDetails ?? '').trim();
        return { ok: false, reason: 'protected', detail };
      }
      if (status === 403) return { ok: false, reason: 'protected', detail: 'HTTP 403 Forbidden' };
      throw this.failure(e, `pushing ${ref} to`);
    }
  }

  /** A failure in gitfleet's words: the URL without credentials, what to do; transient ones retried. */
  private failure(e: unknown, what: string): Error {
    if (e instanceof TerminalError || e instanceof TransientError) return e;
    const where = `${what} ${this.label}`;
    if (e instanceof NetworkTimeout) return new TransientError(`${where}: timed out (${e.message})`);
    if (e instanceof TlsRefused) return new TerminalError(`${where}: ${tlsAdvice(e)}`);
    const code = (e as { code?: string }).code ?? '';
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? '';
    if (TRANSIENT_CODES.has(code) || TRANSIENT_CODES.has(cause))
      return new TransientError(`${where}: ${code || cause} (network)`);
    const status = (e as { data?: { statusCode?: number } }).data?.statusCode;
    if (code === 'HttpError' && status !== undefined) {
      if (status === 401)
        return new TerminalError(
          `${where}: authentication failed (HTTP 401); check the token (GITFLEET_GIT_TOKEN or the token file) ` +
            'and GITFLEET_GIT_USERNAME',
        );
      if (status === 403) return new TerminalError(`${where}: access denied (HTTP 403); the token may not read it`);
      if (status === 404) return new TerminalError(`${where}: no such repository (HTTP 404)`);
      if (status >= 500 || status === 429 || status === 408)
        return new TransientError(`${where}: the server answered HTTP ${status}`);
      return new TerminalError(`${where}: the server answered HTTP ${status}`);
    }
    if (code === 'SmartHttpError') return new TerminalError(`${where}: not a git server (no smart HTTP answer)`);
    return new TerminalError(`${where}: ${code || 'error'}: ${firstLine(errorMessage(e))}`, { cause: e });
  }
}

/** What a refused certificate means, and the way out, in the operator's terms. */
function tlsAdvice(e: TlsRefused): string {
  if (e.reason === 'name')
    return (
      `the server's TLS certificate is not for this host name (${firstLine(e.message)}); ` +
      'use in --repo the name the certificate is for'
    );
  if (e.reason === 'expired')
    return (
      `the server's TLS certificate is expired or not yet valid (${e.code}); the forge must renew it ` +
      "(or this host's clock is wrong)"
    );
  return (
    `the server's TLS certificate is not trusted (${e.code}: not signed by a certificate authority node trusts). ` +
    'If the forge uses a private CA, trust it: start gitfleet with NODE_EXTRA_CA_CERTS=/path/to/ca.pem ' +
    '(for the units, run gitfleet install with it set), or add the CA to the system store ' +
    '(update-ca-certificates) and start gitfleet with NODE_OPTIONS=--use-openssl-ca'
  );
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}
