// isomorphic-git's HTTP client, on node's http/https with a deadline: each
// request (connect, send, and reading the whole answer) is aborted after
// `timeoutMs`, so a server that hangs mid-pack fails the operation instead
// of stalling the reconciler, and an answer cut short is an error, never
// read as a whole one. isomorphic-git's own node client has neither. No
// proxies, no redirects: the URL given is used. A certificate node refuses is
// a TlsRefused, told apart here from network failures (which are retried).
import http from 'node:http';
import https from 'node:https';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

/** A request that outlived its deadline (a TransientError once classified by the transport). */
export class NetworkTimeout extends Error {
  readonly code = 'ETIMEDOUT_GITFLEET';
  constructor(readonly ms: number) {
    super(`no answer within ${ms / 1000} s`);
  }
}

/** The server closed the connection before the whole answer arrived (transient). */
export class CutShort extends Error {
  readonly code = 'ECONNRESET';
  constructor() {
    super('the connection closed before the whole answer arrived');
  }
}

/**
 * The server's certificate was refused (untrusted issuer, wrong name, expired). Terminal: retrying cannot
 * change a certificate, and only the operator can (trust the CA, fix the URL, or the forge renews it).
 */
export class TlsRefused extends Error {
  constructor(
    readonly reason: 'untrusted' | 'name' | 'expired',
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** OpenSSL's verification results node passes on as `code`, by what the operator can do about them. */
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
]);

function tlsRefused(e: unknown): TlsRefused | null {
  const code = (e as { code?: string }).code ?? '';
  const detail = e instanceof Error ? e.message : String(e);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return new TlsRefused('name', code, detail);
  if (EXPIRED.has(code)) return new TlsRefused('expired', code, detail);
  if (UNTRUSTED.has(code)) return new TlsRefused('untrusted', code, detail);
  return null;
}

export function httpClient(timeoutMs: number): HttpClient {
  return { request: (req) => request(req, timeoutMs) };
}

async function request(req: GitHttpRequest, timeoutMs: number): Promise<GitHttpResponse> {
  const chunks: Uint8Array[] = [];
  if (req.body) for await (const c of req.body) chunks.push(c);
  const controller = new AbortController();
  const timeout = new NetworkTimeout(timeoutMs);
  const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
  timer.unref();
  const lib = req.url.startsWith('https:') ? https : http;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const r = lib.request(req.url, { method: req.method ?? 'GET', headers: req.headers, signal: controller.signal });
    r.on('response', resolve);
    r.on('error', (e) => reject(controller.signal.aborted ? timeout : (tlsRefused(e) ?? e)));
    r.end(Buffer.concat(chunks));
  }).catch((e) => {
    clearTimeout(timer);
    throw e;
  });
  // The whole answer is read here, before isomorphic-git sees any of it: its pkt-line reader takes a stream
  // that ends early for a whole one (a ref advertisement cut short would say a branch is gone). It keeps a
  // fetched pack in memory whole anyway.
  const received: Buffer[] = [];
  try {
    for await (const c of res) received.push(c as Buffer);
    if (!res.complete) throw controller.signal.aborted ? timeout : new CutShort();
  } catch (e) {
    throw controller.signal.aborted ? timeout : e;
  } finally {
    clearTimeout(timer);
  }
  async function* body(): AsyncIterableIterator<Uint8Array> {
    yield Buffer.concat(received);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
  return {
    url: req.url,
    method: req.method ?? 'GET',
    statusCode: res.statusCode ?? 0,
    statusMessage: res.statusMessage ?? '',
    headers,
    body: body(),
  };
}
