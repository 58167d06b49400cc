#!/usr/bin/env node
// gitfleet benchmark (DESIGN §11, issue #11): `gitfleet apply` on fleets of
// N stub agents, cold (every session created) and no-op (already
// converged), and `gitfleet ps`, side by side with baselines run on the same
// sessions in the same run.
//
//   npm run bench                    sizes 10, 50, 200, 1000
//   node bench/bench.mjs 10 50       other sizes
//   node bench/bench.mjs --json      the figures as JSON on stdout
//
// Per fleet size: a temp dir with a bare repo and a work clone (system git),
// a roster of N `sleep infinity` agents on a private socket
// gitfleet-bench-<random>, pushed to the bare repo; then the built CLI
// (dist/cli.js) as a child process: cold applies (the first commits status;
// before each other one the server is killed, as after a reboot: the state
// dir stays), no-op applies (none may commit: the bare repo's main must
// not move), `ps` runs; medians of the timed ones reported, processes
// counted in other runs (see "Counting processes").
// Baselines, in the same run: bench/baseline-join.sh, the field's per-agent
// join (has-session, display-message, systemctl show, stat per agent) over
// the converged sessions, against the no-op apply; tmuxp (when on PATH)
// loading the same N one-pane sessions on another private socket (-L),
// against the cold apply; `node -e 0` against `gitfleet --version`.
// The join's systemctl step asks a private `systemd --user` the bench starts
// (its own runtime dir, stopped by its pid at the end; --no-systemd: none,
// and the join skips that step as it does wherever no user manager answers).
// Each run is measured from outside gitfleet:
//   - wall time: spawn of the node process to its exit;
//   - processes: PATH wrappers (see below) log every tmux/git/sh/... started;
//     only those whose parent is the gitfleet process count; these runs
//     are not timed (a wrapper is one more exec per start, and per pane);
//   - peak RSS: bench/rusage.mjs, preloaded with `node --import`, writes
//     process.resourceUsage().maxRSS on exit.
// Everything it creates (tmux servers on its own sockets, temp dirs) is
// removed at the end of each size, on error, and on SIGINT/SIGTERM/SIGHUP.
// It never runs tmux without `-L <a socket it created>`.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { floorCommands, isTmuxServer, shq, sleepSync, stopTmuxServer } from './tmux-server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const RUSAGE = pathToFileURL(path.join(HERE, 'rusage.mjs')).href;

const DEFAULT_SIZES = [10, 50, 200, 1000];
const NOOP_REPEATS = 5;
/** Cold applies, `ps` runs and baseline runs per size: a median of 3, one at the largest sizes (minutes each). */
const repeatsFor = (size) => (size >= 1000 ? 1 : 3);
const FLEET = 'bench';
const JOIN = path.join(HERE, 'baseline-join.sh');
const HOST = 'bench';
const RUN_TIMEOUT_MS = 120_000;
// DESIGN §11: a no-op reconcile of a converged fleet of 200 agents spawns at
// most a handful (5) of processes and stays well under a second. "Well under"
// is taken as at most half of it; 500-999 ms is reported as MARGINAL.
const TARGET = { forSize: 200, maxProcesses: 5, budgetMs: 1000, wellUnderMs: 500 };
// Programs gitfleet might start by name. A wrapper is installed for each one
// that exists on the original PATH.
const WRAPPED = ['tmux', 'git', 'systemctl', 'sh', 'hostname', 'id', 'ps', 'whoami', 'loginctl'];

const ORIG_PATH = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
const SYSTEMD = '/lib/systemd/systemd';
// Environment for the bench's own git and tmux calls, and the base of the
// CLI's: no user/system git config (hooks, signing...), no enclosing tmux.
const BASE_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
for (const k of Object.keys(BASE_ENV))
  if (k === 'TMUX' || k === 'TMUX_PANE' || k.startsWith('GITFLEET_')) delete BASE_ENV[k];

