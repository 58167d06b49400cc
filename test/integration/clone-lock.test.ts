// The private clone of a remote repository has one writer at a time (git/clone-lock.ts): `ps` fetches without
// the state dir's reconcile lock, so without the clone lock it could fetch while an apply fetches or pushes.
// Real parts: git-http-backend behind a token-checking loopback server (test/helpers/git-server.ts), the built
// CLI as separate processes, the system git for human pushes and for `git fsck --strict`.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireCloneLock } from '../../src/git/clone-lock.js';
import { cloneDirName } from '../../src/git/remote-url.js';
import { roster, sh, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';
import { GitHttpServer } from '../helpers/git-server.js';

usePrivateTmux();

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const TOKEN = 'tok-clone-lock-0c4e2a91-secret';
/** What a command that gave up on a lock says: the clone lock's message, or the state dir's (apply vs apply). */
const LOCK_MESSAGE = new RegExp(
  'is locked by another gitfleet writing it: pid \\d+ .*try again when it has finished|' +
    'another gitfleet holds the lock of state dir',
);

let fleet: TestFleet;
let server: GitHttpServer;
afterEach(async () => {
  await server?.stop();
  fleet?.cleanup();
});

interface Result {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI as a process of its own; `live` fills as it prints. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): { live: Result; done: Promise<Result> } {
  const argv = [CLI, ...args, '--repo', server.url('fleet.git'), '--state-dir', fleet.stateDir, '--host', fleet.host];
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, GITFLEET_GIT_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const live: Result = { args, code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (live.stdout += d.toString()));
  child.stderr.on('data', (d) => (live.stderr += d.toString()));
  const done = new Promise<Result>((resolve) => child.on('exit', (code) => resolve({ ...live, code })));
  return { live, done };
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => start(args, env).done;

const agents = (names: string[]) => names.map((n) => `  - name: ${n}\n    runtime: stub\n`).join('');
const bareGit = (...args: string[]) => sh('git', ['--git-dir', fleet.bare, ...args]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setUp(): void {
  fleet = new TestFleet();
  bareGit('config', 'http.receivepack', 'true');
  fleet.commit({ 'fleet.yaml': 'fleet: race\n', 'rosters/team.yaml': roster(fleet.socket, agents(['a0'])) });
}

const cloneDir = () => path.join(fleet.stateDir, 'repos', cloneDirName(server.url('fleet.git')));

describe('the private clone of a remote repository', { timeout: 240_000 }, () => {
  it('ps and apply race on one state dir, the remote moving: fsck clean, ok or lock message', async () => {
    setUp();
    server = new GitHttpServer(fleet.dir, TOKEN);
    await server.start();
    // Slow fetches and pushes: while one is in progress, any other gitfleet on this state dir would overlap it.
    server.delay = { upload: 300, receive: 300 };
    const names = ['a0'];
    const runs: Promise<Result>[] = [];
    // From a fresh state dir (the clone's set-up races too): two rounds of five ps and two apply at once, the
    // remote moving (a human push) while they run.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5; i++) runs.push(run(['ps']));
      runs.push(run(['apply']), run(['apply']));
      for (let push = 0; push < 2; push++) {
        await sleep(700);
        names.push(`r${round}p${push}`);
        fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agents(names)) });
      }
      await Promise.all(runs);
    }
    const results = await Promise.all(runs);
    for (const r of results) {
      const ok = r.code === 0 || (r.args[0] === 'apply' && r.code === 3);
      if (!ok) expect(`${r.args[0]} exit ${r.code}: ${r.stderr}`).toMatch(LOCK_MESSAGE);
      expect(r.stderr).not.toMatch(/internal error|damaged|EEXIST|ENOENT/);
    }
    expect(results.filter((r) => r.args[0] === 'ps' && r.code === 0).length).toBeGreaterThan(0);
    expect(results.filter((r) => r.args[0] === 'apply' && r.code !== 1).length).toBeGreaterThan(0);
    // One more apply after the race converges on the last roster.
    expect((await run(['apply'])).code).toBe(0);

    // Never two fetches or pushes at once: one writer in the private clone at a time.
    expect(server.counts.upload).toBeGreaterThan(2);
    expect(server.maxWriters).toBe(1);
    const fsck = spawnSync('git', ['--git-dir', cloneDir(), 'fsck', '--strict', '--no-dangling'], { encoding: 'utf8' });
    expect(`${fsck.status} ${fsck.stdout}${fsck.stderr}`).toBe('0 ');
    // Every status pushed records agents that are exactly the roster at the revision it names, and that
    // revision is a commit of the remote's main: nothing was applied from a half-fetched state.
    const commits = bareGit('rev-list', 'gitfleet-status', '--', `status/${fleet.host}.json`).split('\n');
    expect(commits.filter(Boolean).length).toBeGreaterThan(1);
    for (const c of commits.filter(Boolean)) {
      const doc = JSON.parse(bareGit('show', `${c}:status/${fleet.host}.json`)) as {
        desiredRevision: string;
        agents: { name: string }[];
      };
      expect(
        spawnSync('git', ['--git-dir', fleet.bare, 'merge-base', '--is-ancestor', doc.desiredRevision, 'main']).status,
      ).toBe(0);
      const rosterText = bareGit('show', `${doc.desiredRevision}:rosters/team.yaml`);
      const want = [...rosterText.matchAll(/- name: (\S+)/g)].map((m) => m[1]).sort();
      expect(doc.agents.map((a) => a.name).sort()).toEqual(want);
    }
  });

  it('a reader waits for the clone lock a bounded time, says so after 1 s, then fails with its message', async () => {
    setUp();
    server = new GitHttpServer(fleet.dir, TOKEN);
    await server.start();
    expect((await run(['ps'])).code).toBe(0); // the clone exists
    const url = server.url('fleet.git');
    const held = await acquireCloneLock(cloneDir(), url, 'test holding', { timeoutMs: 1000 });
    try {
      const started = Date.now();
      const r = await run(['ps'], { GITFLEET_GIT_TIMEOUT: '3' });
      expect(r.code).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
      expect(r.stderr).toContain(
        `gitfleet: waiting for the private clone of ${url}: another gitfleet writes it, pid ${process.pid}`,
      );
      expect(r.stderr).toMatch(LOCK_MESSAGE);
      expect(r.stderr).toContain('gave up after 3 s (GITFLEET_GIT_TIMEOUT)');
      expect(r.stdout).toBe('');
      // Released while a reader waits: it goes on, and succeeds.
      const waiting = start(['ps'], { GITFLEET_GIT_TIMEOUT: '60' });
      await waitFor(() => waiting.live.stderr.includes('gitfleet: waiting for the private clone'), 30_000);
      await held.release();
      const after = await waiting.done;
      expect(after.code).toBe(0);
      expect(r.stderr + after.stderr).not.toContain(TOKEN);
    } finally {
      await held.release();
    }
  });
});
