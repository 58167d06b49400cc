#!/usr/bin/env node
// gitfleet daemon figures (issue #12), measured from outside the daemon:
//
//   npm run bench:daemon                  both cases: 10 merges each, 1000 reconciles
//   node bench/daemon.mjs --merges 10 --reconciles 1000 [--only local|remote] [--json]
//
// 1. local: merge -> converged. `gitfleet run` (dist/cli.js, a child process)
//    on a local bare repo; the bench commits a new agent with the system git
//    in a work clone and pushes it to the bare repo (the merge), then times
//    until `tmux -L <socket> has-session -t =<agent>` succeeds (polled every
//    5 ms). Median and p90 of --merges runs; target <= 1 s.
// 2. local: RSS. The fleet is converged (every reconcile a no-op); the bench
//    sends verified webhooks (GitLab token) one at a time, each waited for by
//    its log line, and reads the daemon's VmRSS (/proc/<pid>/status) after
//    10, 50, 100, ... and --reconciles reconciles, each with the V8 heap as
//    the daemon's /metrics shows it (used, total, young/old/code/large-object
//    spaces, external), to tell what grows; and the daemon's own CPU time per
//    reconcile (/proc/<pid>/stat). Target: RSS after 1000 within 10 % of RSS
//    after 10.
// 3. remote: merge -> converged with a webhook. `gitfleet run --repo
//    http://127.0.0.1:PORT/fleet.git --listen ...` against git-http-backend
//    behind a token-checking loopback server (bench/git-server.mjs), polling
//    the remote only every hour (GITFLEET_POLL_INTERVAL), so the webhook is
//    what wakes it. Each merge: the system git pushes the new agent to the
//    served bare repo, then the bench POSTs a GitHub push webhook signed
//    (X-Hub-Signature-256) with the secret file's secret, as a forge does
//    after a merge; timed from before the push until the session exists.
//    Target <= 2 s. With -v the daemon traces its phases on stderr; the bench
//    notes when each trace line arrived, so the JSON shows where the time went.
// Everything runs in a temp dir with a private TMUX_TMPDIR and XDG_RUNTIME_DIR
// (so no systemd user manager answers: tmux supervisor), on private tmux
// sockets killed at the end, also on error or SIGINT/SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startGitServer } from './git-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const MERGES = Number(flag('merges', 10));
const RECONCILES = Number(flag('reconciles', 1000));
const ONLY = flag('only', null);
const JSON_OUT = args.includes('--json');
const log = (s) => process.stderr.write(`${s}\n`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitfleet-bench-daemon-'));
const tmuxDir = path.join(dir, 'tmux');
fs.mkdirSync(tmuxDir, { mode: 0o700 });
const env = {
  ...process.env,
  TMUX_TMPDIR: tmuxDir,
  XDG_RUNTIME_DIR: tmuxDir,
  DBUS_SESSION_BUS_ADDRESS: '',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};
delete env.TMUX;
const sockets = [];
const daemons = [];
let server = null;

function cleanup() {
  for (const d of daemons) if (d.exitCode === null) d.kill('SIGKILL');
  for (const s of sockets) spawnSync('tmux', ['-L', s, 'kill-server'], { env });
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};

/** A fleet repo (bare, served or not) with a work clone that commits a roster of `sleep infinity` agents. */
function fleetRepo(name) {
  const base = path.join(dir, name);
  const bare = path.join(base, 'fleet.git');
  const work = path.join(base, 'work');
  const socket = `gitfleet-bench-${name}-${randomBytes(4).toString('hex')}`;
  sockets.push(socket);
  const git = (...a) => {
    const r = spawnSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.invalid', ...a], {
      cwd: work,
      env,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`git ${a.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  fs.mkdirSync(path.join(work, 'rosters'), { recursive: true });
  spawnSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env });
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', bare);
  const agents = [];
  const commit = (agent) => {
    agents.push(agent);
    const text =
      'version: 1\ntransport: tmux\n' +
      `tmux:\n  socket_name: ${socket}\n` +
      'runtimes:\n  stub:\n    command: [sleep, infinity]\n' +
      `agents:\n${agents.map((a) => `  - name: ${a}\n    runtime: stub\n`).join('')}`;
    fs.writeFileSync(path.join(work, 'rosters', 'bench.yaml'), text);
    git('add', '-A');
    git('commit', '-q', '-m', `add ${agent}`);
  };
  commit('a0');
  git('push', '-q', 'origin', 'HEAD:main');
  const hasSession = (agent) =>
    spawnSync('tmux', ['-L', socket, 'has-session', '-t', `=${agent}`], { env }).status === 0;
  return { base, bare, git, commit, hasSession };
}

/** `gitfleet run` as a child; its stdout log and -v trace lines (stderr, each with its arrival time) collected. */
function startDaemon(repo, stateDir, extraEnv = {}) {
  const secretFile = path.join(dir, `hook-secret-${daemons.length}`);
  fs.writeFileSync(secretFile, 'bench-secret\n', { mode: 0o600 });
  const argv = [CLI, 'run', '-v', '--repo', repo, '--state-dir', stateDir, '--host', 'bench'];
  argv.push('--listen', '127.0.0.1:0', '--webhook-secret-file', secretFile);
  const proc = spawn(process.execPath, argv, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.push(proc);
  const d = { proc, out: '', trace: [] };
  proc.stdout.on('data', (c) => (d.out += c.toString()));
  let partial = '';
  proc.stderr.on('data', (c) => {
    const now = performance.now();
    const parts = (partial + c.toString()).split('\n');
    partial = parts.pop();
    for (const line of parts) d.trace.push({ at: now, line });
  });
  d.lines = () => d.out.split('\n').filter(Boolean);
  d.reconciles = () => d.lines().filter((l) => l.includes(' reconcile ')).length;
  d.waitUntil = async (check, ms, what) => {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end || proc.exitCode !== null)
        throw new Error(`${what}: not in time\n${d.out.slice(-2000)}\n${d.trace.map((t) => t.line).join('\n')}`);
      await sleep(5);
    }
  };
  d.start = async () => {
    await d.waitUntil(() => / trigger=start outcome=ok /.test(d.out), 60_000, 'start reconcile');
    d.base = `http://${/ listen=(\S+)/.exec(d.out)[1]}`;
  };
  d.stop = async () => {
    proc.kill('SIGTERM');
    return proc.exitCode ?? (await new Promise((r) => proc.on('exit', r)));
  };
  return d;
}

/** CPU time the process itself used so far (user + system, not its children's), in ms. */
function cpuMs(pid) {
  const fields = fs
    .readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // Fields 14 and 15 of proc(5) (utime, stime), counted from field 3 here; in clock ticks, 100 per second on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

/**
 * The daemon's V8 heap as its /metrics shows it (prom-client's default metrics), in MiB: what RSS is made of,
 * so that growth can be told apart (young generation, old generation, code, memory outside the heap).
 */
async function heapFigures(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (re) => Number(re.exec(text)?.[1] ?? Number.NaN) / 2 ** 20;
  const space = (what, name) =>
    value(new RegExp(`^nodejs_heap_space_size_${what}_bytes\\{space="${name}"\\} (\\S+)`, 'm'));
  const f = {
    heapUsed: value(/^nodejs_heap_size_used_bytes (\S+)/m),
    heapTotal: value(/^nodejs_heap_size_total_bytes (\S+)/m),
    external: value(/^nodejs_external_memory_bytes (\S+)/m),
  };
  for (const s of ['new', 'old', 'code', 'large_object'])
    f[s] = `${space('used', s).toFixed(1)}/${space('total', s).toFixed(1)}`;
  for (const k of ['heapUsed', 'heapTotal', 'external']) f[k] = Number(f[k].toFixed(1));
  return f;
}

const heapText = (f) =>
  Object.entries(f)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** The daemon's -v phase lines that arrived after t0, as "phase: at ms" (since t0). */
function phasesSince(d, t0) {
  return d.trace
    .filter((t) => t.at >= t0 && t.line.startsWith('· '))
    .map((t) => `${t.line.slice(2).replace(/: \d+ ms$/, '')} @${Math.round(t.at - t0)}`);
}

async function localCase() {
  const f = fleetRepo('local');
  const d = startDaemon(f.bare, path.join(f.base, 'state'));
  await d.start();
  // 1. merge -> converged
  const merges = [];
  for (let i = 1; i <= MERGES; i++) {
    const name = `m${i}`;
    f.git('pull', '-q', '--rebase', 'origin', 'main'); // the daemon's status commits
    f.commit(name);
    const before = d.reconciles();
    const t0 = performance.now();
    f.git('push', '-q', 'origin', 'HEAD:main');
    await d.waitUntil(() => f.hasSession(name), 30_000, `session ${name}`);
    merges.push(performance.now() - t0);
    log(`local merge ${i}/${MERGES}: ${name} session after ${merges.at(-1).toFixed(0)} ms`);
    // Let that reconcile finish (status committed) before the next merge.
    await d.waitUntil(() => d.reconciles() > before, 30_000, `reconcile of ${name}`);
    await sleep(300);
  }
  // 2. RSS over many no-op reconciles, each triggered by a verified webhook.
  const rss = {};
  const heap = {};
  const marks = [10, 50, 100, 250, 500, 750, 1000, 2000, 5000].filter((n) => n <= RECONCILES);
  if (RECONCILES > 0 && !marks.includes(RECONCILES)) marks.push(RECONCILES);
  const start = d.reconciles();
  const t0 = performance.now();
  const cpu0 = cpuMs(d.proc.pid);
  for (let n = 1; n <= RECONCILES; n++) {
    const before = d.reconciles();
    const r = await fetch(`${d.base}/webhook`, {
      method: 'POST',
      headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'bench-secret' },
      body: '{}',
    });
    if (r.status !== 202) throw new Error(`webhook answered ${r.status}`);
    await d.waitUntil(() => d.reconciles() > before, 60_000, `webhook reconcile ${n}`);
    if (marks.includes(n)) {
      rss[n] = rssKiB(d.proc.pid);
      heap[n] = await heapFigures(d.base);
      log(`after ${n} webhook reconciles: RSS ${(rss[n] / 1024).toFixed(1)} MiB (${heapText(heap[n])})`);
    }
  }
  const perReconcile = RECONCILES > 0 ? (performance.now() - t0) / RECONCILES : 0;
  const cpuPerReconcile = RECONCILES > 0 ? (cpuMs(d.proc.pid) - cpu0) / RECONCILES : 0;
  const notOk = d
    .lines()
    .filter((l) => l.includes(' reconcile trigger=webhook '))
    .filter((l) => !l.includes(' outcome=ok ')).length;
  const reconciles = d.reconciles() - start;
  const exitCode = await d.stop();
  const first = rss[10] ?? rss[marks[0]];
  const growth = RECONCILES > 0 ? (rss[RECONCILES] - first) / first : 0;
  return {
    merges: merges.map(Math.round),
    mergeMedianMs: Math.round(quantile(merges, 0.5)),
    mergeP90Ms: Math.round(quantile(merges, 0.9)),
    reconciles,
    reconcileMeanMs: Math.round(perReconcile),
    reconcileCpuMs: Number(cpuPerReconcile.toFixed(1)),
    notOk,
    rssKiB: rss,
    heapMiB: heap,
    rssGrowth: Number(growth.toFixed(4)),
    exitCode,
  };
}

/** A GitHub push event, signed as GitHub signs it (HMAC-SHA256 of the body with the webhook secret). */
function githubPush(after) {
  const body = JSON.stringify({ ref: 'refs/heads/main', after, repository: { full_name: 'bench/fleet' } });
  const signature = `sha256=${createHmac('sha256', 'bench-secret').update(body).digest('hex')}`;
  const headers = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature };
  return { method: 'POST', headers, body };
}

