// A real git smart-HTTP server for tests: git's own CGI, git-http-backend,
// behind a loopback node HTTP server that requires a token (basic auth),
// counts requests by kind, and can be told to fail: answer 503, hang (for
// timeouts), refuse pushes as a protected branch would (403), or run a hook
// just before it hands a push to git (a human pushing at that moment). It can
// slow a kind of request down, and notes how many fetches and pushes (the
// requests after which a client writes its .git) were ever served at once.
// With `tls` it serves https:// (node's https server, the certificate given),
// as a forge does.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type Kind = 'list' | 'upload' | 'receive-list' | 'receive';
export type Fault = 'none' | '503' | 'hang' | 'reset' | 'truncate';

export class GitHttpServer {
  readonly counts: Record<Kind, number> = { list: 0, upload: 0, 'receive-list': 0, receive: 0 };
  /** Authorization headers seen that were refused (a wrong token). */
  refused = 0;
  /** What to do, per kind of request (default: serve it). */
  faults: Partial<Record<Kind, Fault>> = {};
  /** Refuse every push with 403, as a forge does for a protected branch. */
  protectPushes = false;
  /** Milliseconds to wait before serving a kind of request. */
  delay: Partial<Record<Kind, number>> = {};
  /** The most upload-pack and receive-pack requests (fetches, pushes) in progress at once. */
  maxWriters = 0;
  private writers = 0;
  /** Runs once before the next push (POST git-receive-pack) reaches git. */
  beforeReceive: (() => Promise<void> | void) | null = null;
  /** TCP connections accepted (a TLS handshake the client refused never becomes a request, but counts here). */
  connections = 0;
  private server!: http.Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    /** Folder the repositories are in (GIT_PROJECT_ROOT). */
    readonly root: string,
    readonly token: string,
    /** PEM files of the server's key and certificate: serve https:// instead of http://. */
    readonly tls: { key: string; cert: string } | null = null,
  ) {}

  url(repo: string, host = '127.0.0.1'): string {
    return `${this.tls ? 'https' : 'http'}://${host}:${this.port}/${repo}`;
  }

  reset(): void {
    for (const k of Object.keys(this.counts) as Kind[]) this.counts[k] = 0;
    this.connections = 0;
    this.faults = {};
  }

  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = this.tls
      ? https.createServer({ key: readFileSync(this.tls.key), cert: readFileSync(this.tls.cert) }, handler)
      : http.createServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const service = u.searchParams.get('service');
    const kind: Kind | null = u.pathname.endsWith('/info/refs')
      ? service === 'git-receive-pack'
        ? 'receive-list'
        : 'list'
      : u.pathname.endsWith('/git-upload-pack')
        ? 'upload'
        : u.pathname.endsWith('/git-receive-pack')
          ? 'receive'
          : null;
    if (!kind) return void res.writeHead(404).end();
    const auth = req.headers.authorization ?? '';
    const password = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':')
      .slice(1)
      .join(':');
    if (password !== this.token) {
      if (auth) this.refused++;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('unauthorized\n');
      return;
    }
    this.counts[kind]++;
    if (kind === 'upload' || kind === 'receive') {
      this.maxWriters = Math.max(this.maxWriters, ++this.writers);
      res.on('close', () => this.writers--);
    }
    if (this.delay[kind]) await new Promise((r) => setTimeout(r, this.delay[kind]));
    const fault = this.faults[kind] ?? 'none';
    if (fault === 'hang') return; // never answers; the socket is closed by stop()
    if (fault === 'reset') return void req.socket.destroy();
    if (fault === 'truncate') {
      // The start of a ref advertisement, then the connection drops (chunked: the client can tell it was cut).
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
      res.write('001e# service=git-upload-pack\n0000');
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    if (fault === '503') return void res.writeHead(503).end('unavailable\n');
    if (this.protectPushes && (kind === 'receive' || kind === 'receive-list'))
      return void res.writeHead(403).end('protected branch\n');
    if (kind === 'receive' && this.beforeReceive) {
      const hook = this.beforeReceive;
      this.beforeReceive = null;
      await hook();
    }
    this.cgi(req, res, u);
  }

  private cgi(req: http.IncomingMessage, res: http.ServerResponse, u: URL): void {
    const child = spawn('/usr/lib/git-core/git-http-backend', [], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'tester',
        REMOTE_ADDR: '127.0.0.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(u.pathname),
        QUERY_STRING: u.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headerDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headerDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    child.stdout.on('end', () => res.end());
    child.on('error', () => res.writeHead(500).end());
  }
}
