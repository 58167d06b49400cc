// gitfleet install with a remote --repo: against a real git http-backend
// (test/helpers/git-server.ts; over real TLS with a throwaway CA, or plain
// http on loopback) and a real, private `systemd --user` (test/helpers/
// systemd.ts). The units carry the URL and the paths the run needs, never the
// token; systemd runs them for real. install runs as a child process of the
// built dist/cli.js, so node reads NODE_EXTRA_CA_CERTS at its start as it
// would for an operator.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { filesUnder, roster, sh, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { TestSshd } from '../helpers/sshd.js';
import { UserManager } from '../helpers/systemd.js';
import { makeCa, makeServerCert } from '../helpers/tls.js';

usePrivateTmux();

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const TOKEN = 'tok-install-3b7d1f9e5a2c8406-secret';
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const hostname = os.hostname().split('.')[0]!;
const agent = (name: string) => `  - name: ${name}\n    runtime: stub\n`;

let fleet: TestFleet;
let server: GitHttpServer | null = null;
let manager: UserManager | null = null;
let sshd: TestSshd | null = null;
afterEach(async () => {
  sshd?.stop();
  sshd = null;
  fleet?.cleanup(); // tmux servers first: they may live in a unit's control group
  await manager?.stop();
  manager = null;
  await server?.stop();
  server = null;
});

