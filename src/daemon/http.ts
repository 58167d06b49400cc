// `gitfleet run --listen`: webhooks (POST /webhook), /healthz and /metrics.
// Loopback unless another address is named (and then with a warning): nothing here needs to be reachable from
// elsewhere except a forge's webhooks, which an operator routes on purpose.
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { UsageError } from '../errors.js';
import type { DaemonLog } from './log.js';
import type { DaemonMetrics } from './metrics.js';
import { pushedBranch, verifyWebhook } from './webhooks.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `--listen`: `127.0.0.1:9090`, `[::1]:9090`, `localhost:9090`, or a port alone (loopback). */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535)
    throw new UsageError(
      `--listen ${JSON.stringify(text)}: allowed: ADDRESS:PORT (127.0.0.1:9090, [::1]:9090) or a port (0: any free)`,
    );
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

/**
 * The webhook secret, from a file only the owner may read: a secret in a world-readable file is no secret, and
 * one on the command line would show in `ps`. Trailing line breaks are not part of it.
 */
export async function readWebhookSecret(file: string): Promise<string> {
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`--webhook-secret-file ${file}: cannot read it (${e.code ?? e.message})`);
  });
  if (!st.isFile()) throw new UsageError(`--webhook-secret-file ${file}: not a file`);
  if ((st.mode & 0o077) !== 0)
    throw new UsageError(
      `--webhook-secret-file ${file}: refused, group or others may read it ` +
        `(mode ${(st.mode & 0o777).toString(8)}); allowed: a file only its owner reads: chmod 600 ${file}`,
    );
  const secret = (await readFile(file, 'utf8')).replace(/[\r\n]+$/, '');
  if (!secret) throw new UsageError(`--webhook-secret-file ${file}: empty; allowed: a file holding the secret`);
  return secret;
}

export interface Routes {
  secret: string | null;
  log: DaemonLog;
  metrics: DaemonMetrics;
  /** A verified push: reconcile (a remote source fetches first; `branch`, when the payload names it). */
  onPush(forge: string, branch: string | null): void;
  health(): { healthy: boolean; body: Record<string, unknown> };
}

/** A webhook body larger than this is refused unread (a push payload is far smaller). */
const MAX_BODY = 5 * 1024 * 1024;

export class DaemonHttp {
  private constructor(
    private readonly server: http.Server,
    readonly address: string,
  ) {}

  static async listen(at: ListenAddress, routes: Routes): Promise<DaemonHttp> {
    const server = http.createServer((req, res) => {
      handle(req, res, routes).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    // Slow or idle clients do not hold sockets open for long.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new UsageError(`--listen ${at.host}:${at.port}: cannot listen (${e.code ?? e.message})`)),
      );
      server.listen(at.port, at.host, () => resolve());
    });
    const a = server.address() as net.AddressInfo;
    return new DaemonHttp(server, `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, r: Routes): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://daemon');
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  };
  if (req.method === 'GET' && url.pathname === '/healthz') {
    const h = r.health();
    return json(h.healthy ? 200 : 503, h.body);
  }
  if (req.method === 'GET' && url.pathname === '/metrics') {
    const text = await r.metrics.text();
    res.writeHead(200, { 'content-type': r.metrics.contentType });
    res.end(text);
    return;
  }
  if (url.pathname !== '/webhook') return json(404, { error: 'not found; routes: /healthz, /metrics, /webhook' });
  if (req.method !== 'POST') return json(405, { error: 'POST only' });
  const body = await readBody(req);
  const from = req.socket.remoteAddress ?? '?';
  if (body === null) {
    r.log.event('webhook-refused', { reason: 'body too large', from });
    return json(413, { error: 'body too large' });
  }
  const v = verifyWebhook(req.headers, body, r.secret);
  if (!v.ok) {
    // Never the body: it is whatever an unverified sender chose to send.
    r.log.event('webhook-refused', { forge: v.forge, reason: v.reason, from, bytes: body.length });
    return json(401, { error: 'unverified' });
  }
  if (!v.push) {
    r.log.event('webhook', { forge: v.forge, event: v.event, action: 'ignored' });
    return json(202, { accepted: true, reconcile: false });
  }
  r.onPush(v.forge, pushedBranch(body));
  return json(202, { accepted: true, reconcile: true });
}

function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
