// `gitfleet run --repo http://...`: the daemon against a real git http-backend on loopback (test/helpers/
// git-server.ts, token required), tmux on a private socket. A push to the remote is noticed by the poll of its
// heads (GITFLEET_POLL_INTERVAL=1 here; 60 s by default), fetched, and converged; the status pushed to its own
// branch does not wake the daemon again. A webhook (sent by the test, as a forge would) fetches at once.
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../helpers/daemon.js';
import { roster, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';
import { GitHttpServer } from '../helpers/git-server.js';

usePrivateTmux();

const TOKEN = 'tok-daemon-5e1b7c9a3f-secret';
const QUIET = 'reconcile:\n  schedule: "0 0 * * *"\n';
let fleet: TestFleet;
let server: GitHttpServer | null = null;
let daemon: DaemonProcess | null = null;
afterEach(async () => {
  await daemon?.stop('SIGKILL');
  daemon = null;
  await server?.stop();
  server = null;
  fleet?.cleanup();
});

const agent = (name: string) => `  - name: ${name}\n    runtime: stub\n`;
const hasSession = (name: string) => fleet.tmux('has-session', '-t', `=${name}`).code === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const git = (...args: string[]) => execFileSync('git', ['--git-dir', fleet.bare, ...args], { encoding: 'utf8' });

describe('gitfleet run with a remote repository', { timeout: 120_000 }, () => {
  it('a push is noticed by the poll, fetched and converged; its own status push wakes nothing', async () => {
    fleet = new TestFleet();
    git('config', 'http.receivepack', 'true');
    fleet.commit({
      'fleet.yaml': `fleet: remote\n${QUIET}`,
      'rosters/team.yaml': roster(fleet.socket, agent('alpha')),
    });
    server = new GitHttpServer(fleet.dir, TOKEN);
    await server.start();
    const env = { ...process.env, GITFLEET_GIT_TOKEN: TOKEN, GITFLEET_POLL_INTERVAL: '1' };
    daemon = new DaemonProcess(fleet, ['--repo', server.url('fleet.git')], env);
    await daemon.waitForLine(/ reconcile trigger=start outcome=ok /);
    expect(hasSession('alpha')).toBe(true);
    // Status went to the remote's gitfleet-status branch, not the fleet branch people push to.
    expect(git('ls-tree', '-r', '--name-only', 'gitfleet-status')).toContain(`status/${fleet.host}.json`);
    expect(git('ls-tree', '-r', '--name-only', 'main')).not.toContain(`status/${fleet.host}.json`);

    fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    await waitFor(() => hasSession('beta'), 30_000);
    await daemon.waitForLine(/ reconcile trigger=ref-change outcome=ok /);
    // Several polls later: the status push (another branch) and the unchanged fleet branch woke nothing.
    await sleep(3000);
    expect(daemon.reconciles().map((l) => / trigger=(\S+)/.exec(l)![1])).toEqual(['start', 'ref-change']);
    expect(server.counts.list).toBeGreaterThan(3); // it did poll
    expect(await daemon.stop()).toBe(0);
    expect(daemon.stdout + daemon.stderr).not.toContain(TOKEN);
  });

  it('a signed push webhook naming the branch: fetched, no listing first; looks ask the remote nothing', async () => {
    fleet = new TestFleet();
    git('config', 'http.receivepack', 'true');
    fleet.commit({
      'fleet.yaml': `fleet: remote\n${QUIET}  observe_every: 1\n`,
      'rosters/team.yaml': roster(fleet.socket, agent('alpha')),
    });
    server = new GitHttpServer(fleet.dir, TOKEN);
    await server.start();
    const secret = path.join(fleet.dir, 'hook-secret');
    writeFileSync(secret, 'hook-5ecret\n', { mode: 0o600 });
    // Polls an hour apart: within the test only the webhook can wake it.
    const env = { ...process.env, GITFLEET_GIT_TOKEN: TOKEN, GITFLEET_POLL_INTERVAL: '3600' };
    const args = ['--repo', server.url('fleet.git'), '--listen', '127.0.0.1:0', '--webhook-secret-file', secret];
    daemon = new DaemonProcess(fleet, args, env);
    const base = await daemon.address();
    await daemon.waitForLine(/ reconcile trigger=start outcome=ok /);
    // Looks every second read the clone as last fetched: three seconds of them list and fetch nothing.
    server.reset();
    await sleep(3000);
    expect(server.counts).toMatchObject({ list: 0, upload: 0 });

    const head = fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
    const signature = `sha256=${createHmac('sha256', 'hook-5ecret').update(body).digest('hex')}`;
    const headers = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature };
    expect((await fetch(`${base}/webhook`, { method: 'POST', headers, body })).status).toBe(202);
    await waitFor(() => hasSession('beta'), 30_000);
    await daemon.waitForLine(/ reconcile trigger=webhook outcome=ok /);
    // One fetch (its own ref advertisement and one upload-pack), one status push: no listing of every head
    // before the fetch, none again in the reconcile.
    expect(server.counts).toEqual({ list: 1, upload: 1, 'receive-list': 1, receive: 1 });
    expect(await daemon.stop()).toBe(0);
  });
});
