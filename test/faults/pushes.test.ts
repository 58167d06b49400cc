// Fault suite, part 3: 50 human pushes racing reconciles (issue #8).
//
// While the real CLI runs `apply` back to back, a person (the system git, in a
// work clone) makes 50 commits touching notes (never status/ or evidence/),
// pushing each one and, when the push is rejected because gitfleet moved main,
// pulling with rebase and pushing again, as people do. Since every human
// commit is a new desired revision, every apply has a status commit to race
// with. Afterwards every pushed human commit must be on main with its content,
// gitfleet's status must have landed for the newest human commit, no apply
// may have crashed, and `git fsck --full` must be clean.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolateTmux, roster, sh, TestFleet } from '../helpers/fleet.js';
import { crashIn, fsck, prng, reportFigures, runCli, Tally } from './lib.js';

const SEED = 0x5eed000a;
const PUSHES = 50;
const exec = promisify(execFile);

let tmuxDir: string;
let cwd: string;
let fleet: TestFleet;
const tally = new Tally();
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  tmuxDir = isolateTmux();
  cwd = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-faults-cwd-'));
  fleet = new TestFleet('race');
  fleet.commit({
    'fleet.yaml': 'fleet: race\nsupervisor: tmux\n',
    'rosters/team.yaml': roster(
      fleet.socket,
      '  - name: alpha\n    runtime: stub\n  - name: beta\n    runtime: stub\n',
    ),
  });
  const r = await runCli(
    ['apply', '--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host],
    process.env,
    cwd,
  );
  expect(r.code, r.stdout + r.stderr).toBe(0);
});

afterAll(() => {
  reportFigures('racing human pushes', tally.list(), figures);
  fleet?.cleanup();
  sh('rm', ['-rf', tmuxDir, cwd]);
});

/** The person: git through the shell's git, with a person's retry loop. */
async function human(
  n: number,
  rnd: ReturnType<typeof prng>,
): Promise<{ pushed: Map<number, string>; rejections: number; gaveUp: number[] }> {
  const git = (...a: string[]) =>
    exec('git', ['-c', 'user.name=Human', '-c', 'user.email=human@example.invalid', ...a], { cwd: fleet.work });
  const pushed = new Map<number, string>();
  let rejections = 0;
  const gaveUp: number[] = [];
  await git('pull', '-q', '--rebase', 'origin', 'main');
  for (let i = 0; i < n; i++) {
    mkdirSync(path.join(fleet.work, 'notes'), { recursive: true });
    writeFileSync(path.join(fleet.work, 'notes', `note-${i}.md`), `note ${i}\n`);
    // Every fifth commit also edits a file other commits touched, as notes do.
    if (i % 5 === 0) writeFileSync(path.join(fleet.work, 'README.md'), `readme after note ${i}\n`);
    await git('add', '-A');
    await git('commit', '-q', '-m', `human note ${i}`);
    let ok = false;
    for (let attempt = 0; attempt < 30 && !ok; attempt++) {
      try {
        await git('push', '-q', 'origin', 'HEAD:main');
        ok = true;
      } catch {
        rejections++;
        await new Promise((r) => setTimeout(r, rnd.int(0, 60)));
        await git('pull', '-q', '--rebase', 'origin', 'main');
      }
    }
    if (ok) pushed.set(i, (await git('rev-parse', 'HEAD')).stdout.trim());
    else gaveUp.push(i);
    await new Promise((r) => setTimeout(r, rnd.int(0, 150)));
  }
  return { pushed, rejections, gaveUp };
}

describe('human pushes racing reconciles', () => {
  it(`${PUSHES} human commits all land on main beside gitfleet's status commits`, async () => {
    const rnd = prng(SEED);
    let racing = true;
    const applies: { code: number | null; crash: string | null }[] = [];
    const loop = (async () => {
      while (racing) {
        const r = await runCli(
          ['apply', '--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host],
          process.env,
          cwd,
        );
        applies.push({ code: r.code, crash: crashIn(r.stdout, r.stderr) });
      }
    })();
    const t0 = Date.now();
    const person = await human(PUSHES, rnd);
    racing = false;
    await loop;
    figures['race seconds'] = Math.round((Date.now() - t0) / 1000);
    figures['applies during the race'] = applies.length;
    const codes: Record<string, number> = {};
    for (const a of applies) codes[String(a.code)] = (codes[String(a.code)] ?? 0) + 1;
    figures['apply exit codes'] = Object.entries(codes)
      .map(([c, n]) => `${c}: ${n}`)
      .join(', ');
    figures['pushes rejected, then rebased and retried'] = person.rejections;

    const final = await runCli(
      ['apply', '--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host],
      process.env,
      cwd,
    );
    const statusCommits = sh('git', ['--git-dir', fleet.bare, 'log', '--format=%an', 'main'])
      .split('\n')
      .filter((a) => a === 'gitfleet').length;
    figures['gitfleet status commits on main'] = statusCommits;

    for (let i = 0; i < PUSHES; i++) {
      const hash = person.pushed.get(i);
      let why: string | null = null;
      if (!hash) why = 'never pushed (30 rejected attempts)';
      else if (spawnSync('git', ['--git-dir', fleet.bare, 'merge-base', '--is-ancestor', hash, 'main']).status !== 0)
        why = 'not reachable from main';
      else {
        try {
          if (fleet.show(`main:notes/note-${i}.md`) !== `note ${i}\n`) why = 'content changed on main';
        } catch {
          why = 'its file is not on main';
        }
      }
      tally.record('human commit reachable from main', `note ${i}`, why);
    }
    const crashes = applies.filter((a) => a.crash);
    tally.record(
      'no apply crashed during the race',
      `${applies.length} applies`,
      crashes.length ? crashes[0]!.crash : null,
    );
    const newest = person.pushed.get(PUSHES - 1);
    let landed: string | null =
      final.code === 0 ? null : `final apply exit ${final.code}: ${final.stderr.trim().slice(0, 200)}`;
    if (!landed) {
      const s = fleet.status();
      if (s.desiredRevision !== newest)
        landed = `status desiredRevision ${s.desiredRevision}, newest human commit ${newest}`;
    }
    tally.record('status landed for the newest human commit', 'final apply', landed);
    tally.record('git fsck --full clean', fleet.bare, fsck(fleet.bare));
    tally.record(
      'status commits raced in',
      `${statusCommits} status commits`,
      statusCommits >= 2 ? null : 'gitfleet committed no status during the race: nothing raced',
    );
    expect(tally.failed()).toEqual([]);
  });
});
