// A fleet repository over ssh: a real sshd on loopback (test/helpers/sshd.ts)
// with a temporary host key and authorised key, the system git and ssh, real
// tmux on a private socket.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { roster, sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';
import { TestSshd } from '../helpers/sshd.js';

usePrivateTmux();

let fleet: TestFleet;
let sshd: TestSshd;
afterEach(() => {
  sshd?.stop();
  fleet?.cleanup();
});

const agent = (name: string) => `  - name: ${name}\n    runtime: stub\n`;

async function gitfleet(url: string, args: string[], env: Record<string, string | undefined>) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (s: string) => (stdout += s),
    stderr: (s: string) => (stderr += s),
    env: { ...process.env, GITFLEET_GIT_TIMEOUT: '10', GITFLEET_GIT_ATTEMPTS: '2', ...env },
  };
  const code = await main(['--repo', url, '--state-dir', fleet.stateDir, '--host', fleet.host, ...args], io);
  return { code, stdout, stderr };
}

describe('remote repository over ssh', () => {
  it('converges over ssh with a pinned host key; a no-op run commits nothing; no known_hosts is refused', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'fleet.yaml': 'fleet: viassh\n', 'rosters/team.yaml': roster(fleet.socket, agent('alpha')) });
    sshd = new TestSshd(path.join(fleet.dir, 'sshd'));
    await sshd.start();
    const url = sshd.url(fleet.bare);
    const env = { GITFLEET_SSH_KEY: sshd.clientKey, GITFLEET_SSH_KNOWN_HOSTS: sshd.knownHosts };

    const r = await gitfleet(url, ['apply'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fleet.panes().has('alpha')).toBe(true);
    const statusHead = fleet.headOf('gitfleet-status');
    expect(JSON.parse(fleet.show('gitfleet-status:status/testhost.json'))).toMatchObject({
      desiredRevision: fleet.headOf('main'),
      converged: true,
    });

    const before = await sshd.accepted();
    expect(before).toBeGreaterThanOrEqual(3); // list, fetch, push
    const again = await gitfleet(url, ['apply'], env);
    expect(again.code).toBe(0);
    expect(fleet.headOf('gitfleet-status')).toBe(statusHead);
    // A no-op run: one connection to list the heads, no fetch, no push.
    expect((await sshd.accepted()) - before).toBe(1);

    // The liveness ref went up with the first run (README, Stale hosts); another host reads it over ssh.
    const alive = sh('git', ['--git-dir', fleet.bare, 'rev-parse', 'refs/gitfleet/alive/testhost']).trim();
    const reader = ['ps', '--all-hosts', '--json', '--host', 'reader', '--state-dir', path.join(fleet.dir, 'r')];
    const read = await gitfleet(url, reader, env);
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout).reconcilers).toEqual([
      expect.objectContaining({ name: 'reader', state: 'unknown' }),
      expect.objectContaining({ name: 'testhost', state: 'alive', intervalSeconds: 300 }),
    ]);
    expect(sh('git', ['--git-dir', fleet.bare, 'rev-parse', 'refs/gitfleet/alive/testhost']).trim()).toBe(alive);

    // A change pushed by an operator is fetched and applied over ssh.
    fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    expect((await gitfleet(url, ['apply'], env)).code).toBe(0);
    expect(fleet.panes().has('beta')).toBe(true);
    sh('git', ['--git-dir', fleet.bare, 'fsck', '--strict']);

    // No known_hosts: refused before connecting (never trust on first use).
    const none = await gitfleet(url, ['plan'], { GITFLEET_SSH_KEY: sshd.clientKey, GITFLEET_SSH_KNOWN_HOSTS: '' });
    expect(none.code).toBe(64);
    expect(none.stderr).toContain('needs GITFLEET_SSH_KNOWN_HOSTS');
    expect(none.stderr).toContain('never trusts a host key on first use');
    // A known_hosts without this server's key: a clear error, not a prompt.
    const other = path.join(fleet.dir, 'other_known_hosts');
    writeFileSync(other, '');
    const unknown = await gitfleet(url, ['plan'], { ...env, GITFLEET_SSH_KNOWN_HOSTS: other });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("the server's host key is not in GITFLEET_SSH_KNOWN_HOSTS");
    // The server gone: a transient error, retried, then said plainly.
    sshd.stop();
    await new Promise((r) => setTimeout(r, 300));
    const down = await gitfleet(url, ['plan'], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/reading the branch heads of ssh:\/\/.*connection refused.*\(2 attempts\)/i);
  }, 180_000);
});
