#!/usr/bin/env node
// Where a no-op `gitfleet apply` spends its time (issue #11, docs/performance.md).
//
//   npm run build && node bench/profile.mjs [SIZE] [RUNS]     (default 200 agents, 3 runs)
//   node bench/profile.mjs SIZE RUNS --ab OTHER/dist/cli.js     A/B: no profiles, RUNS runs of each CLI, alternately
//   node bench/profile.mjs SIZE RUNS --callers decode,inflate   also: whose code those functions' time is spent for
//   node bench/profile.mjs SIZE RUNS --panes                    a cold start's tmux batch, and variants of it, timed
//
// Sets up one fleet like bench/bench.mjs does (a bare repo holding a roster of SIZE `sleep infinity` agents on a
// private tmux socket under a temp dir), converges it with one apply, then runs RUNS no-op applies of dist/cli.js
// under `node --cpu-prof`. Prints each run's wall time and the profiles' self time summed per source file (mapped
// from the bundle back to src/ and node_modules/ through dist/*.map) and per function, averaged over the runs.
// The .cpuprofile files stay in the printed directory (open them in Chrome's DevTools, Performance tab) when
// --keep is given; everything else is removed at the end. It never runs tmux without `-L <its own socket>`.
// With --ab, both CLIs (e.g. a build of main's tree, then this one) run no-op applies on the same fleet in turn
// (each with a state dir of its own, so each build's memos hold), under /usr/bin/time: medians of wall time, CPU time (user + sys: less disturbed by other load on a shared
// machine than wall time) and peak RSS.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { floorCommands, stopTmuxServer } from './tmux-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const panes = args.includes('--panes');
const other = args.includes('--ab') ? path.resolve(args[args.indexOf('--ab') + 1] ?? '') : null;
const [size = 200, runs = 3] = args.filter((a) => /^\d+$/.test(a)).map(Number);
// --callers NAME[,NAME...]: whose code the self time of those functions (e.g. decode, openFileHandle) is spent for.
const callers = args.includes('--callers') ? (args[args.indexOf('--callers') + 1] ?? '').split(',') : [];
const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
for (const k of Object.keys(ENV)) if (k === 'TMUX' || k === 'TMUX_PANE' || k.startsWith('GITFLEET_')) delete ENV[k];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitfleet-profile-'));
const socket = `gitfleet-profile-${randomBytes(6).toString('hex')}`;
const tmuxTmp = path.join(dir, 'tmux');
ENV.TMUX_TMPDIR = tmuxTmp;
const run = (file, argv, opts = {}) => {
  const r = spawnSync(file, argv, { env: ENV, encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${file} ${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
};
const cleanup = () => {
  spawnSync('tmux', ['-L', socket, 'kill-server'], { env: ENV, stdio: 'ignore' });
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// ------------------------------------------------------------- the fleet (as bench/bench.mjs#setupFleet)
fs.mkdirSync(tmuxTmp, { mode: 0o700 });
const bare = path.join(dir, 'fleet.git');
const work = path.join(dir, 'work');
run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
run('git', ['clone', '-q', bare, work]);
fs.mkdirSync(path.join(work, 'rosters'));
const width = Math.max(3, String(size - 1).length);
const roster = ['version: 1', 'tmux:', `  socket_name: ${socket}`, 'defaults:'];
roster.push(`  working_directory: ${JSON.stringify(path.join(dir, 'panes'))}`);
roster.push('runtimes:', '  stub:', '    command: [sleep, infinity]', 'agents:');
for (let i = 0; i < size; i++) roster.push(`  - name: a${String(i).padStart(width, '0')}`, '    runtime: stub');
fs.writeFileSync(path.join(work, 'rosters', 'bench.yaml'), `${roster.join('\n')}\n`);
fs.writeFileSync(path.join(work, 'fleet.yaml'), 'fleet: bench\nsupervisor: tmux\n');
run('git', ['-C', work, 'add', '-A']);
run('git', ['-C', work, '-c', 'user.name=p', '-c', 'user.email=p@localhost', 'commit', '-q', '-m', 'profile']);
run('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:refs/heads/main']);
const apply = ['apply', '--repo', bare, '--state-dir', path.join(dir, 'state'), '--host', 'bench'];
// --panes: a `tmux` first on PATH keeps the command file gitfleet's cold start feeds tmux (pinned for this state dir
// only, so it is never on the profiled no-op runs' path: --panes ends before them).
const batchFile = path.join(dir, 'batch.tmux');
const shim = path.join(dir, 'shim');
if (panes) {
  const real = spawnSync('sh', ['-c', 'command -v tmux'], { env: ENV, encoding: 'utf8' }).stdout.trim();
  fs.mkdirSync(shim);
  const copy = `case "$*" in *source-file*) tee ${JSON.stringify(batchFile)} | "${real}" "$@"; exit;; esac`;
  fs.writeFileSync(path.join(shim, 'tmux'), `#!/bin/sh\n${copy}\nexec "${real}" "$@"\n`, { mode: 0o755 });
}
const convergeEnv = panes ? { ...ENV, PATH: `${shim}:${ENV.PATH}` } : ENV;
const converge = spawnSync(process.execPath, [CLI, ...apply], { env: convergeEnv, encoding: 'utf8' });
if (converge.status !== 0) throw new Error(`cold apply exited ${converge.status}: ${converge.stderr}`);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// ------------------------------------------------------------- --panes: what a cold start's tmux batch costs
// gitfleet's own batch, captured from the cold apply above by a `tmux` first on its PATH that copies the command
// file it reads on stdin, then run again by tmux alone, alternately with variants of it, the server killed (and
// gone) after each: the batch without its pipe-panes, and the floors bench/bench.mjs measures (each pane's program
// exec'd by the server, with and without a pipe-pane). Medians of RUNS rounds.
if (panes) {
  const tmuxIn = (argv, opts = {}) =>
    spawnSync('tmux', ['-L', socket, ...argv], { env: ENV, encoding: 'utf8', ...opts });
  const stop = () => stopTmuxServer('tmux', socket, ENV);
  const captured = fs.readFileSync(batchFile, 'utf8');
  stop();
  const names = Array.from({ length: size }, (_, i) => `a${String(i).padStart(width, '0')}`);
  const cwd = path.join(dir, 'panes');
  const floor = (logs) => floorCommands(names, cwd, logs ? path.join(dir, 'floor-logs') : null);
  fs.mkdirSync(path.join(dir, 'floor-logs'));
  const variants = [
    ["gitfleet's batch", captured],
    [
      "gitfleet's batch without pipe-pane",
      captured.replace(/ ; pipe-pane "[^"]*" "[^"]*" "[^"]*" "(?:[^"\\]|\\.)*"/g, ''),
    ],
    ['tmux alone: the program exec by the server, pipe-pane', floor(true)],
    ['tmux sessions only: the program exec by the server', floor(false)],
  ];
  if (variants[1][1] === captured) throw new Error('no pipe-pane found in the captured batch');
  const times = variants.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, [, text]] of variants.entries()) {
      const t0 = performance.now();
      const r = tmuxIn(['-u', '-f', '/dev/null', 'start-server', ';', 'source-file', '-'], { input: text });
      times[i].push(performance.now() - t0);
      const made = tmuxIn(['list-sessions', '-F', '#{session_name}'])
        .stdout.split('\n')
        .filter((s) => /^a\d+$/.test(s));
      if (r.status !== 0 || made.length !== size)
        throw new Error(`${variants[i][0]}: exit ${r.status}, ${made.length} of ${size} sessions: ${r.stderr}`);
      stop();
    }
  }
  process.stdout.write(`${size} sessions in one tmux process, medians of ${runs} alternating rounds:\n`);
  for (const [i, [what]] of variants.entries()) {
    const m = median(times[i]);
    process.stdout.write(`${m.toFixed(0).padStart(8)} ms ${(m / size).toFixed(1).padStart(6)} ms/session  ${what}\n`);
  }
  process.exit(0);
}

// ------------------------------------------------------------- A/B
if (other) {
  const cpu = new Map([
    [other, []],
    [CLI, []],
  ]);
  // Each CLI keeps a state dir of its own (a copy of the converged one): what a state dir remembers across runs
  // (parse-memo.json, status-md-memo.json) holds for one build only, so one shared dir would have every run find
  // the other build's memo and parse everything again. One run each, not counted, fills its own.
  const argsOf = new Map();
  for (const [i, cli] of [...cpu.keys()].entries()) {
    const state = path.join(dir, `state-${i}`);
    fs.cpSync(path.join(dir, 'state'), state, { recursive: true });
    argsOf.set(
      cli,
      apply.map((a) => (a === path.join(dir, 'state') ? state : a)),
    );
    run(process.execPath, [cli, ...argsOf.get(cli)]);
  }
  for (let i = 0; i < runs; i++) {
    for (const cli of cpu.keys()) {
      const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, cli, ...argsOf.get(cli)], {
        env: ENV,
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`${cli}: exit ${r.status}: ${r.stderr}`);
      const [wall, user, sys, rss] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
      cpu.get(cli).push({ wall: wall * 1000, cpu: (user + sys) * 1000, rss: rss / 1024 });
    }
  }
  for (const [cli, xs] of cpu) {
    const m = (k) => median(xs.map((x) => x[k])).toFixed(0);
    process.stdout.write(
      `${path.relative(process.cwd(), cli)}: no-op apply, ${size} agents, median of ${runs}: ` +
        `wall ${m('wall')} ms, cpu ${m('cpu')} ms, peak RSS ${m('rss')} MiB\n`,
    );
  }
  process.exit(0);
}

