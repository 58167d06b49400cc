// The remote over HTTP(S), with isomorphic-git: the token goes only into the
// Authorization header (basic auth), never into a URL, a message or a ref.
import git from 'isomorphic-git';
import { errorMessage, TerminalError, TransientError } from '../errors.js';
import { atomicFs } from './atomic-fs.js';
import { authHeader } from './credentials.js';
import { httpClient, NetworkTimeout } from './http-client.js';
import type { Secret } from './remote-settings.js';
import { MOVED, PROTECTED, type PushOutcome, type Transport } from './transport.js';

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

  async listHeads(): Promise<Map<string, string>> {
    try {
      const refs = await git.listServerRefs({
        http: this.http,
        url: this.label,
        headers: this.headers,
        protocolVersion: 1,
        prefix: 'refs/heads/',
      });
      return new Map(refs.map((r) => [r.ref.slice('refs/heads/'.length), r.oid]));
    } catch (e) {
      throw this.failure(e, 'reading the branch heads of');
    }
  }

  async fetchBranch(branch: string): Promise<string> {
    try {
      const r = await git.fetch({
        fs: this.fs,
        http: this.http,
        gitdir: this.gitdir,
        url: this.label,
        remote: 'origin',
        ref: branch,
        remoteRef: branch,
        singleBranch: true,
        tags: false,
        headers: this.headers,
      });
      if (!r.fetchHead) throw new TerminalError(`fetching ${branch} from ${this.label}: the server sent no head`);
      return r.fetchHead;
    } catch (e) {
      throw this.failure(e, `fetching branch ${branch} from`);
    }
  }

  async push(branch: string, _oid: string): Promise<PushOutcome> {
    // isomorphic-git pushes a local ref: the caller set refs/heads/<branch> to _oid in the private clone.
    try {
      await git.push({
        fs: this.fs,
        http: this.http,
        gitdir: this.gitdir,
        url: this.label,
        remote: 'origin',
        ref: branch,
        remoteRef: `refs/heads/${branch}`,
        headers: this.headers,
      });
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

  /** A failure in gitfleet's words: the URL without credentials, what to do; transient ones retried. */
  private failure(e: unknown, what: string): Error {
    if (e instanceof TerminalError || e instanceof TransientError) return e;
    const where = `${what} ${this.label}`;
    if (e instanceof NetworkTimeout) return new TransientError(`${where}: timed out (${e.message})`);
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

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}