async function remoteCase() {
  const f = fleetRepo('remote');
  const token = randomBytes(12).toString('hex');
  server = await startGitServer(f.base, token);
  // An hour between polls: within the bench only the webhook can wake the daemon.
  const d = startDaemon(server.url('fleet.git'), path.join(f.base, 'state'), {
    GITFLEET_GIT_TOKEN: token,
    GITFLEET_POLL_INTERVAL: '3600',
  });
  await d.start();
  const merges = [];
  const afterPush = []; // the same, from when the system git's push returned (the merge done): gitfleet's part
  const profile = [];
  for (let i = 1; i <= MERGES; i++) {
    const name = `r${i}`;
    f.commit(name); // status goes to gitfleet-status: nothing to pull on main
    const hooked = () => d.lines().filter((l) => l.includes(' reconcile trigger=webhook '));
    const before = hooked().length;
    const t0 = performance.now();
    f.git('push', '-q', 'origin', 'HEAD:main');
    const pushed = performance.now() - t0;
    const r = await fetch(`${d.base}/webhook`, githubPush(f.git('rev-parse', 'HEAD').trim()));
    if (r.status !== 202) throw new Error(`webhook answered ${r.status}`);
    const answered = performance.now() - t0;
    await d.waitUntil(() => f.hasSession(name), 30_000, `session ${name}`);
    merges.push(performance.now() - t0);
    afterPush.push(performance.now() - t0 - pushed);
    // That reconcile finished (status pushed) before the next merge; a scheduled one may run too.
    await d.waitUntil(() => hooked().length > before, 30_000, `reconcile of ${name}`);
    const line = hooked()[before];
    profile.push({
      pushMs: Math.round(pushed),
      webhookAnsweredMs: Math.round(answered),
      phases: phasesSince(d, t0),
      line: line.replace(/^\S+ /, ''),
    });
    log(`remote merge ${i}/${MERGES}: ${name} session after ${merges.at(-1).toFixed(0)} ms (${line})`);
    await sleep(300);
  }
  const lines = d.lines().filter((l) => l.includes(' reconcile '));
  const exitCode = await d.stop();
  return {
    merges: merges.map(Math.round),
    mergeMedianMs: Math.round(quantile(merges, 0.5)),
    mergeP90Ms: Math.round(quantile(merges, 0.9)),
    afterPush: afterPush.map(Math.round),
    afterPushMedianMs: Math.round(quantile(afterPush, 0.5)),
    afterPushP90Ms: Math.round(quantile(afterPush, 0.9)),
    triggers: lines.map((l) => / trigger=(\S+)/.exec(l)[1]),
    requests: { ...server.counts },
    profile,
    exitCode,
  };
}

