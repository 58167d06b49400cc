// A fleet repository on a forge, over HTTP: a real git-http-backend behind a
// loopback server that requires a token (test/helpers/git-server.ts), real
// tmux on a private socket, the system git for the operator's commits. Plain
// http:// is what gitfleet accepts on loopback; remote-https.test.ts runs the
// same server over real TLS.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RemoteRepo } from '../../src/git/remote.js';
import { remoteSettings } from '../../src/git/remote-settings.js';
import { filesUnder, roster, sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';
import { GitHttpServer } from '../helpers/git-server.js';

usePrivateTmux();

const TOKEN = 'tok-7f3a9c1e5b2d4f60-secret';
let fleet: TestFleet;
let server: GitHttpServer;
afterEach(async () => {
  await server?.stop();
  fleet?.cleanup();
});

const agent = (name: string) => `  - name: ${name}\n    runtime: stub\n`;

function setUp(fleetYaml = 'fleet: remote\n'): void {
  fleet = new TestFleet();
  sh('git', ['--git-dir', fleet.bare, 'config', 'http.receivepack', 'true']);
  fleet.commit({ 'fleet.yaml': fleetYaml, 'rosters/team.yaml': roster(fleet.socket, agent('alpha')) });
}

async function startServer(): Promise<void> {
  server = new GitHttpServer(fleet.dir, TOKEN);
  await server.start();
}

const ENV = { GITFLEET_GIT_TOKEN: TOKEN, GITFLEET_GIT_TIMEOUT: '1.5', GITFLEET_GIT_ATTEMPTS: '2' };

async function gitfleet(args: string[], env: Record<string, string | undefined> = ENV) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (s: string) => (stdout += s),
    stderr: (s: string) => (stderr += s),
    env: { ...process.env, ...env },
  };
  // Given last, the test's own options win (node's parseArgs keeps the last value).
  const code = await main(
    ['--repo', server.url('fleet.git'), '--state-dir', fleet.stateDir, '--host', fleet.host, ...args],
    io,
  );
  return { code, stdout, stderr };
}

const tree = (branch: string) =>
  sh('git', ['--git-dir', fleet.bare, 'ls-tree', '-r', '--name-only', branch]).trim().split('\n');