function setUp(): { tokenFile: string } {
  fleet = new TestFleet();
  sh('git', ['--git-dir', fleet.bare, 'config', 'http.receivepack', 'true']);
  fleet.commit({ 'fleet.yaml': 'fleet: forge\n', 'rosters/team.yaml': roster(fleet.socket, agent('alpha')) });
  const tokenFile = path.join(fleet.dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  return { tokenFile };
}

async function startManager(): Promise<UserManager> {
  manager = new UserManager();
  Object.assign(manager.env, { LANG: 'C.UTF-8' });
  for (const k of ['GITFLEET_GIT_TOKEN', 'GITFLEET_GIT_TOKEN_FILE', 'NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'])
    delete manager.env[k];
  await manager.start();
  return manager;
}

/** The built CLI in a new node process (its env decides what node trusts); stdout and stderr together. */
function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

/** Neither the token nor its basic-auth form in any of these texts or files. */
function expectNoToken(texts: string[], files: string[]): void {
  for (const t of [...texts, ...files.map((f) => readFileSync(f).toString('latin1'))]) {
    expect(t).not.toContain(TOKEN);
    expect(t).not.toContain(BASIC);
  }
}

const journal = (m: UserManager) =>
  spawnSync('journalctl', ['--user', '--no-pager'], { env: m.env, encoding: 'utf8' }).stdout ?? '';

const statusOf = () => JSON.parse(fleet.show(`gitfleet-status:status/${hostname}.json`));

describe('gitfleet install with a remote repository', { timeout: 300_000 }, () => {
  it('https with a private CA: the timer units carry the URL, token file and CA, not the token; they run', async () => {
    const { tokenFile } = setUp();
    const tls = path.join(fleet.dir, 'tls');
    mkdirSync(tls);
    const ca = makeCa(tls);
    server = new GitHttpServer(fleet.dir, TOKEN, makeServerCert(tls, ca, 'server', ['127.0.0.1']));
    await server.start();
    const url = server.url('fleet.git');
    const m = await startManager();
    const env = { ...m.env, NODE_EXTRA_CA_CERTS: ca.cert, GITFLEET_GIT_TIMEOUT: '20' };
    const args = ['install', '--repo', url, '--state-dir', fleet.stateDir, '--git-token-file', tokenFile];
    const r = await cli(env, ...args);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('systemctl --user enable --now gitfleet-reconcile-forge.timer');

    const unit = readFileSync(path.join(m.unitDir, 'gitfleet-reconcile-forge.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${CLI} apply --repo ${url} --state-dir ${fleet.stateDir}\n`);
    expect(unit).toContain(`Environment="GITFLEET_GIT_TOKEN_FILE=${tokenFile}"\n`);
    expect(unit).toContain(`Environment="NODE_EXTRA_CA_CERTS=${ca.cert}"\n`);
    expect(unit).toContain('Environment="GITFLEET_GIT_TIMEOUT=20"\n');
    const units = readdirSync(m.unitDir)
      .filter((f) => f.startsWith('gitfleet-'))
      .map((f) => path.join(m.unitDir, f));
    const v = m.verify(...units);
    expect(v.err + v.out).toBe('');
    expect(v.code).toBe(0);

    // systemd runs it: the oneshot fetches over TLS, converges and pushes its status to the remote. Not waited for
    // by `systemctl start`, whose client gives up after 30 s on a loaded machine.
    const service = 'gitfleet-reconcile-forge.service';
    expect(m.systemctl('start', '--no-block', service).code).toBe(0);
    const converged = () => {
      try {
        return statusOf().converged === true;
      } catch {
        return false;
      }
    };
    await waitFor(converged, 120_000);
    await waitFor(() => m.show(service, 'ActiveState').ActiveState !== 'activating', 90_000);
    expect(m.show(service, 'Result', 'ExecMainStatus')).toEqual({ Result: 'success', ExecMainStatus: '0' });
    expect(fleet.tmux('has-session', '-t', '=alpha').code).toBe(0);
    expect(statusOf()).toMatchObject({ converged: true, desiredRevision: fleet.headOf('main') });

    // Again: nothing changes.
    const again = await cli(env, ...args);
    expect(again.out).toContain('Nothing to do');
    // uninstall finds the units by the URL their ExecStart runs.
    const u = await cli(env, 'uninstall', '--repo', url);
    expect(u.code, u.out).toBe(0);
    expect(u.out).toContain('Uninstalled gitfleet-reconcile-forge.timer');
    const log = journal(m);
    expectNoToken([r.out, again.out, u.out, log], [...units.filter(existsSync), ...filesUnder(fleet.stateDir)]);
  });

  it('install --daemon: gitfleet-run-<fleet>.service polls the remote, converges merges, pushes status', async () => {
    const { tokenFile } = setUp();
    server = new GitHttpServer(fleet.dir, TOKEN);
    await server.start();
    const url = server.url('fleet.git');
    const m = await startManager();
    const env = { ...m.env, GITFLEET_GIT_TOKEN_FILE: tokenFile, GITFLEET_POLL_INTERVAL: '1' };
    const r = await cli(env, 'install', '--daemon', '--repo', url, '--state-dir', fleet.stateDir);
    expect(r.code, r.out).toBe(0);
    const unit = path.join(m.unitDir, 'gitfleet-run-forge.service');
    const content = readFileSync(unit, 'utf8');
    expect(content).toContain(`ExecStart=${process.execPath} ${CLI} run --repo ${url} --state-dir ${fleet.stateDir}\n`);
    expect(content).toContain(`Environment="GITFLEET_GIT_TOKEN_FILE=${tokenFile}"`);
    expect(content).toContain('Environment="GITFLEET_POLL_INTERVAL=1"');
    expect(m.verify(unit).code).toBe(0);
    expect(m.show('gitfleet-run-forge.service', 'ActiveState').ActiveState).toBe('active');

    await waitFor(() => fleet.tmux('has-session', '-t', '=alpha').code === 0, 90_000);
    fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    await waitFor(() => fleet.tmux('has-session', '-t', '=beta').code === 0, 90_000);
    const agents = () => {
      try {
        return statusOf().agents.map((a: { name: string }) => a.name);
      } catch {
        return [];
      }
    };
    await waitFor(() => agents().includes('beta'), 90_000);

    const u = await cli(env, 'uninstall', '--daemon', '--repo', url);
    expect(u.code, u.out).toBe(0);
    expect(existsSync(unit)).toBe(false);
    const log = journal(m);
    expectNoToken([r.out, u.out, log], filesUnder(fleet.stateDir));
  });

  it('cron: the crontab line carries the settings, not the token, and really reconciles', async () => {
    const { tokenFile } = setUp();
    server = new GitHttpServer(fleet.dir, TOKEN);
    await server.start();
    const url = server.url('fleet.git');
    const base = path.join(fleet.dir, 'nosd');
    mkdirSync(path.join(base, 'run'), { recursive: true, mode: 0o700 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_CONFIG_HOME: path.join(base, 'config'),
      XDG_RUNTIME_DIR: path.join(base, 'run'),
      DBUS_SESSION_BUS_ADDRESS: '',
      GITFLEET_GIT_TOKEN_FILE: tokenFile,
    };
    delete env.GITFLEET_GIT_TOKEN;
    const r = await cli(env, 'install', '--repo', url, '--state-dir', fleet.stateDir, '--every', '10min');
    expect(r.code).toBe(1);
    expect(r.out).toContain('cannot reach the systemd user manager');
    const line = r.out.split('\n').find((l) => l.startsWith('*/10 * * * * '))!;
    expect(line).toContain(` GITFLEET_GIT_TOKEN_FILE=${tokenFile} `);
    expect(line).toContain(` apply --repo ${url} --state-dir ${fleet.stateDir} `);
    expectNoToken([r.out], []);
    // Run as cron would (no GITFLEET_* in its environment): converged, status pushed.
    const cronEnv = { HOME: os.homedir(), LOGNAME: os.userInfo().username, SHELL: '/bin/sh', PATH: '/usr/bin:/bin' };
    const run = await new Promise<number | null>((resolve) =>
      spawn('/bin/sh', ['-c', line.replace(/^(\S+ ){5}/, '')], { env: cronEnv, stdio: 'ignore' }).on('close', resolve),
    );
    expect(run, readFileSync(path.join(fleet.stateDir, 'cron.log'), 'utf8')).toBe(0);
    expect(fleet.tmux('has-session', '-t', '=alpha').code).toBe(0);
    expect(statusOf()).toMatchObject({ converged: true });
    expectNoToken([], filesUnder(fleet.stateDir));
  });

  it('a token only in the environment, a readable token file, a remote not reached: nothing written', async () => {
    const { tokenFile } = setUp();
    server = new GitHttpServer(fleet.dir, TOKEN);
    await server.start();
    const url = server.url('fleet.git');
    const base = path.join(fleet.dir, 'home');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_CONFIG_HOME: path.join(base, 'config'),
      XDG_RUNTIME_DIR: '/nonexistent',
      GITFLEET_GIT_TIMEOUT: '2',
      GITFLEET_GIT_ATTEMPTS: '1',
    };
    delete env.GITFLEET_GIT_TOKEN_FILE;
    const scratch = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith('gitfleet-install-'));
    const scratchBefore = scratch();
    const install = (e: NodeJS.ProcessEnv, ...more: string[]) =>
      cli(e, 'install', '--repo', url, '--state-dir', fleet.stateDir, ...more);

    const envOnly = await install({ ...env, GITFLEET_GIT_TOKEN: TOKEN });
    expect(envOnly.code).toBe(64);
    expect(envOnly.out).toContain('the token is only in GITFLEET_GIT_TOKEN');
    expect(envOnly.out).toContain('install --git-token-file');
    expect(server.connections).toBe(0); // refused before any network
    const daemon = await install({ ...env, GITFLEET_GIT_TOKEN: TOKEN }, '--daemon');
    expect(daemon.code).toBe(64);

    chmodSync(tokenFile, 0o640);
    const readable = await install(env, '--git-token-file', tokenFile);
    expect(readable.code).toBe(1);
    expect(readable.out).toContain('is readable by group or others (mode 640)');
    chmodSync(tokenFile, 0o600);

    const wrong = path.join(fleet.dir, 'wrong-token');
    writeFileSync(wrong, 'not-the-token\n', { mode: 0o600 });
    const refused = await install(env, '--git-token-file', wrong);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`cannot read the fleet from ${url}: reading the branch heads of ${url}`);
    expect(refused.out).toContain('authentication failed (HTTP 401)');

    await server.stop();
    const down = await install(env, '--git-token-file', tokenFile, '--name', 'named');
    expect(down.code).toBe(1);
    expect(down.out).toContain(`cannot read the fleet from ${url}`);
    expect(down.out).toContain('ECONNREFUSED');
    expect(down.out).toContain('Nothing was written');
    server = null;

    expect(existsSync(base)).toBe(false);
    expect(scratch()).toEqual(scratchBefore); // the throwaway clones are gone too
    expect(existsSync(fleet.stateDir)).toBe(false);
    expectNoToken([envOnly.out, daemon.out, readable.out, refused.out, down.out], []);
  });

  it('ssh: the fleet named over ssh; the unit carries the key and known_hosts (--dry-run writes nothing)', async () => {
    setUp();
    sshd = new TestSshd(path.join(fleet.dir, 'sshd'));
    await sshd.start();
    const url = sshd.url(fleet.bare);
    const base = path.join(fleet.dir, 'home');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_CONFIG_HOME: path.join(base, 'config'),
      GITFLEET_SSH_KEY: sshd.clientKey,
      GITFLEET_SSH_KNOWN_HOSTS: sshd.knownHosts,
    };
    const r = await cli(
      env,
      'install',
      '--daemon',
      '--repo',
      url,
      '--state-dir',
      fleet.stateDir,
      '--dry-run',
      '--json',
    );
    expect(r.code, r.out).toBe(0);
    const [unit] = JSON.parse(r.out).files;
    expect(unit.name).toBe('gitfleet-run-forge.service');
    expect(unit.content).toContain(` run --repo ${url} --state-dir ${fleet.stateDir}\n`);
    expect(unit.content).toContain(`Environment="GITFLEET_SSH_KEY=${sshd.clientKey}"\n`);
    expect(unit.content).toContain(`Environment="GITFLEET_SSH_KNOWN_HOSTS=${sshd.knownHosts}"\n`);
    expect(existsSync(base)).toBe(false);
    expect(existsSync(fleet.stateDir)).toBe(false);
    // Without known_hosts: refused before any connection (no trust on first use), nothing written.
    const before = await sshd.accepted();
    const none = await cli({ ...env, GITFLEET_SSH_KNOWN_HOSTS: '' }, 'install', '--repo', url);
    expect(none.code).toBe(64);
    expect(none.out).toContain('needs GITFLEET_SSH_KNOWN_HOSTS');
    expect(await sshd.accepted()).toBe(before);
    expect(existsSync(base)).toBe(false);
  });
});
