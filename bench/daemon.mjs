#!/usr/bin/env node
// gitfleet daemon figures (issue #12), measured from outside the daemon:
//
//   npm run bench:daemon                  10 merges, 1000 reconciles
//   node bench/daemon.mjs --merges 10 --reconciles 1000 [--json]
//
// 1. merge -> converged: `gitfleet run` (dist/cli.js, a child process) on a
//    local bare repo; the bench commits a new agent with the system git in a
//    work clone and pushes it to the bare repo (the merge), then times until
//    `tmux -L <socket> has-session -t =<agent>` succeeds (polled every 5 ms).
//    Median of --merges runs; target <= 1 s.
// 2. RSS: the fleet is converged (every reconcile a no-op); the bench sends
//    verified webhooks (GitLab token) one at a time, each waited for by its
//    log line, and reads the daemon's VmRSS (/proc/<pid>/status) after 10,
//    100, ... and --reconciles reconciles. Target: RSS after 1000 within 10 %
//    of RSS after 10.
// Everything runs in a temp dir with a private TMUX_TMPDIR and XDG_RUNTIME_DIR
// (so no systemd user manager answers: tmux supervisor), on a private tmux
// socket killed at the end, also on error or SIGINT/SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const MERGES = flag('merges', 10);
const RECONCILES = flag('reconciles', 1000);
const JSON_OUT = args.includes('--json');
const log = (s) => process.stderr.write(`${s}\n`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitfleet-bench-daemon-'));
const tmuxDir = path.join(dir, 'tmux');
fs.mkdirSync(tmuxDir, { mode: 0o700 });
const socket = `gitfleet-bench-daemon-${randomBytes(4).toString('hex')}`;
const env = {
  ...process.env,
  TMUX_TMPDIR: tmuxDir,
  XDG_RUNTIME_DIR: tmuxDir,
  DBUS_SESSION_BUS_ADDRESS: '',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};
delete env.TMUX;
const bare = path.join(dir, 'fleet.git');
const work = path.join(dir, 'work');
const stateDir = path.join(dir, 'state');
let daemon = null;

function cleanup() {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
  spawnSync('tmux', ['-L', socket, 'kill-server'], { env });
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

function git(...a) {
  const r = spawnSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.invalid', ...a], {
    cwd: work,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const agents = [];
const rosterText = () =>
  'version: 1\ntransport: tmux\n' +
  `tmux:\n  socket_name: ${socket}\n` +
  'runtimes:\n  stub:\n    command: [sleep, infinity]\n' +
  `agents:\n${agents.map((a) => `  - name: ${a}\n    runtime: stub\n`).join('')}`;

function commitRoster(message) {
  fs.writeFileSync(path.join(work, 'rosters', 'bench.yaml'), rosterText());
  git('add', '-A');
  git('commit', '-q', '-m', message);
}

const hasSession = (name) => spawnSync('tmux', ['-L', socket, 'has-session', '-t', `=${name}`], { env }).status === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let out = '';
const lines = () => out.split('\n').filter(Boolean);
const reconcileCount = () => lines().filter((l) => l.includes(' reconcile ')).length;
async function waitUntil(check, ms, what) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end || daemon.exitCode !== null) throw new Error(`${what}: not in time\n${out.slice(-2000)}`);
    await sleep(5);
  }
}

function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