describe('remote repository over HTTP', () => {
  it('converges from the remote, pushes status to its own branch; a no-op run fetches and pushes nothing', async () => {
    setUp();
    await startServer();
    const head = fleet.headOf('main')!;
    const r = await gitfleet(['apply']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect([...fleet.panes().keys()].sort()).toEqual(['_holder', 'alpha']);
    // Status went to gitfleet-status (the default for a remote repository): main is the operators' alone.
    expect(fleet.headOf('main')).toBe(head);
    const status = JSON.parse(fleet.show('gitfleet-status:status/testhost.json'));
    expect(status).toMatchObject({ desiredRevision: head, converged: true });
    expect(r.stdout).toContain('to gitfleet-status');
    // The status, then this host's liveness ref (refs/gitfleet/alive/testhost: README, Stale hosts).
    expect(server.counts.receive).toBe(2);
    // The private clone lives in the state dir, named by a hash of the URL.
    const clones = filesUnder(path.join(fleet.stateDir, 'repos')).filter((f) => f.endsWith('/HEAD'));
    expect(clones.map((f) => path.basename(path.dirname(f)))).toEqual([expect.stringMatching(/^[0-9a-f]{16}\.git$/)]);

    server.reset();
    const statusHead = fleet.headOf('gitfleet-status');
    const again = await gitfleet(['apply']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Status unchanged: no commit.');
    // One look at the heads; no pack fetched, nothing pushed.
    expect(server.counts).toEqual({ list: 1, upload: 0, 'receive-list': 0, receive: 0 });
    expect(fleet.headOf('gitfleet-status')).toBe(statusHead);

    // A merge on the forge is fetched (only main and the status branch) and applied.
    fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    server.reset();
    const third = await gitfleet(['apply']);
    expect(third.code).toBe(0);
    expect(fleet.panes().has('beta')).toBe(true);
    expect(server.counts.upload).toBe(1);
    expect(server.counts.receive).toBe(1);
    expect(JSON.parse(fleet.show('gitfleet-status:status/testhost.json')).desiredRevision).toBe(fleet.headOf('main'));
  }, 120_000);

  it('a human push between fetch and push: status written again on the new head, no merge, fsck clean', async () => {
    setUp('fleet: remote\nstatus:\n  branch: main\n');
    await startServer();
    let human = '';
    server.beforeReceive = () => {
      human = fleet.commit({ 'notes.md': 'an operator was here\n' }, 'operator pushes meanwhile');
    };
    const r = await gitfleet(['apply']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(human).toMatch(/^[0-9a-f]{40}$/);
    const main = fleet.headOf('main')!;
    // The status commit sits on the human's commit: re-derived there, not merged.
    expect(sh('git', ['--git-dir', fleet.bare, 'rev-parse', `${main}^`]).trim()).toBe(human);
    expect(sh('git', ['--git-dir', fleet.bare, 'rev-list', '--merges', 'main']).trim()).toBe('');
    expect(tree('main')).toEqual(expect.arrayContaining(['notes.md', 'status/testhost.json']));
    // Rejected, pushed again on the new head, then the liveness ref.
    expect(server.counts.receive).toBe(3);
    sh('git', ['--git-dir', fleet.bare, 'fsck', '--strict']);
  }, 60_000);

  it('server failing or hanging during fetch and during push: nothing half-applied, next run succeeds', async () => {
    setUp();
    await startServer();
    expect((await gitfleet(['apply'])).code).toBe(0);
    const statusHead = fleet.headOf('gitfleet-status');

    // A merge the server then fails to send: hangs (timeout), then 503.
    fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    server.faults = { upload: 'hang' };
    const hung = await gitfleet(['apply']);
    expect(hung.code).toBe(1);
    expect(hung.stderr).toMatch(/fetching branch main from http:\/\/127\.0\.0\.1:\d+\/fleet\.git: timed out/);
    expect(hung.stderr).toContain('(2 attempts)');
    server.faults = { upload: '503' };
    const down = await gitfleet(['apply']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('HTTP 503');
    server.faults = { list: 'reset' };
    expect((await gitfleet(['apply'])).stderr).toContain('ECONNRESET');
    // An answer cut short is a network failure, never a repository without its branch.
    server.faults = { list: 'truncate' };
    const cut = await gitfleet(['apply']);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/reading the branch heads of .*ECONNRESET/);
    expect(cut.stderr).not.toContain('not found');
    expect(fleet.panes().has('beta')).toBe(false);
    expect(fleet.headOf('gitfleet-status')).toBe(statusHead);

    // The push fails: beta runs, its evidence stays pending, nothing reached the remote.
    server.faults = { receive: '503' };
    const push = await gitfleet(['apply']);
    expect(push.code).toBe(1);
    expect(push.stderr).toContain('pushing branch gitfleet-status to');
    expect(fleet.panes().has('beta')).toBe(true);
    expect(fleet.headOf('gitfleet-status')).toBe(statusHead);
    server.faults = { receive: 'hang' };
    expect((await gitfleet(['apply'])).stderr).toContain('timed out');

    server.reset();
    const ok = await gitfleet(['apply']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const evidence = tree('gitfleet-status').filter((f) => f.includes('create_session-beta'));
    expect(evidence).toHaveLength(1);
    expect(JSON.parse(fleet.show('gitfleet-status:status/testhost.json')).desiredRevision).toBe(fleet.headOf('main'));
    sh('git', ['--git-dir', fleet.bare, 'fsck', '--strict']);
  }, 120_000);

  it('a protected branch names status.branch as the way out', async () => {
    setUp('fleet: remote\nstatus:\n  branch: main\n');
    await startServer();
    server.protectPushes = true;
    const r = await gitfleet(['apply']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pushing status to branch "main"');
    expect(r.stderr).toContain('Set status.branch in fleet.yaml');
  }, 60_000);

  it('wrong token, URL with credentials, readable token file, http elsewhere: clear errors, no secret', async () => {
    setUp();
    await startServer();
    const wrong = 'wrong-token-d41d8cd98f00b204';
    const bad = await gitfleet(['apply'], { ...ENV, GITFLEET_GIT_TOKEN: wrong });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('authentication failed (HTTP 401)');
    expect(server.refused).toBeGreaterThan(0);
    expect(fleet.panes().size).toBe(0);

    const embedded = `http://x-access-token:${TOKEN}@127.0.0.1:${server.port}/fleet.git`;
    const withCreds = await gitfleet(['plan', '--repo', embedded]);
    expect(withCreds.code).toBe(64);
    expect(withCreds.stderr).toContain('the URL has credentials in it');

    const file = path.join(fleet.dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o644);
    const readable = await gitfleet(['apply', '--git-token-file', file], { GITFLEET_GIT_TIMEOUT: '2' });
    expect(readable.code).toBe(1);
    expect(readable.stderr).toContain('is readable by group or others (mode 644)');
    // The opt-in for plain http elsewhere is said on stderr (here stopped by the readable file before any network).
    const insecure = await gitfleet(
      ['plan', '--repo', 'http://forge.example/fleet.git', '--allow-insecure-http', '--git-token-file', file],
      {},
    );
    expect(insecure.code).toBe(1);
    expect(insecure.stderr).toContain('warning: --repo http://forge.example/fleet.git is plain http://');
    expect(insecure.stderr).toContain('is readable by group or others');
    chmodSync(file, 0o600);
    const fromFile = await gitfleet(['apply', '--git-token-file', file], { GITFLEET_GIT_TIMEOUT: '2' });
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);

    const far = await gitfleet(['plan', '--repo', 'http://forge.example/fleet.git']);
    expect(far.code).toBe(64);
    expect(far.stderr).toContain('--allow-insecure-http');

    // The secrets appear nowhere: output, the remote's history (status, evidence), the state dir.
    const history = sh('git', ['--git-dir', fleet.bare, 'log', '--all', '-p', '--format=%H %an %s%n%b']);
    const stateFiles = filesUnder(fleet.stateDir).map((f) => readFileSync(f).toString('latin1'));
    for (const text of [bad, withCreds, readable, insecure, fromFile, far].flatMap((x) => [x.stdout, x.stderr]))
      for (const secret of [TOKEN, wrong]) expect(text).not.toContain(secret);
    for (const text of [history, ...stateFiles]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
    }
  }, 90_000);

  it('the API the daemon polls: moved and sync; a commit touching more than own paths is never pushed', async () => {
    setUp();
    await startServer();
    const settings = remoteSettings({ ...ENV }, {});
    const remote = await RemoteRepo.open(server.url('fleet.git'), fleet.stateDir, settings);
    expect(await remote.sync(['main'])).toEqual({ moved: true });
    expect(await remote.repo.resolve('main')).toBe(fleet.headOf('main'));
    server.reset();
    expect(await remote.moved(['main'])).toBe(false);
    expect(await remote.sync(['main'], true)).toEqual({ moved: false });
    expect(server.counts).toEqual({ list: 2, upload: 0, 'receive-list': 0, receive: 0 });
    fleet.commit({ 'notes.md': 'x\n' });
    expect(await remote.moved(['main'])).toBe(true);
    expect(await remote.repo.resolve('main')).not.toBe(fleet.headOf('main')); // moved() fetches nothing
    expect(await remote.sync(['main'], true)).toEqual({ moved: true });
    expect(await remote.repo.resolve('main')).toBe(fleet.headOf('main'));

    const before = fleet.headOf('main');
    const author = { name: 'gitfleet', email: 'gitfleet@testhost' };
    const write = (p: string) => () =>
      remote.repo.commitFiles({
        branch: 'main',
        base: before!,
        changes: [{ path: p, content: 'changed\n' }],
        message: 'x',
        author,
        now: new Date(),
      });
    await expect(remote.commitAndPush('main', 'testhost', write('rosters/team.yaml'))).rejects.toThrow(
      /refusing to push [0-9a-f]{12} to main: gitfleet's commits may change only its own files .* rosters\/team\.yaml/,
    );
    expect(server.counts.receive).toBe(0);
    expect(fleet.headOf('main')).toBe(before);
    await remote.sync(['main'], true); // the refused commit is dropped: the clone follows the remote again
    expect(await remote.commitAndPush('main', 'testhost', write('status/testhost.json'))).toMatch(/^[0-9a-f]{40}$/);
    expect(fleet.show('main:status/testhost.json')).toBe('changed\n');
  }, 60_000);

  it('liveness ref: pushed, an immediate no-op pushes nothing, another host reads it; a refusal warns', async () => {
    setUp('fleet: remote\nreconcile:\n  schedule: "*/10 * * * * *"\n');
    await startServer();
    const first = await gitfleet(['apply']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const ref = 'refs/gitfleet/alive/testhost';
    const bareGit = (...a: string[]) => sh('git', ['--git-dir', fleet.bare, ...a]).trim();
    const oid = bareGit('rev-parse', ref);
    // An orphan commit with the empty tree: on no branch, so the fleet's history gains nothing.
    expect(bareGit('rev-list', '--parents', '-n1', oid)).toBe(oid);
    expect(bareGit('rev-parse', `${oid}^{tree}`)).toBe('4b825dc642cb6eb9a060e54bf8d69288fbee4904');
    expect(JSON.parse(bareGit('log', '-1', '--format=%B', oid))).toMatchObject({
      host: 'testhost',
      intervalSeconds: 10,
      revision: fleet.headOf('main'),
    });
    const statusHead = fleet.headOf('gitfleet-status');

    server.reset();
    const again = await gitfleet(['apply']);
    expect(again.code).toBe(0);
    expect(server.counts).toEqual({ list: 1, upload: 0, 'receive-list': 0, receive: 0 });
    expect(bareGit('rev-parse', ref)).toBe(oid);

    // Another host (its own state dir, so its own clone) sees testhost alive: one listing, the ref fetched once.
    const readerState = path.join(fleet.dir, 'reader-state');
    const asReader = ['ps', '--all-hosts', '--json', '--host', 'reader', '--state-dir', readerState];
    server.reset();
    const read = await gitfleet(asReader);
    expect(read.code).toBe(0);
    const seen = JSON.parse(read.stdout).reconcilers;
    expect(seen).toEqual([
      expect.objectContaining({ name: 'reader', state: 'unknown', lastSeen: null }),
      expect.objectContaining({ name: 'testhost', host: 'testhost', state: 'alive', intervalSeconds: 10 }),
    ]);
    const lastSeen = seen[1].lastSeen as string;
    // Its new clone fetched main, gitfleet-status and the liveness ref; the next look costs one listing.
    expect(server.counts.upload).toBe(3);
    server.reset();
    expect((await gitfleet(asReader)).code).toBe(0);
    expect(server.counts).toEqual({ list: 1, upload: 0, 'receive-list': 0, receive: 0 }); // it had not moved

    // Half an interval later the ref moves (a push, no commit on any branch); the reader sees the newer time.
    await new Promise((r) => setTimeout(r, 5500));
    server.reset();
    expect((await gitfleet(['apply'])).code).toBe(0);
    expect(server.counts.receive).toBe(1);
    expect(bareGit('rev-parse', ref)).not.toBe(oid);
    expect(fleet.headOf('gitfleet-status')).toBe(statusHead);
    // A reconciling reader whose copy still judges testhost alive does not fetch the newer record (it could only
    // be alive too): one listing, its own pushes, no fetch. ps, which shows the time, fetches it.
    server.reset();
    const readerRun = await gitfleet(['apply', '--host', 'reader', '--state-dir', readerState]);
    expect(readerRun.code).toBe(0);
    expect(server.counts.upload).toBe(0);
    expect(server.counts.list).toBe(1);
    server.reset();
    const later = JSON.parse((await gitfleet(asReader)).stdout).reconcilers[1];
    expect(Date.parse(later.lastSeen)).toBeGreaterThan(Date.parse(lastSeen));
    expect(server.counts.upload).toBe(1);

    // A forge that refuses refs/gitfleet/* (here git's own update hook): the run succeeds and says why.
    const hook = path.join(fleet.bare, 'hooks', 'update');
    writeFileSync(hook, '#!/bin/sh\ncase "$1" in refs/gitfleet/*) echo "no refs/gitfleet here" >&2; exit 1;; esac\n');
    chmodSync(hook, 0o755);
    await new Promise((r) => setTimeout(r, 5500));
    const refused = await gitfleet(['apply']);
    expect(refused.code).toBe(0);
    expect(refused.stderr).toMatch(/^warning: .*refused refs\/gitfleet\/alive\/testhost .*push refs\/gitfleet\/\*/m);
    expect(refused.stderr).not.toContain(TOKEN);
  }, 120_000);
});