function text(figures) {
  const rows = [];
  const { local, remote } = figures;
  if (local) {
    rows.push(
      `local repo, merge -> session exists: median ${local.mergeMedianMs} ms, p90 ${local.mergeP90Ms} ms ` +
        `over ${local.merges.length} (${local.merges.join(', ')} ms); target median <= 1000 ms`,
    );
    if (RECONCILES > 0)
      rows.push(
        `RSS: ${Object.entries(local.rssKiB)
          .map(([n, k]) => `${n}: ${(k / 1024).toFixed(1)} MiB`)
          .join(', ')}; after ${RECONCILES} vs after 10: ${(local.rssGrowth * 100).toFixed(1)} %; ` +
          'target within 10 %',
        `${RECONCILES} webhook reconciles of a converged fleet, ${local.reconcileMeanMs} ms each on average ` +
          `(daemon CPU ${local.reconcileCpuMs} ms), ` +
          `${local.notOk} not ok; daemon exit ${local.exitCode} on SIGTERM`,
      );
  }
  if (remote)
    rows.push(
      `remote repo + webhook, merge -> session exists: median ${remote.mergeMedianMs} ms, ` +
        `p90 ${remote.mergeP90Ms} ms over ${remote.merges.length} (${remote.merges.join(', ')} ms); ` +
        `target median <= 2000 ms; from the push's end (the merge done, the webhook sent): median ` +
        `${remote.afterPushMedianMs} ms, p90 ${remote.afterPushP90Ms} ms; ` +
        `triggers ${[...new Set(remote.triggers)].join(', ')}; ` +
        `daemon exit ${remote.exitCode} on SIGTERM`,
    );
  return `${rows.join('\n')}\n`;
}

async function main() {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: npm run build`);
  const figures = {};
  if (ONLY !== 'remote') figures.local = await localCase();
  if (ONLY !== 'local') figures.remote = await remoteCase();
  process.stdout.write(JSON_OUT ? `${JSON.stringify(figures, null, 2)}\n` : text(figures));
  const { local, remote } = figures;
  const localOk =
    !local ||
    (local.mergeMedianMs <= 1000 && Math.abs(local.rssGrowth) <= 0.1 && local.notOk === 0 && local.exitCode === 0);
  const remoteOk =
    !remote ||
    (remote.mergeMedianMs <= 2000 && remote.exitCode === 0 && remote.triggers.every((t) => t !== 'ref-change'));
  return localOk && remoteOk ? 0 : 1;
}

main()
  .then(async (code) => {
    await server?.stop();
    cleanup();
    process.exit(code);
  })
  .catch(async (e) => {
    log(`bench failed: ${e.stack ?? e}`);
    await server?.stop();
    cleanup();
    process.exit(1);
  });