async function main() {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: npm run build`);
  spawnSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env });
  fs.mkdirSync(path.join(work, 'rosters'), { recursive: true });
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', bare);
  agents.push('a0');
  commitRoster('first agent');
  git('push', '-q', 'origin', 'HEAD:main');
  const secretFile = path.join(dir, 'hook-secret');
  fs.writeFileSync(secretFile, 'bench-secret\n', { mode: 0o600 });

  daemon = spawn(
    process.execPath,
    [CLI, 'run', '--repo', bare, '--state-dir', stateDir, '--host', 'bench', '--listen', '127.0.0.1:0'].concat([
      '--webhook-secret-file',
      secretFile,
    ]),
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  daemon.stdout.on('data', (d) => (out += d.toString()));
  await waitUntil(() => / trigger=start outcome=ok /.test(out), 30_000, 'start reconcile');
  const base = `http://${/ listen=(\S+)/.exec(out)[1]}`;

  // 1. merge -> converged
  const merges = [];
  for (let i = 1; i <= MERGES; i++) {
    const name = `m${i}`;
    agents.push(name);
    git('pull', '-q', '--rebase', 'origin', 'main'); // the daemon's status commits
    commitRoster(`add ${name}`);
    const before = reconcileCount();
    const t0 = performance.now();
    git('push', '-q', 'origin', 'HEAD:main');
    await waitUntil(() => hasSession(name), 30_000, `session ${name}`);
    const ms = performance.now() - t0;
    merges.push(ms);
    log(`merge ${i}/${MERGES}: ${name} session after ${ms.toFixed(0)} ms`);
    // Let that reconcile finish (status committed) before the next merge.
    await waitUntil(() => reconcileCount() > before, 30_000, `reconcile of ${name}`);
    await sleep(300);
  }

  // 2. RSS over many no-op reconciles, each triggered by a verified webhook.
  const rss = {};
  const marks = [10, 100, 250, 500, 750, 1000, 2000, 5000].filter((n) => n <= RECONCILES);
  if (!marks.includes(RECONCILES)) marks.push(RECONCILES);
  const start = reconcileCount();
  const t0 = performance.now();
  for (let n = 1; n <= RECONCILES; n++) {
    const before = reconcileCount();
    const r = await fetch(`${base}/webhook`, {
      method: 'POST',
      headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'bench-secret' },
      body: '{}',
    });
    if (r.status !== 202) throw new Error(`webhook answered ${r.status}`);
    await waitUntil(() => reconcileCount() > before, 60_000, `webhook reconcile ${n}`);
    if (marks.includes(n)) {
      rss[n] = rssKiB(daemon.pid);
      log(`after ${n} webhook reconciles: RSS ${(rss[n] / 1024).toFixed(1)} MiB`);
    }
  }
  const perReconcile = (performance.now() - t0) / RECONCILES;
  const outcomes = lines()
    .slice(0)
    .filter((l) => l.includes(' reconcile trigger=webhook '))
    .map((l) => / outcome=(\S+)/.exec(l)[1]);
  const notOk = outcomes.filter((o) => o !== 'ok').length;

  daemon.kill('SIGTERM');
  const code = await new Promise((r) => daemon.on('exit', r));

  const first = rss[10] ?? rss[marks[0]];
  const last = rss[RECONCILES];
  const growth = (last - first) / first;
  const figures = {
    merges: merges.map((m) => Math.round(m)),
    mergeMedianMs: Math.round(median(merges)),
    reconciles: reconcileCount() - start,
    reconcileMeanMs: Math.round(perReconcile),
    notOk,
    rssKiB: rss,
    rssGrowth: Number(growth.toFixed(4)),
    exitCode: code,
  };
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  else {
    process.stdout.write(
      `merge -> session exists: median ${figures.mergeMedianMs} ms over ${MERGES} ` +
        `(${figures.merges.join(', ')} ms); target <= 1000 ms\n` +
        `RSS: ${Object.entries(rss)
          .map(([n, k]) => `${n}: ${(k / 1024).toFixed(1)} MiB`)
          .join(', ')}; after ${RECONCILES} vs after 10: ${(growth * 100).toFixed(1)} %; target within 10 %\n` +
        `${RECONCILES} webhook reconciles of a converged fleet, ${figures.reconcileMeanMs} ms each on average, ` +
        `${notOk} not ok; daemon exit ${code} on SIGTERM\n`,
    );
  }
  const pass = figures.mergeMedianMs <= 1000 && Math.abs(growth) <= 0.1 && notOk === 0 && code === 0;
  return pass ? 0 : 1;
}

main()
  .then((code) => {
    cleanup();
    process.exit(code);
  })
  .catch((e) => {
    log(`bench failed: ${e.stack ?? e}`);
    cleanup();
    process.exit(1);
  });