// ------------------------------------------------------------- profiled no-op applies
const profDir = path.join(dir, 'profiles');
const walls = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  run(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '200', CLI, ...apply]);
  walls.push(performance.now() - t0);
}

// ------------------------------------------------------------- summary
const maps = new Map();
function mapOf(url) {
  if (!maps.has(url)) {
    let map = null;
    try {
      const file = fileURLToPath(url);
      if (file.startsWith(path.join(ROOT, 'dist'))) map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`)));
    } catch {
      /* not a file of ours */
    }
    maps.set(url, map);
  }
  return maps.get(url);
}
/** node_modules/<pkg>/... (wherever node_modules is linked from) or a path from the package root. */
const shown = (file) => file.replace(/^.*\/node_modules\//, 'node_modules/').replace(`${ROOT}/`, '');
/** Where a profile node's function is: src/... or node_modules/<pkg>/... and line, node:..., or a V8 pseudo-node. */
function where(cf) {
  if (!cf.url) return { file: cf.functionName.startsWith('(') ? cf.functionName : '(native)', line: 0 };
  const map = mapOf(cf.url);
  if (map) {
    const e = map.findEntry(cf.lineNumber, cf.columnNumber);
    if (e?.originalSource)
      return { file: shown(fileURLToPath(new URL(e.originalSource, cf.url))), line: e.originalLine + 1 };
  }
  return { file: cf.url.startsWith('node:') ? cf.url : shown(fileURLToPath(cf.url)), line: cf.lineNumber + 1 };
}
/** The part a file belongs to: a dependency, a folder of src/, node's own code, or V8 (GC, idle, ...). */
function part(file) {
  const dep = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (dep) return dep[1];
  if (file.startsWith('src/')) return path.dirname(file);
  if (file.startsWith('node:')) return file.startsWith('node:internal/modules') ? 'node: module loader' : 'node: other';
  return file;
}
const byFile = new Map();
const byFn = new Map();
const byPart = new Map();
const inclusive = new Map();
const byCaller = new Map();
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
let total = 0;
const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
for (const f of files) {
  const prof = JSON.parse(fs.readFileSync(path.join(profDir, f), 'utf8'));
  const self = new Map();
  const dts = prof.timeDeltas;
  // Each sample's time is the delta to the next one.
  for (let i = 0; i < prof.samples.length; i++) add(self, prof.samples[i], (dts[i + 1] ?? 0) / 1000);
  const nodes = new Map(prof.nodes.map((node) => [node.id, node]));
  // Inclusive time of src/ functions: a function's own time plus its callees', counted once per stack.
  const visit = (node, open, caller = null) => {
    const { file, line } = where(node.callFrame);
    const key = `${node.callFrame.functionName || '(anonymous)'} ${file}:${line}`;
    const ms = self.get(node.id) ?? 0;
    if (callers.includes(node.callFrame.functionName)) add(byCaller, `${node.callFrame.functionName} <- ${caller}`, ms);
    // The innermost frame of src/ or a dependency: who the time below it is spent for.
    const ours = file.startsWith('src/') || file.startsWith('node_modules/');
    total += ms;
    add(byFile, file, ms);
    add(byPart, part(file), ms);
    add(byFn, key, ms);
    const own = file.startsWith('src/') && !open.has(key);
    if (own) open.add(key);
    let sum = ms;
    for (const c of node.children ?? []) sum += visit(nodes.get(c), open, ours ? key : caller);
    if (own) {
      open.delete(key);
      add(inclusive, key, sum);
    }
    return sum;
  };
  visit(prof.nodes[0], new Set());
}
const n = files.length;
const top = (m, k) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, ms]) => `${(ms / n).toFixed(1).padStart(8)} ms  ${name}`)
    .join('\n');
process.stdout.write(
  `no-op apply, ${size} agents: wall ${walls.map((w) => w.toFixed(0)).join(', ')} ms (median ${median(walls).toFixed(0)})` +
    ` under --cpu-prof; profiled ${(total / n).toFixed(0)} ms per run\n\n` +
    `self time per part (mean of ${n} runs):\n${top(byPart, 20)}\n\n` +
    `self time per source file:\n${top(byFile, 20)}\n\n` +
    `self time per function:\n${top(byFn, 20)}\n\n` +
    `time in src/ functions with their callees:\n${top(inclusive, 30)}\n` +
    (callers.length
      ? `\nself time of ${callers.join(', ')} by the innermost caller in src/ or a dependency:\n` +
        `${top(byCaller, 25)}\n`
      : '') +
    (keep ? `\nprofiles: ${profDir}\n` : ''),
);
