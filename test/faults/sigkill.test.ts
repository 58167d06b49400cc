// Fault suite, part 2: SIGKILL at random points of cold and warm applies (issue #8).
//
// 25 pairs of rounds, each pair on a fresh fleet: cold (no sessions yet) then
// warm (a roster change that restarts two agents, prunes one and adds one).
// Each round starts the real CLI (`node dist/cli.js apply`), kills it with
// SIGKILL after a seeded delay drawn across one measured apply's duration,
// then runs apply again. The second apply must converge (exit 0), the
// sessions must be exactly the roster's (one pane each, our tag, none extra),
// `git fsck --full` must be clean, status must be on main for the desired
// commit, and every action of the completing run must have its evidence file
// in the commit it made. What the killed run did (sessions it created,
// restarted or deleted, seen from outside) must have its evidence on main too:
// apply keeps evidence in the state dir until a commit holds it.
import { mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/status/types.js';
import { isolateTmux, sh, TestFleet } from '../helpers/fleet.js';
import { crashIn, fsck, prng, reportFigures, runCli, startCli, Tally } from './lib.js';
import { yamlText } from './corpus.js';

const SEED = 0x5eed0009;
const PAIRS = 25;
/**
 * Apply keeps each action's evidence in <stateDir>/pending/ until a status
 * commit holds it (src/status/pending.ts), so what a killed run did must be
 * on main after the next run: evidence for that session, of a matching kind,
 * started before the recovering run did.
 */
const KILLED_RUN_EVIDENCE_REQUIRED = true;

let tmuxDir: string;
let cwd: string;
const tally = new Tally();
const figures: Record<string, number | string> = {};
const bump = (k: string) => (figures[k] = Number(figures[k] ?? 0) + 1);

const COLD = ['alpha', 'beta', 'gamma', 'delta'];
const WARM = ['alpha', 'beta', 'gamma', 'epsilon'];

function rosterFor(socket: string, warm: boolean): string {
  const agent = (name: string) => ({
    name,
    runtime: 'stub',
    update: 'recreate',
    ...(warm && name === 'alpha' ? { command: ['cat', '-u'] } : {}),
    ...(name === 'beta' ? { env: { ROUND: warm ? 'warm' : 'cold' } } : {}),
  });
  return yamlText({
    version: 1,
    tmux: { socket_name: socket },
    runtimes: { stub: { command: ['cat'] } },
    agents: (warm ? WARM : COLD).map(agent),
  });
}

function newFleet(): TestFleet {
  const f = new TestFleet('kills');
  f.commit({ 'fleet.yaml': 'fleet: kills\nsupervisor: tmux\n', 'rosters/team.yaml': rosterFor(f.socket, false) });
  return f;
}

const args = (f: TestFleet) => ['--repo', f.bare, '--state-dir', f.stateDir, '--host', f.host];
const pids = (f: TestFleet) => new Map([...f.panes()].map(([s, p]) => [s, p.pid]));

interface Evidence {
  kind: string;
  target: string;
  desiredRevision: string;
  startedAt?: string;
}

function evidenceAt(f: TestFleet, rev: string, paths?: string[]): Evidence[] {
  const files =
    paths ??
    sh('git', ['--git-dir', f.bare, 'ls-tree', '-r', '--name-only', rev, 'evidence/']).split('\n').filter(Boolean);
  return files.filter((p) => p.startsWith('evidence/')).map((p) => JSON.parse(f.show(`${rev}:${p}`)) as Evidence);
}

/** Everything wrong after the recovering apply, or null. */
function judge(
  f: TestFleet,
  rec: { code: number | null; stdout: string; stderr: string },
  agents: string[],
  desired: string,
): string | null {
  const crash = crashIn(rec.stdout, rec.stderr);
  if (crash) return `recovering apply crashed: ${crash}`;
  if (rec.code !== 0) {
    const said = (rec.stderr || rec.stdout).trim().split('\n').slice(-3).join(' | ');
    return `recovering apply exit ${rec.code}: ${said.slice(0, 300)}`;
  }
  const lines = f
    .tmux('list-panes', '-a', '-F', '#{session_name}|#{@gitfleet-fleet}|#{pane_dead}')
    .out.trim()
    .split('\n');
  const names = lines.map((l) => l.split('|')[0]!);
  const want = [...agents, '_holder'].sort();
  if (names.slice().sort().join() !== want.join()) return `sessions ${names.sort()} (one line per pane), want ${want}`;
  if (lines.some((l) => !l.endsWith('|kills|0')))
    return `a session without our tag or dead: ${lines.filter((l) => !l.endsWith('|kills|0'))}`;
  const bad = fsck(f.bare);
  if (bad) return `git fsck: ${bad}`;
  let status: StatusDoc;
  try {
    status = f.status();
  } catch {
    return 'no status on main';
  }
  if (!status.converged || status.desiredRevision !== desired)
    return `status on main: converged ${status.converged}, desiredRevision ${status.desiredRevision} (want ${desired})`;
  if (existsSync(path.join(f.stateDir, 'reconcile.lock'))) return 'reconcile.lock left behind';
  const out = JSON.parse(rec.stdout) as { results: { kind: string; target: string }[]; commit: string | null };
  if (out.results.length > 0) {
    if (!out.commit) return `${out.results.length} actions and no commit`;
    const files = sh('git', ['--git-dir', f.bare, 'show', '--name-only', '--format=', out.commit]).split('\n');
    const ev = evidenceAt(f, out.commit, files);
    const missing = out.results.filter((r) => !ev.some((e) => e.kind === r.kind && e.target === r.target));
    if (missing.length) return `no evidence for ${missing.map((r) => `${r.kind} ${r.target}`)}`;
  }
  return null;
}

async function round(
  f: TestFleet,
  kind: 'cold' | 'warm',
  delay: number,
  agents: string[],
  desired: string,
): Promise<void> {
  const before = pids(f);
  const headBefore = f.headOf('main');
  const victim = startCli(['apply', ...args(f)], process.env, cwd);
  await new Promise((r) => setTimeout(r, delay));
  victim.kill();
  const killed = await victim.done;
  const mid = pids(f);
  const headMid = f.headOf('main');
  // What the killed run did, seen from outside: sessions started, restarted or removed.
  const did = [
    ...[...mid]
      .filter(([s, p]) => s !== '_holder' && before.get(s) !== p)
      .map(([s]) => ({ s, kinds: ['create_session', 'restart_session'] })),
    ...[...before.keys()].filter((s) => !mid.has(s)).map((s) => ({ s, kinds: ['delete_session'] })),
  ];
  if (killed.signal !== 'SIGKILL') bump(`${kind}: apply finished before the kill`);
  else if (headMid !== headBefore) bump(`${kind}: killed after its status commit`);
  else if (did.length > 0) bump(`${kind}: killed between actions and commit`);
  else bump(`${kind}: killed before any action`);
  if (fsck(f.bare)) bump(`${kind}: git fsck dirty right after the kill`);
  const recStart = Date.now();
  const rec = await runCli(['apply', '--json', ...args(f)], process.env, cwd);
  const why = judge(f, rec, agents, desired);
  tally.record(`${kind} apply killed`, `${kind} kill at ${delay} ms`, why);
  if (why === null && killed.signal === 'SIGKILL' && headMid === headBefore && did.length > 0) {
    const ev = evidenceAt(f, 'main').filter(
      (e) => e.desiredRevision === desired && Date.parse(e.startedAt ?? '') < recStart,
    );
    const lost = did
      .filter((d) => !ev.some((e) => e.target.endsWith(`/${d.s}`) && d.kinds.includes(e.kind)))
      .map((d) => `${d.kinds[0]} ${d.s}`);
    bump('killed runs that had acted, uncommitted');
    if (lost.length) bump('... of which actions left no evidence');
    tally.record(
      'killed run actions have evidence',
      `${kind} kill at ${delay} ms`,
      lost.length && KILLED_RUN_EVIDENCE_REQUIRED ? `no evidence for ${lost}` : null,
    );
    if (lost.length && !figures['example of lost evidence'])
      figures['example of lost evidence'] = `${kind} kill at ${delay} ms: ${lost}`;
  }
}

/** One apply left to finish: its duration and when the sessions first changed (ms from its start). */
async function calibrate(f: TestFleet): Promise<{ ms: number; firstAction: number }> {
  const before = JSON.stringify([...pids(f)]);
  const t0 = Date.now();
  const run = startCli(['apply', ...args(f)], process.env, cwd);
  let firstAction = -1;
  let finished = false;
  void run.done.then(() => (finished = true));
  while (!finished && firstAction < 0) {
    if (JSON.stringify([...pids(f)]) !== before) firstAction = Date.now() - t0;
    else await new Promise((r) => setTimeout(r, 20));
  }
  const r = await run.done;
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return { ms: r.ms, firstAction: firstAction < 0 ? Math.round(r.ms / 2) : firstAction };
}

beforeAll(() => {
  tmuxDir = isolateTmux();
  cwd = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-faults-cwd-'));
});

afterAll(() => {
  reportFigures('SIGKILL during apply', tally.list(), figures);
  sh('rm', ['-rf', tmuxDir, cwd]);
});

describe('SIGKILL at random points of cold and warm applies', () => {
  // Its own budget: ~2 s a round on an idle 2-core machine, more when it shares the cores.
  it(`${PAIRS * 2} rounds converge with a sound repo, exact sessions and evidence`, { timeout: 480_000 }, async () => {
    // Calibrate: how long one cold and one warm apply take here, and when their first action shows.
    const cal = newFleet();
    const cold = await calibrate(cal);
    cal.commit({ 'rosters/team.yaml': rosterFor(cal.socket, true) });
    const warm = await calibrate(cal);
    cal.cleanup();
    figures['calibration: cold apply ms (first action at)'] = `${cold.ms} (${cold.firstAction})`;
    figures['calibration: warm apply ms (first action at)'] = `${warm.ms} (${warm.firstAction})`;
    const rnd = prng(SEED);
    // Half the kills anywhere in the run, half around its actions (where a kill leaves the most to repair).
    const delay = (c: { ms: number; firstAction: number }) =>
      rnd.next() < 0.5
        ? rnd.int(0, Math.round(c.ms * 0.9))
        : rnd.int(Math.max(0, c.firstAction - 100), Math.min(c.ms, c.firstAction + 400));

    for (let i = 0; i < PAIRS; i++) {
      const f = newFleet();
      const delays = [delay(cold), delay(warm)] as const;
      try {
        await round(f, 'cold', delays[0], COLD, f.headOf('main')!);
        let head: string;
        try {
          head = f.commit({ 'rosters/team.yaml': rosterFor(f.socket, true) });
        } catch (e) {
          // The cold round left the repo so that a person cannot push either: that is the warm round's failure.
          tally.record(
            'warm apply killed',
            `warm kill at ${delays[1]} ms`,
            `cannot push the change: ${String(e).slice(0, 200)}`,
          );
          continue;
        }
        await round(f, 'warm', delays[1], WARM, head);
      } finally {
        f.cleanup();
      }
    }
    expect(tally.failed()).toEqual([]);
  });
});
