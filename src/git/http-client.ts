// isomorphic-git's HTTP client, on node's http/https with a deadline: each
// request (connect, send, and reading the whole answer) is aborted after
// `timeoutMs`, so a server that hangs mid-pack fails the operation instead
// of stalling the reconciler. isomorphic-git's own node client has no
// timeout. No proxies, no redirects to other hosts: the URL given is used.
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
    r.on('error', (e) => reject(controller.signal.aborted ? timeout : e));
    r.end(Buffer.concat(chunks));
  }).catch((e) => {
    clearTimeout(timer);
    throw e;
  });
  res.on('close', () => clearTimeout(timer));
  async function* body(): AsyncIterableIterator<Uint8Array> {
    try {
      for await (const c of res) yield c as Uint8Array;
    } catch (e) {
      throw controller.signal.aborted ? timeout : e;
    } finally {
      clearTimeout(timer);
    }
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