// ---------------------------------------------------------------- cleanup
// Everything created, registered before it exists, removed by cleanupAll().
const live = {
  /** The running gitfleet child, if any. */
  child: null,
  /** socket name -> { tmuxTmp, serverPid } */
  sockets: new Map(),
  dirs: new Set(),
  /** The private `systemd --user` the bench started: { pid, base }, stopped by that pid. */
  manager: null,
};

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function killSocket(name) {
  const info = live.sockets.get(name);
  if (!info) return;
  const env = { ...BASE_ENV, TMUX_TMPDIR: info.tmuxTmp };
  // Twice: a tmux client of a killed gitfleet still in flight could start a
  // fresh server just after the first kill-server.
  for (let i = 0; i < 2; i++) {
    spawnSync(TOOLS.tmux, ['-L', name, 'kill-server'], { env, stdio: 'ignore', timeout: 10_000 });
    if (i === 0) sleepSync(100);
  }
  if (info.serverPid) {
    for (let waited = 0; waited < 2_000 && alive(info.serverPid); waited += 50) sleepSync(50);
    if (alive(info.serverPid) && isTmuxServer(info.serverPid)) {
      try {
        process.kill(info.serverPid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  live.sockets.delete(name);
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  live.dirs.delete(dir);
}

function cleanupAll() {
  const child = live.child;
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    sleepSync(100);
  }
  live.child = null;
  for (const name of [...live.sockets.keys()]) killSocket(name);
  stopUserManager();
  for (const dir of [...live.dirs]) removeDir(dir);
}

// ---------------------------------------------------------------- a private systemd user manager
// The field's join asks systemctl about every agent; without a user manager that answers, the baseline
// script skips that step and is cheaper than the field's. So the bench starts its own `systemd --user`
// as the tests do (test/helpers/systemd.ts, DESIGN §10): its own runtime and config dirs (a temp dir),
// its own process group, `systemctl --user` pointed at it through XDG_RUNTIME_DIR (no D-Bus), stopped
// by its pid at the end. Any other user manager on the machine is never addressed. The fleet stays in
// tmux mode: no unit is ever installed; the join asks for units that do not exist, which systemctl
// answers (ActiveState=inactive) as it would for agents that are not units.

/** Start the manager; its environment, or null (with the reason) when it cannot run here. */
function startUserManager() {
  if (!fs.existsSync(SYSTEMD) || !which('systemctl')) return { env: null, why: `no ${SYSTEMD} or systemctl` };
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gitfleet-bench-systemd-'));
  live.dirs.add(base);
  const runtime = path.join(base, 'run');
  fs.mkdirSync(runtime, { mode: 0o700 });
  fs.mkdirSync(path.join(base, 'config'));
  const env = { XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: path.join(base, 'config'), DBUS_SESSION_BUS_ADDRESS: '' };
  try {
    // What lets a user manager run as root without systemd as PID 1 (DESIGN §10).
    fs.mkdirSync('/run/systemd/system', { recursive: true });
  } catch (e) {
    return { env: null, why: `cannot create /run/systemd/system: ${e.code ?? e}` };
  }
  const child = spawn(SYSTEMD, ['--user'], { env: { ...BASE_ENV, ...env }, detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  if (!child.pid) return { env: null, why: `${SYSTEMD} --user did not start` };
  live.manager = { pid: child.pid, base };
  const sock = path.join(runtime, 'systemd', 'private');
  const end = Date.now() + 15_000;
  const answers = () =>
    spawnSync('systemctl', ['--user', 'show', '-p', 'Version'], {
      env: { ...BASE_ENV, ...env },
      stdio: 'ignore',
      timeout: 10_000,
    }).status === 0;
  while (Date.now() < end && alive(child.pid) && !(fs.existsSync(sock) && answers())) sleepSync(50);
  if (!alive(child.pid) || !answers()) {
    stopUserManager();
    return { env: null, why: 'systemd --user did not answer within 15 s' };
  }
  return { env, why: null };
}

/** Is `pid` still the manager we started (guards against pid reuse)? */
function isUserManager(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('systemd');
  } catch {
    return false;
  }
}

/** Stop the bench's manager by its pid (SIGTERM, then SIGKILL to its process group), and remove its dirs. */
function stopUserManager() {
  const m = live.manager;
  if (!m) return;
  live.manager = null;
  if (alive(m.pid) && isUserManager(m.pid)) {
    try {
      process.kill(m.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    for (let waited = 0; waited < 10_000 && alive(m.pid) && isUserManager(m.pid); waited += 50) sleepSync(50);
    if (alive(m.pid) && isUserManager(m.pid)) {
      try {
        process.kill(-m.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  removeDir(m.base);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}: cleaning up\n`);
    cleanupAll();
    process.exit(128 + (os.constants.signals[sig] ?? 0));
  });
}
process.on('exit', cleanupAll);

// ---------------------------------------------------------------- helpers
function which(name) {
  for (const dir of ORIG_PATH.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

const TOOLS = { tmux: which('tmux'), git: which('git'), tmuxp: which('tmuxp') };
/** Why the tmuxp column is empty. */
const TMUXP_SKIPPED = { why: 'tmuxp not installed: apt-get install tmuxp' };

function sh(file, args, opts = {}) {
  const r = spawnSync(file, args, { env: BASE_ENV, encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(`${path.basename(file)} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

const git = (args, opts) => sh(TOOLS.git, args, opts);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mib = (kib) => (kib == null ? null : Math.round((kib / 1024) * 10) / 10);
const progress = (s) => process.stderr.write(`bench: ${s}\n`);

// Counting processes. Each wrapper appends "<$PPID>\t<name>\t<args>" to
// $GITFLEET_BENCH_LOG (one log file per CLI run) and execs the real binary.
// Not every start of a wrapped name is gitfleet's: the pane command is
// `sh -c 'exec "$@"' ...`, which the tmux *server* starts with the session's
// PATH (gitfleet's PATH, wrappers first) and the server's environment
// (inherited from the first tmux client, i.e. gitfleet's, so it holds
// GITFLEET_BENCH_LOG too). Hiding the variable from panes is not reliable,
// so the wrapper records its parent pid instead and only lines whose parent
// is the gitfleet node process count. The CLI is started directly (no shell
// in between) so the child's pid is the gitfleet process; gitfleet's
// children are exec'd by node directly, so their $PPID is that pid, while
// pane shells have the tmux server (a daemon, never gitfleet itself) as
// parent. Grandchildren (e.g. the server a tmux client forks) are not
// gitfleet's spawns and are not counted.
function wrapperScript(name, real) {
  return [
    '#!/bin/sh',
    `# gitfleet bench: log this start of ${name} and its parent, then become the real one.`,
    'if [ -n "$GITFLEET_BENCH_LOG" ]; then',
    `  printf '%s\\t%s\\t%s\\n' "$PPID" ${shq(name)} "$*" >>"$GITFLEET_BENCH_LOG"`,
    'fi',
    `exec ${shq(real)} "$@"`,
    '',
  ].join('\n');
}

function writeWrappers(bin) {
  fs.mkdirSync(bin, { recursive: true });
  const missing = [];
  for (const name of WRAPPED) {
    const real = which(name);
    // No wrapper for a program that is not installed: gitfleet must see the
    // same "not found" it would see without the bench.
    if (!real) missing.push(name);
    else fs.writeFileSync(path.join(bin, name), wrapperScript(name, real), { mode: 0o755 });
  }
  return missing;
}

const LOG_LINE = new RegExp(`^(\\d+)\\t(${WRAPPED.join('|')})\\t(.*)$`);

function readSpawnLog(file, pid) {
  const own = [];
  let others = 0;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = LOG_LINE.exec(line);
    if (!m) continue; // blank, or the tail of an argument holding a newline
    if (Number(m[1]) === pid) own.push({ name: m[2], args: m[3] });
    else others++;
  }
  return { own, others };
}

function rosterYaml(size, socket, cwd) {
  const width = Math.max(3, String(size - 1).length);
  const lines = [
    'version: 1',
    'tmux:',
    `  socket_name: ${socket}`,
    'defaults:',
    `  working_directory: ${JSON.stringify(cwd)}`,
    'runtimes:',
    '  stub:',
    '    command: [sleep, infinity]',
    'agents:',
  ];
  for (let i = 0; i < size; i++) lines.push(`  - name: a${String(i).padStart(width, '0')}`, '    runtime: stub');
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- one fleet
function setupFleet(size) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitfleet-bench-'));
  live.dirs.add(dir);
  const socket = `gitfleet-bench-${randomBytes(6).toString('hex')}`;
  // The socket lives under our temp dir (TMUX_TMPDIR), not /tmp/tmux-UID:
  // no socket file is left behind (kill-server does not unlink it), and a
  // late tmux client cannot start a server once the dir is gone.
  const tmuxTmp = path.join(dir, 'tmux');
  fs.mkdirSync(tmuxTmp, { mode: 0o700 });
  live.sockets.set(socket, { tmuxTmp, serverPid: null });

  const bare = path.join(dir, 'fleet.git');
  const work = path.join(dir, 'work');
  git(['init', '-q', '--bare', '-b', 'main', bare]);
  git(['clone', '-q', bare, work]);
  fs.mkdirSync(path.join(work, 'rosters'));
  fs.writeFileSync(path.join(work, 'rosters', 'bench.yaml'), rosterYaml(size, socket, path.join(dir, 'panes')));
  // tmux mode: the bench must never install units into the user's systemd manager.
  fs.writeFileSync(path.join(work, 'fleet.yaml'), `fleet: ${FLEET}\nsupervisor: tmux\n`);
  git(['-C', work, 'add', '-A']);
  git([
    '-C',
    work,
    '-c',
    'user.name=gitfleet bench',
    '-c',
    'user.email=bench@localhost',
    'commit',
    '-q',
    '-m',
    `bench: ${size} agents`,
  ]);
  git(['-C', work, 'push', '-q', 'origin', 'HEAD:refs/heads/main']);

  const bin = path.join(dir, 'bin');
  const missing = writeWrappers(bin);
  fs.mkdirSync(path.join(dir, 'logs'));
  return {
    size,
    dir,
    socket,
    tmuxTmp,
    bare,
    work,
    bin,
    missing,
    state: path.join(dir, 'state'),
    logs: path.join(dir, 'logs'),
  };
}

function cleanupFleet(fleet) {
  killSocket(fleet.socket);
  removeDir(fleet.dir);
}

const headOf = (fleet) => git(['--git-dir', fleet.bare, 'rev-parse', '--verify', '-q', 'refs/heads/main']);

/** The sessions on the fleet's socket, and its server's pid (read by the bench, not counted). */
function sessionsOf(fleet) {
  const r = spawnSync(TOOLS.tmux, ['-L', fleet.socket, 'list-sessions', '-F', '#{pid} #{session_name}'], {
    env: { ...BASE_ENV, TMUX_TMPDIR: fleet.tmuxTmp },
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.status !== 0) return { serverPid: null, names: [] };
  const rows = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
  return { serverPid: rows[0] ? Number(rows[0][0]) : null, names: rows.map((x) => x[1]) };
}

/**
 * Run the CLI once under measurement. `counted`: its processes are logged by the PATH wrappers (env must put
 * them first); otherwise processes is null.
 */
async function runCli(label, cliArgs, { env, logs, script = [CLI], counted = true }) {
  const log = path.join(logs, `${label}.spawns.log`);
  const rusage = path.join(logs, `${label}.rusage.json`);
  if (counted) fs.writeFileSync(log, '');
  const childEnv = { ...env, ...(counted ? { GITFLEET_BENCH_LOG: log } : {}), GITFLEET_BENCH_RUSAGE: rusage };
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', RUSAGE, ...script, ...cliArgs], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.child = child;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const exit = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const ms = performance.now() - t0;
  clearTimeout(timer);
  if (child.stdout.readable || child.stderr.readable) await new Promise((r) => child.once('close', r));
  live.child = null;
  if (exit.signal)
    throw new Error(
      `${label}: gitfleet killed by ${exit.signal}${ms >= RUN_TIMEOUT_MS ? ' (timeout)' : ''}\n${stderr}`,
    );

  const spawns = counted ? readSpawnLog(log, child.pid) : null;
  let ru = null;
  try {
    ru = JSON.parse(fs.readFileSync(rusage, 'utf8'));
  } catch {
    /* no exit hook ran */
  }
  return {
    label,
    ms: Math.round(ms * 10) / 10,
    exitCode: exit.code,
    processes: spawns?.own.length ?? null,
    commands: spawns?.own ?? null,
    otherWrappedStarts: spawns?.others ?? null,
    spawnCalls: ru?.spawnCalls ?? null,
    spawnedSeenInProcess: ru?.spawned ?? null,
    maxRSSKiB: ru?.maxRSS ?? null,
    stdout,
    stderr,
  };
}

/** A baseline program, timed from spawn to exit; its output is kept for checks. */
async function timed(label, file, args, env) {
  const t0 = performance.now();
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.child = child;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS * 5);
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  live.child = null;
  return { label, ms: Math.round((performance.now() - t0) * 10) / 10, code, stdout, stderr };
}

/** Kill the tmux server of a socket the bench created and wait until it is gone (the socket stays registered). */
function stopServer(socket, tmuxTmp) {
  stopTmuxServer(TOOLS.tmux, socket, { ...BASE_ENV, TMUX_TMPDIR: tmuxTmp });
}

/**
 * A program that makes N sessions on a private socket of its own, run `repeats` times (the server killed after
 * each): the median of the runs that made all N. A failed run is no time to compare with: it did less (at 1000
 * sessions tmuxp can run out of processes).
 */
async function timedLoads(what, fleet, names, repeats, warn, run) {
  const socket = `gitfleet-bench-${what.replace(/\W+/g, '')}-${randomBytes(6).toString('hex')}`;
  live.sockets.set(socket, { tmuxTmp: fleet.tmuxTmp, serverPid: null });
  const runs = [];
  const failures = [];
  try {
    for (let i = 0; i < repeats; i++) {
      const r = await run(socket, i);
      const count = sessionsOf({ socket, tmuxTmp: fleet.tmuxTmp }).names.length;
      if (r.code !== 0 || count !== names.length) {
        const why = `${what} exited ${r.code} with ${count} of ${names.length} sessions`;
        warn(`${why}: ${r.stderr.trim().slice(0, 300)}`);
        failures.push(`${why} after ${r.ms.toFixed(0)} ms`);
      } else runs.push(r.ms);
      stopServer(socket, fleet.tmuxTmp);
    }
  } finally {
    killSocket(socket);
  }
  if (runs.length === 0) return { medianMs: null, runsMs: [], failed: failures };
  return { medianMs: median(runs), runsMs: runs, ...(failures.length > 0 ? { failed: failures } : {}) };
}

/** tmuxp loading N one-pane sessions like the fleet's, on a private socket of its own; null without tmuxp. */
async function tmuxpLoad(fleet, names, repeats, warn) {
  if (!TOOLS.tmuxp) return null;
  const dir = path.join(fleet.dir, 'tmuxp');
  fs.mkdirSync(dir, { recursive: true });
  const cwd = path.join(fleet.dir, 'panes');
  fs.mkdirSync(cwd, { recursive: true });
  const files = names.map((name) => {
    const f = path.join(dir, `${name}.yaml`);
    const yaml = [
      `session_name: ${name}`,
      `start_directory: ${JSON.stringify(cwd)}`,
      'windows:',
      '  - window_name: main',
      '    panes:',
      '      - sleep infinity',
      '',
    ];
    fs.writeFileSync(f, yaml.join('\n'));
    return f;
  });
  // Panes start $SHELL, then tmuxp types the command into it. /bin/sh reads no rc file, as gitfleet's panes
  // (`sh -c 'exec "$@"'`) do not: the baseline does not pay for whatever the user's ~/.bashrc loads.
  const env = { ...BASE_ENV, TMUX_TMPDIR: fleet.tmuxTmp, SHELL: '/bin/sh' };
  return timedLoads('tmuxp load', fleet, names, repeats, warn, (socket, i) =>
    timed(`tmuxp-${i}`, TOOLS.tmuxp, ['load', '-d', '-y', '-L', socket, ...files], env),
  );
}

/**
 * The floor under any cold start here: tmux alone creating the same N sessions, each with the `pipe-pane` that
 * keeps its log (as gitfleet's do), every command in one tmux process (`start-server ; source-file`), no config
 * file, each pane's program exec'd by the server itself (`sleep infinity` as arguments: no shell in between).
 * No tool that starts N tmux sessions with logs can take less on this machine, so tmuxp's time over this one is
 * the most a cold start could be faster than tmuxp here. `logs: false`: the sessions alone, no pipe-pane (what no
 * tool driving tmux can go below at all).
 */
async function tmuxAlone(fleet, names, repeats, warn, { logs }) {
  const what = logs ? 'tmux alone' : 'tmux sessions only';
  const dir = path.join(fleet.dir, what.replaceAll(' ', '-'));
  fs.mkdirSync(dir, { recursive: true });
  const cwd = path.join(fleet.dir, 'panes');
  fs.mkdirSync(cwd, { recursive: true });
  const file = path.join(dir, 'commands.tmux');
  fs.writeFileSync(file, floorCommands(names, cwd, logs ? dir : null));
  const env = { ...BASE_ENV, TMUX_TMPDIR: fleet.tmuxTmp };
  return timedLoads(what, fleet, names, repeats, warn, (socket, i) =>
    timed(
      `${what.replaceAll(' ', '-')}-${i}`,
      TOOLS.tmux,
      ['-f', '/dev/null', '-L', socket, 'start-server', ';', 'source-file', file],
      env,
    ),
  );
}

function byName(commands) {
  const out = {};
  for (const c of commands) out[c.name] = (out[c.name] ?? 0) + 1;
  return out;
}

const brief = (c) => `${c.name} ${c.args}`.replace(/[\x00-\x1f]/g, '·').slice(0, 120);

async function benchSize(size, warnings) {
  const warn = (s) => {
    warnings.push(`size ${size}: ${s}`);
    progress(`WARNING: size ${size}: ${s}`);
  };
  const fleet = setupFleet(size);
  const repeats = repeatsFor(size);
  try {
    if (fleet.missing.length) progress(`size ${size}: not installed, not wrapped: ${fleet.missing.join(', ')}`);
    // Two environments. Counted runs put the PATH wrappers first and log every process gitfleet starts; timed runs
    // do not: a wrapper is one more exec per start, and at a cold start per pane too (each pane's `sh` is found
    // through the pinned PATH), which the baselines do not pay. Every time reported comes from timed runs; every
    // process count from counted ones. The state dir pins PATH and the tmux program at an apply (src/pinned.ts), so
    // an apply in the other environment than the last one's passes --repin, and ps runs after an apply in its own.
    const envs = {
      counted: { ...BASE_ENV, PATH: `${fleet.bin}:${ORIG_PATH}`, TMUX_TMPDIR: fleet.tmuxTmp },
      timed: { ...BASE_ENV, PATH: ORIG_PATH, TMUX_TMPDIR: fleet.tmuxTmp },
    };
    let pinned = null;
    const args = ['apply', '--repo', fleet.bare, '--state-dir', fleet.state, '--host', HOST];
    const psArgs = ['ps', '--json', '--repo', fleet.bare, '--state-dir', fleet.state, '--host', HOST];
    const cli = async (label, kind, command) => {
      const apply = command === 'apply';
      if (!apply && pinned !== kind) throw new Error(`bench: a ${kind} ps run after an apply pinned ${pinned}`);
      const cliArgs = apply && pinned !== kind ? [...args, '--repin'] : apply ? args : psArgs;
      const r = await runCli(label, cliArgs, { env: envs[kind], logs: fleet.logs, counted: kind === 'counted' });
      if (apply) pinned = kind;
      if (apply && (r.exitCode === 1 || r.exitCode === 64 || r.exitCode === null)) {
        throw new Error(`size ${size} ${label}: gitfleet apply exited ${r.exitCode}:\n${r.stderr || r.stdout}`);
      }
      if (apply && r.exitCode !== 0) warn(`${label} apply exited ${r.exitCode} (3 = not converged)`);
      if (!apply && r.exitCode !== 0) warn(`${label} exited ${r.exitCode}: ${r.stderr}`);
      if (r.processes !== null && r.spawnCalls !== null && r.spawnCalls !== r.processes) {
        warn(
          `${label}: wrappers saw ${r.processes} processes, node saw ${r.spawnCalls} spawn calls: ` +
            JSON.stringify(r.spawnedSeenInProcess),
        );
      }
      return r;
    };

    // Cold: the first one (counted) commits status; before each other one the server goes, as after a reboot.
    const base = headOf(fleet);
    const colds = [];
    let sessions = null;
    for (let i = 0; i <= repeats; i++) {
      if (i > 0) stopServer(fleet.socket, fleet.tmuxTmp);
      colds.push(await cli(i === 0 ? 'cold' : `cold-${i}`, i === 0 ? 'counted' : 'timed', 'apply'));
      sessions = sessionsOf(fleet);
      live.sockets.get(fleet.socket).serverPid = sessions.serverPid;
      const agents = sessions.names.filter((n) => /^a\d+$/.test(n)).length;
      if (agents !== size) warn(`after cold apply ${i + 1} ${agents} agent sessions run, expected ${size}`);
    }
    const [cold, ...coldTimed] = colds;
    const coldHead = headOf(fleet);
    if (coldHead === base) warn('cold apply made no status commit');
    const coldMs = median(coldTimed.map((r) => r.ms));
    progress(
      `size ${size}: cold apply median ${coldMs.toFixed(0)} ms (${coldTimed.map((r) => r.ms.toFixed(0)).join(', ')}; ` +
        `counted run ${cold.ms.toFixed(0)} ms), ${cold.processes} processes, ${sessions.names.length} sessions`,
    );

    // The first no-op checks convergence and "no commit"; two counted, then the timed repeats. Between them, the
    // counted ps runs (the pins are the counted environment's then).
    const noops = [];
    let head = coldHead;
    const noop = async (label, kind) => {
      const r = await cli(label, kind, 'apply');
      const now = headOf(fleet);
      r.commit = now !== head;
      if (r.commit) {
        warn(
          `no-op apply ${r.label} moved main ${head.slice(0, 12)} -> ${now.slice(0, 12)}: ` +
            'a converged fleet must add no commit',
        );
        head = now;
      }
      noops.push(r);
    };
    await noop('noop', 'counted');
    await noop('noop-counted', 'counted');
    // The fleet table: read-only, a constant number of processes.
    const psCounted = await cli('ps', 'counted', 'ps');
    for (let i = 1; i <= NOOP_REPEATS; i++) await noop(`noop-${i}`, 'timed');
    const psRuns = [];
    for (let i = 1; i <= repeats; i++) psRuns.push(await cli(`ps-${i}`, 'timed', 'ps'));

    const counted = noops.filter((r) => r.processes !== null);
    const noopRepeats = noops.filter((r) => r.processes === null);
    const first = noops[0];
    const procs = counted.map((r) => r.processes);
    if (new Set(procs).size > 1) warn(`no-op process counts vary between runs: ${procs.join(', ')}`);
    const medianMs = median(noopRepeats.map((r) => r.ms));
    const each = noopRepeats.map((r) => r.ms.toFixed(0)).join(', ');
    progress(`size ${size}: no-op apply median ${medianMs.toFixed(0)} ms (${each}), ${first.processes} processes`);
    const psMs = median(psRuns.map((r) => r.ms));
    progress(`size ${size}: ps median ${psMs.toFixed(0)} ms, ${psCounted.processes} processes`);

    // Baseline 1: the field's per-agent join over the same converged sessions (without the bench's wrappers).
    const agentNames = sessions.names.filter((n) => /^a\d+$/.test(n)).sort();
    const joinEnv = { ...BASE_ENV, TMUX_TMPDIR: fleet.tmuxTmp };
    // With the bench's user manager, the same join without it too (an empty runtime dir: no manager answers, the
    // step is skipped), alternately, so the table's note can say what the systemctl step costs under the same load.
    const noManagerEnv = live.manager ? { ...joinEnv, XDG_RUNTIME_DIR: path.join(fleet.dir, 'no-user-manager') } : null;
    if (noManagerEnv) fs.mkdirSync(noManagerEnv.XDG_RUNTIME_DIR, { mode: 0o700 });
    const joins = [];
    const joinsWithout = [];
    const join = async (label, env) => {
      const r = await timed(label, '/bin/sh', [JOIN, fleet.socket, fleet.state, FLEET, ...agentNames], env);
      const up = r.stdout.split('\n').filter((l) => / yes \d+ /.test(l)).length;
      if (r.code !== 0 || up !== size) warn(`baseline join exited ${r.code}, saw ${up} of ${size} agents up`);
      return r;
    };
    for (let i = 0; i < repeats; i++) {
      joins.push(await join(`join-${i}`, joinEnv));
      if (noManagerEnv) joinsWithout.push(await join(`join-nosystemctl-${i}`, noManagerEnv));
    }
    const joinMs = median(joins.map((r) => r.ms));
    const joinNote = joins[0].stderr.trim() || null;
    if (live.manager && joinNote) warn(`the join did not reach the bench's user manager: ${joinNote}`);
    const joinWithoutMs = joinsWithout.length ? median(joinsWithout.map((r) => r.ms)) : null;
    progress(
      `size ${size}: baseline join median ${joinMs.toFixed(0)} ms${joinNote ? ` (${joinNote})` : ''}` +
        (joinWithoutMs === null ? '' : `; without its systemctl step ${joinWithoutMs.toFixed(0)} ms`),
    );

    // Baseline 2: tmuxp loading N one-pane sessions, against the cold apply.
    // tmuxp takes minutes per run at 200 sessions on a 2-core machine: one run from there on.
    const tmuxp = await tmuxpLoad(fleet, agentNames, size >= 200 ? 1 : repeats, warn);
    if (tmuxp?.medianMs != null) progress(`size ${size}: tmuxp load median ${tmuxp.medianMs.toFixed(0)} ms`);
    // And the floor under both: tmux alone making the same sessions.
    const alone = await tmuxAlone(fleet, agentNames, repeats, warn, { logs: true });
    if (alone.medianMs != null) progress(`size ${size}: tmux alone median ${alone.medianMs.toFixed(0)} ms`);
    const bare = await tmuxAlone(fleet, agentNames, repeats, warn, { logs: false });
    if (bare.medianMs != null) progress(`size ${size}: tmux sessions only median ${bare.medianMs.toFixed(0)} ms`);

    const noopProcesses = Math.max(...procs);
    const verdict = judge(noopProcesses, medianMs);
    return {
      size,
      socket: fleet.socket,
      cold: {
        countedMs: cold.ms,
        medianMs: coldMs,
        runsMs: coldTimed.map((r) => r.ms),
        exitCode: cold.exitCode,
        processes: cold.processes,
        processesByName: byName(cold.commands),
        // pane shells (and the like) started by the tmux server: excluded
        excludedStarts: cold.otherWrappedStarts,
        peakRssMiB: mib(Math.max(...colds.map((r) => r.maxRSSKiB ?? 0)) || null),
        sessions: sessions.names.length,
        commit: coldHead !== base,
      },
      noop: {
        countedMs: counted.map((r) => r.ms),
        exitCode: first.exitCode,
        repeatsMs: noopRepeats.map((r) => r.ms),
        medianMs,
        processes: noopProcesses,
        commands: first.commands.map(brief),
        peakRssMiB: mib(Math.max(...noops.map((r) => r.maxRSSKiB ?? 0)) || null),
        commits: noops.filter((r) => r.commit).length,
      },
      ps: {
        countedMs: psCounted.ms,
        medianMs: psMs,
        runsMs: psRuns.map((r) => r.ms),
        processes: psCounted.processes,
        commands: psCounted.commands.map(brief),
        peakRssMiB: mib(Math.max(...[psCounted, ...psRuns].map((r) => r.maxRSSKiB ?? 0)) || null),
      },
      baseline: {
        join: {
          medianMs: joinMs,
          runsMs: joins.map((r) => r.ms),
          processesPerAgent: joinNote ? 3 : 4,
          note: joinNote,
          // The same script with no user manager to answer (systemctl step skipped), run alternately with it.
          withoutSystemctl:
            joinWithoutMs === null ? null : { medianMs: joinWithoutMs, runsMs: joinsWithout.map((r) => r.ms) },
        },
        tmuxp: tmuxp ?? { skipped: TMUXP_SKIPPED.why },
        tmuxAlone: alone,
        tmuxSessionsOnly: bare,
      },
      // gitfleet's time over the baseline's: below 1, gitfleet is faster (1 / ratio times).
      ratio: {
        noopOverJoin: ratio(medianMs, joinMs),
        psOverJoin: ratio(psMs, joinMs),
        coldOverTmuxp: tmuxp?.medianMs != null ? ratio(coldMs, tmuxp.medianMs) : null,
        coldOverTmuxAlone: alone.medianMs != null ? ratio(coldMs, alone.medianMs) : null,
        tmuxAloneOverTmuxp:
          alone.medianMs != null && tmuxp?.medianMs != null ? ratio(alone.medianMs, tmuxp.medianMs) : null,
        tmuxSessionsOnlyOverTmuxp:
          bare.medianMs != null && tmuxp?.medianMs != null ? ratio(bare.medianMs, tmuxp.medianMs) : null,
      },
      verdict,
    };
  } finally {
    cleanupFleet(fleet);
  }
}

function judge(processes, ms) {
  const procOk = processes <= TARGET.maxProcesses;
  const status = !procOk || ms >= TARGET.budgetMs ? 'FAIL' : ms >= TARGET.wellUnderMs ? 'MARGINAL' : 'PASS';
  return { status, processesOk: procOk, msOk: ms < TARGET.wellUnderMs };
}

/**
 * What one process start costs on this machine: a shell starting /bin/true 200 times, per start (fork, exec,
 * exit, wait). Every pane costs several (its program, tmux's utmp helper, its pipe-pane's sh and cat), so
 * this figure sets the floor of a cold start.
 */
function processStartMs() {
  const t0 = performance.now();
  spawnSync('/bin/sh', ['-c', 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i + 1)); done'], { stdio: 'ignore' });
  return Math.round(((performance.now() - t0) / 200) * 100) / 100;
}

/** Fixed cost: node start plus loading gitfleet's modules (`gitfleet --version`). */
async function baseline() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitfleet-bench-'));
  live.dirs.add(dir);
  try {
    const runs = [];
    const nodes = [];
    // Alternately, so both see the same machine load; both with the same preload.
    for (let i = 0; i < 5; i++) {
      runs.push(await runCli(`version-${i}`, ['--version'], { env: BASE_ENV, logs: dir, counted: false }));
      nodes.push(await runCli(`node-${i}`, [], { env: BASE_ENV, logs: dir, script: ['-e', '0'], counted: false }));
    }
    const medianMs = median(runs.map((r) => r.ms));
    const nodeMs = median(nodes.map((r) => r.ms));
    return {
      command: 'gitfleet --version',
      medianMs,
      peakRssMiB: mib(median(runs.map((r) => r.maxRSSKiB ?? 0))),
      node: { command: 'node -e 0', medianMs: nodeMs, peakRssMiB: mib(median(nodes.map((r) => r.maxRSSKiB ?? 0))) },
      ratioOverNode: Math.round((medianMs / nodeMs) * 100) / 100,
    };
  } finally {
    removeDir(dir);
  }
}

// ---------------------------------------------------------------- report
const fmtMs = (ms) => (ms == null ? '-' : ms.toFixed(0));
const ratio = (a, b) => (b ? Math.round((a / b) * 1000) / 1000 : null);
/** gitfleet over baseline, and how many times faster that is. */
const fmtRatio = (r) => (r == null ? '-' : `${r.toFixed(3)} (${(1 / r).toFixed(1)}x)`);

function table(results) {
  const head = [
    'size',
    'no-op ms',
    'join ms',
    'no-op/join',
    'cold ms',
    'tmuxp ms',
    'cold/tmuxp',
    'ps ms',
    'ps/join',
    'processes no-op / cold / ps',
    'peak RSS MiB no-op / cold / ps',
  ];
  const rows = results.map((r) => [
    String(r.size),
    fmtMs(r.noop.medianMs),
    fmtMs(r.baseline.join.medianMs),
    fmtRatio(r.ratio.noopOverJoin),
    fmtMs(r.cold.medianMs),
    fmtMs(r.baseline.tmuxp.medianMs),
    fmtRatio(r.ratio.coldOverTmuxp),
    fmtMs(r.ps.medianMs),
    fmtRatio(r.ratio.psOverJoin),
    `${r.noop.processes} / ${r.cold.processes} / ${r.ps.processes}`,
    [r.noop, r.cold, r.ps].map((x) => x.peakRssMiB?.toFixed(1) ?? '?').join(' / '),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  return [
    line(head),
    `|${w.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

function verdictLine(r) {
  const v = r.verdict;
  const plural = r.noop.processes === 1 ? '' : 'es';
  const msVerdict = v.msOk ? 'ok' : r.noop.medianMs < TARGET.budgetMs ? 'marginal' : 'over';
  return (
    `${v.status.padEnd(8)} size ${r.size}: no-op apply spawns ${r.noop.processes} process${plural} ` +
    `(target <= ${TARGET.maxProcesses}: ${v.processesOk ? 'ok' : 'over'}), median ${r.noop.medianMs.toFixed(0)} ms ` +
    `(target well under ${TARGET.budgetMs} ms, i.e. < ${TARGET.wellUnderMs}: ${msVerdict})` +
    `${r.noop.commits ? `; ${r.noop.commits} no-op run(s) committed` : ''}`
  );
}

function usage() {
  return (
    `usage: node bench/bench.mjs [--json] [--no-systemd] [--no-tmuxp] [SIZE...]   (default sizes: ${DEFAULT_SIZES.join(' ')})\n` +
    '  --no-systemd: start no private systemd --user; the join then skips its systemctl step (cheaper)\n' +
    '  --no-tmuxp: skip the tmuxp baseline (minutes per run from 200 sessions on)'
  );
}

async function main() {
  let json = false;
  let withSystemd = true;
  const sizes = [];
  for (const a of process.argv.slice(2)) {
    if (a === '--json') json = true;
    else if (a === '--no-systemd') withSystemd = false;
    else if (a === '--no-tmuxp') {
      TOOLS.tmuxp = null;
      TMUXP_SKIPPED.why = 'skipped (--no-tmuxp)';
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(`${usage()}\n`);
      return 0;
    } else if (/^[1-9]\d*$/.test(a)) sizes.push(Number(a));
    else {
      process.stderr.write(`bench: bad argument ${JSON.stringify(a)}\n${usage()}\n`);
      return 64;
    }
  }
  if (sizes.length === 0) sizes.push(...DEFAULT_SIZES);
  if (!TOOLS.tmux || !TOOLS.git) throw new Error(`need tmux and git on PATH (tmux: ${TOOLS.tmux}, git: ${TOOLS.git})`);
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build (npm run bench does)`);

  const machine = {
    node: process.version,
    cpus: os.cpus().length,
    tmux: sh(TOOLS.tmux, ['-V']),
    git: sh(TOOLS.git, ['--version']),
    processStartMs: processStartMs(),
  };
  if (!TOOLS.tmuxp) progress(`${TMUXP_SKIPPED.why}: the tmuxp column is skipped`);
  // The join's systemctl step, and gitfleet, talk to the bench's own user manager (same environment).
  const manager = withSystemd ? startUserManager() : { env: null, why: '--no-systemd' };
  if (manager.env) Object.assign(BASE_ENV, manager.env);
  machine.userManager = manager.env
    ? `private systemd --user (pid ${live.manager.pid}, XDG_RUNTIME_DIR=${manager.env.XDG_RUNTIME_DIR})`
    : `none: ${manager.why}`;
  progress(`user manager: ${machine.userManager}`);
  const warnings = [];
  const base = await baseline();
  const results = [];
  for (const size of sizes) results.push(await benchSize(size, warnings));
  const failed = results.some((r) => r.verdict.status === 'FAIL');

  if (json) {
    process.stdout.write(
      `${JSON.stringify({ machine, target: TARGET, baseline: base, results, warnings }, null, 2)}\n`,
    );
  } else {
    const out = [];
    out.push(
      'gitfleet apply, fleets of N `sleep infinity` agents on a private tmux socket ' +
        `(${machine.cpus} CPUs, node ${machine.node}, ${machine.tmux}, ${machine.git})`,
    );
    out.push(`process start (fork + exec of /bin/true from sh): ${machine.processStartMs} ms`);
    out.push(
      `fixed cost: ${base.command} takes ${base.medianMs.toFixed(0)} ms, ${base.peakRssMiB} MiB ` +
        `(node start + module load); ${base.node.command} ${base.node.medianMs.toFixed(0)} ms, ` +
        `${base.node.peakRssMiB} MiB: ${base.ratioOverNode}x node's start`,
    );
    out.push('');
    out.push(table(results));
    out.push('');
    out.push(
      'medians of timed runs: no-op of 5, cold (server killed before each), ps and baselines of ' +
        `${[...new Set(results.map((r) => repeatsFor(r.size)))].join(' or ')} run(s); ` +
        'processes from other runs, counted by PATH wrappers (untimed: a wrapper is one more exec); ' +
        'ratio = gitfleet / baseline (below 1: gitfleet faster, (Nx) times)',
    );
    const note = results.find((r) => r.baseline.join.note)?.baseline.join.note;
    if (note) out.push(`join baseline: ${note} (user manager: ${machine.userManager})`);
    else out.push(`join baseline: systemctl --user show per agent answered by the ${machine.userManager}`);
    for (const r of results) {
      const w = r.baseline.join.withoutSystemctl;
      if (w)
        out.push(
          `  size ${r.size}: join ${fmtMs(r.baseline.join.medianMs)} ms with its systemctl step, ` +
            `${fmtMs(w.medianMs)} ms without (run alternately; no-op/join without: ${fmtRatio(ratio(r.noop.medianMs, w.medianMs))})`,
        );
    }
    if (!TOOLS.tmuxp) out.push(`tmuxp: ${TMUXP_SKIPPED.why} (column skipped)`);
    out.push(
      'tmux alone: the same sessions, each with its pipe-pane, in one tmux process, no shell ' +
        '(the floor of a cold start)',
    );
    for (const r of results) {
      const a = r.baseline.tmuxAlone;
      if (a.medianMs == null) continue;
      const vsTmuxp =
        r.ratio.tmuxAloneOverTmuxp == null
          ? ''
          : `; tmux alone/tmuxp ${fmtRatio(r.ratio.tmuxAloneOverTmuxp)}: the most a cold start can gain over tmuxp here`;
      out.push(
        `  size ${r.size}: ${fmtMs(a.medianMs)} ms; cold/tmux alone ${fmtRatio(r.ratio.coldOverTmuxAlone)}${vsTmuxp}`,
      );
    }
    out.push('tmux sessions only: the same, without pipe-pane (no tool driving tmux goes below it)');
    for (const r of results) {
      const b = r.baseline.tmuxSessionsOnly;
      if (b.medianMs == null) continue;
      const vsTmuxp =
        r.ratio.tmuxSessionsOnlyOverTmuxp == null ? '' : `; over tmuxp ${fmtRatio(r.ratio.tmuxSessionsOnlyOverTmuxp)}`;
      out.push(`  size ${r.size}: ${fmtMs(b.medianMs)} ms${vsTmuxp}`);
    }
    out.push('');
    for (const r of results) out.push(verdictLine(r));
    for (const r of results)
      out.push(`  size ${r.size} no-op spawned: ${r.noop.commands.length ? r.noop.commands.join(' | ') : '(nothing)'}`);
    for (const w of warnings) out.push(`WARNING: ${w}`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return failed ? 1 : 0;
}

let code;
try {
  code = await main();
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  code = 1;
} finally {
  cleanupAll();
}
process.exitCode = code;
