// A git smart-HTTP server on loopback for bench/daemon.mjs: git's own CGI,
// git-http-backend, behind a node HTTP server that requires a token (basic
// auth). It mirrors test/helpers/git-server.ts without its fault injection;
// the bench runs plain .mjs, so it cannot import that TypeScript helper.
import { spawn } from 'node:child_process';
import http from 'node:http';

/** Serve the repositories under `root` on 127.0.0.1 (any free port); resolves to { url(repo), counts, stop() }. */
export async function startGitServer(root, token) {
  const counts = { list: 0, upload: 0, 'receive-list': 0, receive: 0 };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const password = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':')
      .slice(1)
      .join(':');
    if (password !== token) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
    if (u.pathname.endsWith('/info/refs'))
      counts[u.searchParams.get('service') === 'git-receive-pack' ? 'receive-list' : 'list']++;
    else if (u.pathname.endsWith('/git-upload-pack')) counts.upload++;
    else if (u.pathname.endsWith('/git-receive-pack')) counts.receive++;
    cgi(root, req, res, u);
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    counts,
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    stop: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** One request through git-http-backend: CGI headers parsed off its stdout, the rest streamed. */
function cgi(root, req, res, u) {
  const child = spawn('/usr/lib/git-core/git-http-backend', [], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REMOTE_USER: 'bench', // lets receive-pack (gitfleet's status pushes) through
      REMOTE_ADDR: '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(u.pathname),
      QUERY_STRING: u.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headerDone = false;
  child.stdout.on('data', (chunk) => {
    if (headerDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headerDone = true;
    let status = 200;
    const headers = {};
    for (const line of head.subarray(0, end).toString().split('\r\n')) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim();
      if (k.toLowerCase() === 'status')
        status = Number(
          line
            .slice(i + 1)
            .trim()
            .split(' ')[0],
        );
      else headers[k] = line.slice(i + 1).trim();
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  });
  child.stdout.on('end', () => res.end());
  child.on('error', () => res.writeHead(500).end());
}
