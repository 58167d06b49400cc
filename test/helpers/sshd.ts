// A real OpenSSH server for tests: Debian's /usr/sbin/sshd on 127.0.0.1 and a
// free port, with a host key and a client key made here by ssh-keygen, run as
// the current user and stopped by its PID. Clients get a known_hosts file
// holding the host key, written the way an operator would after checking it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sh } from './fleet.js';

export class TestSshd {
  readonly clientKey: string;
  readonly knownHosts: string;
  port = 0;
  private child: ChildProcess | null = null;
  private log = '';

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.clientKey = path.join(dir, 'client_key');
    this.knownHosts = path.join(dir, 'known_hosts');
  }

  async start(): Promise<void> {
    const hostKey = path.join(this.dir, 'host_key');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', this.clientKey]);
    writeFileSync(path.join(this.dir, 'authorized_keys'), readFileSync(`${this.clientKey}.pub`));
    this.port = await freePort();
    const user = os.userInfo().username;
    const config = [
      `Port ${this.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}`,
      `AllowUsers ${user}`,
      user === 'root' ? 'PermitRootLogin yes' : 'PermitRootLogin no',
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // bash run by sshd with SHLVL < 2 sources ~/.bashrc, whose hooks (pyenv's rehash lock, seen here) can hang a
      // session; with SHLVL=1 it does not, so the test measures gitfleet and git, not the account's shell setup.
      'SetEnv SHLVL=1',
      'LogLevel INFO',
    ].join('\n');
    const cfg = path.join(this.dir, 'sshd_config');
    writeFileSync(cfg, `${config}\n`);
    // sshd wants its privilege-separation directory even when it needs no separation.
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(this.knownHosts, `[127.0.0.1]:${this.port} ${hostPub}\n`);
    await waitForPort(this.port, () => this.log);
  }

  /**
   * Connections sshd accepted so far (each git ls-remote, fetch or push is one), once its log stopped
   * growing for a moment: each connection's sshd writes its line on its own time.
   */
  async accepted(): Promise<number> {
    let last = -1;
    for (;;) {
      const n = this.log.split('\n').filter((l) => l.includes('Accepted publickey')).length;
      if (n === last) return n;
      last = n;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  url(repoPath: string): string {
    return `ssh://${os.userInfo().username}@127.0.0.1:${this.port}${repoPath}`;
  }

  stop(): void {
    if (this.child?.pid && this.child.exitCode === null) process.kill(this.child.pid, 'SIGTERM');
    this.child = null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, log: () => string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`sshd did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
