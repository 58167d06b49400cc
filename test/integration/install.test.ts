// gitfleet install / uninstall against a real, private `systemd --user`
// manager (test/helpers/systemd.ts): units written, verified by
// systemd-analyze, the timer enabled and active, the service really running
// the built gitfleet against a test repository on a private tmux socket.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { CLI_PATH } from '../../src/cli/cli-path.js';
import { reconcilerFiles } from '../../src/install/units.js';
import { roster, sh, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';
import { UserManager } from '../helpers/systemd.js';

const privateTmux = usePrivateTmux();

let fleets: TestFleet[] = [];
let manager: UserManager | null = null;
const temps: string[] = [];
afterEach(async () => {
  // tmux servers first (they may live in a unit's control group), then the manager.
  for (const f of fleets) f.cleanup();
  fleets = [];
  await manager?.stop();
  manager = null;
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

/**
 * A fleet in a repository whose folder is `folder`.git, named `fleet` in fleet.yaml (null: no fleet.yaml, so
 * `fleet-<root commit>`). The folder and the name differ on purpose: the units are named after the fleet.
 */
function newFleet(folder = 'checkout', fleet: string | null = 'fleet'): TestFleet {
  const f = new TestFleet(folder);
  fleets.push(f);
  f.commit({
    'rosters/team.yaml': roster(f.socket, '  - name: alpha\n    runtime: stub\n'),
    ...(fleet !== null ? { 'fleet.yaml': `fleet: ${fleet}\n` } : {}),
  });
  return f;
}

/** The name a fleet without fleet.yaml has: from its root commit, whatever its folder. */
const defaultFleetName = (f: TestFleet) =>
  `fleet-${sh('git', ['--git-dir', f.bare, 'rev-list', '--max-parents=0', 'main']).trim().slice(0, 8)}`;

/** A UTF-8 locale whatever the runner has: install passes LANG on to the units. */
const LANG = 'C.UTF-8';

async function startManager(): Promise<UserManager> {
  manager = new UserManager(); // its environment carries this file's TMUX_TMPDIR
  Object.assign(manager.env, { LANG });
  await manager.start();
  return manager;
}

async function gitfleet(env: NodeJS.ProcessEnv, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  return { code, stdout, stderr };
}

const hostname = os.hostname().split('.')[0]!;

/** Start the reconcile service; when it fails, say why (the status it committed names the conditions). */
function expectRun(m: UserManager, service: string, fleet: TestFleet): void {
  const r = m.systemctl('start', service);
  if (r.code !== 0) {
    let status = '(no status committed)';
    try {
      status = fleet.show(`main:status/${hostname}.md`);
    } catch {
      /* none */
    }
    expect.fail(
      `${service} failed: ${r.err.trim()} ${JSON.stringify(m.show(service, 'Result', 'ExecMainStatus'))}\n${status}`,
    );
  }
}

describe('gitfleet install', () => {
  it('writes the units, enables and starts the timer; a second install changes nothing', async () => {
    const m = await startManager();
    const fleet = newFleet();
    const args = ['install', '--repo', fleet.bare, '--state-dir', fleet.stateDir, '--every', '2min'];
    const first = await gitfleet(m.env, ...args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('systemctl --user daemon-reload');
    expect(first.stdout).toContain('systemctl --user enable --now gitfleet-reconcile-fleet.timer');

    const service = path.join(m.unitDir, 'gitfleet-reconcile-fleet.service');
    const timer = path.join(m.unitDir, 'gitfleet-reconcile-fleet.timer');
    expect(
      readdirSync(m.unitDir)
        .filter((f) => f.startsWith('gitfleet'))
        .sort(),
    ).toEqual(['gitfleet-reconcile-fleet.service', 'gitfleet-reconcile-fleet.timer']);
    const unit = readFileSync(service, 'utf8');
    expect(unit).toContain(
      `ExecStart=${process.execPath} ${CLI_PATH} apply --repo ${fleet.bare} --state-dir ${fleet.stateDir}\n`,
    );
    expect(unit).toContain(`Environment="PATH=${process.env.PATH}"`);
    expect(unit).toContain(`Environment="TMUX_TMPDIR=${privateTmux.dir}"`);
    expect(readFileSync(timer, 'utf8')).toContain('OnCalendar=*-*-* *:00/2:00\n');

    expect(m.show('gitfleet-reconcile-fleet.timer', 'UnitFileState', 'ActiveState', 'LoadState')).toEqual({
      UnitFileState: 'enabled',
      ActiveState: 'active',
      LoadState: 'loaded',
    });
    expect(m.show('gitfleet-reconcile-fleet.service', 'LoadState', 'Type', 'KillMode')).toEqual({
      LoadState: 'loaded',
      Type: 'oneshot',
      KillMode: 'process',
    });
    expect(m.systemctl('list-timers', '--all', '--no-legend').out).toContain('gitfleet-reconcile-fleet.timer');
    expect(existsSync(path.join(m.unitDir, 'timers.target.wants', 'gitfleet-reconcile-fleet.timer'))).toBe(true);

    // Idempotent: same files, no reload, no enable; it says so.
    const before = [readFileSync(service, 'utf8'), readFileSync(timer, 'utf8')];
    const second = await gitfleet(m.env, ...args, '--json');
    expect(second.code).toBe(0);
    const r = JSON.parse(second.stdout);
    expect(r).toMatchObject({ formatVersion: 1, name: 'fleet', changed: false, dryRun: false, every: '2min' });
    expect(r.files.map((f: { action: string }) => f.action)).toEqual(['unchanged', 'unchanged']);
    expect(r.systemctl).toEqual(['show gitfleet-reconcile-fleet.timer -p UnitFileState -p ActiveState']);
    expect((await gitfleet(m.env, ...args)).stdout).toContain(
      'Nothing to do: gitfleet-reconcile-fleet.timer is installed, enabled and active (every 2min).',
    );
    expect([readFileSync(service, 'utf8'), readFileSync(timer, 'utf8')]).toEqual(before);

    // A new interval rewrites the timer, and in the service the interval apply announces (GITFLEET_RUN_EVERY,
    // README: Stale hosts); only the timer restarts.
    const third = JSON.parse((await gitfleet(m.env, ...args.slice(0, -1), '1h', '--json')).stdout);
    expect(third.files.map((f: { action: string }) => f.action)).toEqual(['updated', 'updated']);
    expect(readFileSync(service, 'utf8')).toBe(
      before[0]!.replace('Environment="GITFLEET_RUN_EVERY=120"', 'Environment="GITFLEET_RUN_EVERY=3600"'),
    );
    expect(third.systemctl).toEqual([
      'daemon-reload',
      'show gitfleet-reconcile-fleet.timer -p UnitFileState -p ActiveState',
      'restart gitfleet-reconcile-fleet.timer',
    ]);
    expect(m.show('gitfleet-reconcile-fleet.timer', 'ActiveState', 'TimersCalendar').TimersCalendar).toContain(
      'OnCalendar=*-*-* *:00:00',
    );
  });

  it('two fleets of one user get their own units', async () => {
    const m = await startManager();
    const a = newFleet('fleet', 'alpha');
    const b = newFleet('fleet', 'beta');
    expect((await gitfleet(m.env, 'install', '--repo', a.bare)).code).toBe(0);
    expect((await gitfleet(m.env, 'install', '--repo', b.bare)).code).toBe(0);
    expect((await gitfleet(m.env, 'install', '--repo', b.bare, '--name', 'beta-2')).code).toBe(0);
    expect(
      readdirSync(m.unitDir)
        .filter((f) => f.endsWith('.timer'))
        .sort(),
    ).toEqual(['gitfleet-reconcile-alpha.timer', 'gitfleet-reconcile-beta-2.timer', 'gitfleet-reconcile-beta.timer']);
    for (const n of ['alpha', 'beta', 'beta-2'])
      expect(m.show(`gitfleet-reconcile-${n}.timer`, 'ActiveState').ActiveState).toBe('active');
  });

  it('units are named after the fleet, never the folder; a name two repositories share is not taken over', async () => {
    const m = await startManager();
    const prod = newFleet('prod', 'shared');
    const staging = newFleet('staging', 'shared');
    const unnamed = newFleet('fleet', null);
    const timers = () =>
      readdirSync(m.unitDir)
        .filter((f) => f.endsWith('.timer'))
        .sort();
    expect((await gitfleet(m.env, 'install', '--repo', prod.bare)).code).toBe(0);
    expect(timers()).toEqual(['gitfleet-reconcile-shared.timer']);

    // Another repository whose fleet has the same name: refused, the first fleet's units untouched.
    const service = path.join(m.unitDir, 'gitfleet-reconcile-shared.service');
    const before = readFileSync(service, 'utf8');
    const clash = await gitfleet(m.env, 'install', '--repo', staging.bare);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(`${service} reconciles another repository`);
    expect(clash.stderr).toContain('--name');
    expect(clash.stderr).toContain(
      'if this is that fleet moved, remove the old units first: gitfleet uninstall --name shared',
    );
    expect(readFileSync(service, 'utf8')).toBe(before);
    expect((await gitfleet(m.env, 'install', '--repo', staging.bare, '--name', 'shared-staging')).code).toBe(0);

    // No fleet.yaml: the fleet's default name, from its root commit (the folder is called fleet).
    expect((await gitfleet(m.env, 'install', '--repo', unnamed.bare)).code).toBe(0);
    const unnamedTimer = `gitfleet-reconcile-${defaultFleetName(unnamed)}.timer`;
    expect(timers()).toEqual(
      [unnamedTimer, 'gitfleet-reconcile-shared-staging.timer', 'gitfleet-reconcile-shared.timer'].sort(),
    );

    // uninstall finds the units that run the repository: installed with --name, ...
    const u1 = JSON.parse((await gitfleet(m.env, 'uninstall', '--repo', staging.bare, '--json')).stdout);
    expect(u1).toMatchObject({ name: 'shared-staging', changed: true });
    // ... after the fleet was renamed in fleet.yaml, ...
    prod.commit({ 'fleet.yaml': 'fleet: renamed\n' });
    const u2 = JSON.parse((await gitfleet(m.env, 'uninstall', '--repo', prod.bare, '--json')).stdout);
    expect(u2).toMatchObject({ name: 'shared', changed: true });
    // ... and after the repository is gone.
    rmSync(unnamed.bare, { recursive: true, force: true });
    const u3 = await gitfleet(m.env, 'uninstall', '--repo', unnamed.bare);
    expect(u3.stderr).toBe('');
    expect(u3.code).toBe(0);
    expect(timers()).toEqual([]);
    // Nothing runs a gone repository any more: say to name the units.
    const u4 = await gitfleet(m.env, 'uninstall', '--repo', unnamed.bare);
    expect(u4.code).toBe(1);
    expect(u4.stderr).toContain('--name');
  }, 120_000); // seven installs and uninstalls against a manager: slow on a loaded machine

  it('--dry-run prints the files and touches nothing, not even systemd', async () => {
    const fleet = newFleet();
    const base = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-dry-'));
    temps.push(base);
    // No manager runs for this environment: a dry run must not need one.
    const env = {
      ...process.env,
      XDG_CONFIG_HOME: path.join(base, 'config'),
      XDG_RUNTIME_DIR: path.join(base, 'run'),
      DBUS_SESSION_BUS_ADDRESS: '',
    };
    const r = await gitfleet(env, 'install', '--repo', fleet.bare, '--dry-run');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `# ${path.join(base, 'config', 'systemd', 'user', 'gitfleet-reconcile-fleet.service')}\n`,
    );
    expect(r.stdout).toContain('[Timer]');
    expect(r.stdout).toContain('would be created');
    expect(r.stdout).toMatch(
      /\n\*\/5 \* \* \* \* mkdir -p -m 700 \S+ && PATH=\S+ .* apply --repo \S+ --state-dir \S+ >>\S+\/cron\.log 2>&1\n/,
    );
    expect(existsSync(path.join(base, 'config'))).toBe(false);
    const json = JSON.parse((await gitfleet(env, 'install', '--repo', fleet.bare, '--dry-run', '--json')).stdout);
    expect(json).toMatchObject({ dryRun: true, systemctl: [] });
    expect(json.files.map((f: { action: string }) => f.action)).toEqual(['created', 'created']);
    expect(existsSync(path.join(base, 'config'))).toBe(false);
  });

  it('every generated unit passes systemd-analyze verify, with paths that need quoting', async () => {
    const m = await startManager();
    const fleet = newFleet('my fleet $HOME 100%', null);
    const r = await gitfleet(
      m.env,
      'install',
      '--repo',
      fleet.bare,
      '--state-dir',
      path.join(fleet.dir, 'state dir'),
      '--branch',
      'main',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const service = `gitfleet-reconcile-${defaultFleetName(fleet)}.service`;
    const installed = readdirSync(m.unitDir).filter((f) => f.startsWith('gitfleet-reconcile-'));
    expect(installed.sort()).toEqual([service, service.replace('.service', '.timer')]);
    const v = m.verify(...installed.map((f) => path.join(m.unitDir, f)));
    expect(v.err + v.out).toBe('');
    expect(v.code).toBe(0);
    // systemd hands gitfleet exactly the argv meant: the run finds the repository and the state dir.
    expect(m.show(service, 'Environment').Environment).toContain(`TMUX_TMPDIR=${privateTmux.dir}`);
    expectRun(m, service, fleet);
    expect(m.show(service, 'Result', 'ExecMainStatus')).toEqual({ Result: 'success', ExecMainStatus: '0' });
    expect(existsSync(path.join(fleet.dir, 'state dir'))).toBe(true);
    // The fleet's name comes from fleet.yaml or the repository's root commit, never its folder.
    expect(fleet.panes().get('alpha')).toMatchObject({
      dead: false,
      fleet: expect.stringMatching(/^fleet-[0-9a-f]{8}$/),
    });

    // The daemon unit, for the same values, verifies too.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-units-'));
    temps.push(dir);
    const files = reconcilerFiles({
      node: process.execPath,
      cli: CLI_PATH,
      repo: fleet.bare,
      every: '15min',
      name: 'x',
      path: process.env.PATH!,
      lang: LANG,
      tmuxTmpdir: privateTmux.dir,
      stateDir: fleet.stateDir,
    });
    for (const f of files) writeFileSync(path.join(dir, f.name), f.content);
    const units = files.filter((f) => /\.(service|timer)$/.test(f.name)).map((f) => path.join(dir, f.name));
    expect(units).toHaveLength(3);
    const all = m.verify(...units);
    expect(all.err + all.out).toBe('');
    expect(all.code).toBe(0);
  });

  it('the installed service runs the built gitfleet apply: converged, session up, status committed', async () => {
    const m = await startManager();
    const fleet = newFleet('fleet one', 'fleet-one');
    const head = fleet.headOf('main');
    expect((await gitfleet(m.env, 'install', '--repo', fleet.bare, '--state-dir', fleet.stateDir)).code).toBe(0);
    const service = 'gitfleet-reconcile-fleet-one.service';

    const start = m.systemctl('start', service); // a oneshot: returns when the run is over
    expect(start.err).toBe('');
    expect(start.code).toBe(0);
    expect(m.show(service, 'Result', 'ExecMainStatus', 'ActiveState')).toEqual({
      Result: 'success',
      ExecMainStatus: '0',
      ActiveState: 'inactive',
    });

    // The session outlived the run (KillMode=process), on the test's private socket.
    expect(fleet.tmux('has-session', '-t', '=alpha').code).toBe(0);
    expect(fleet.panes().get('alpha')).toMatchObject({
      dead: false,
      cmd: 'cat',
      fleet: JSON.parse(fleet.show(`main:status/${hostname}.json`)).fleet,
    });
    const newHead = fleet.headOf('main');
    expect(newHead).not.toBe(head);
    expect(sh('git', ['--git-dir', fleet.bare, 'log', '-1', '--format=%an|%s', 'main']).trim()).toMatch(
      new RegExp(`^gitfleet\\|gitfleet\\(${hostname}\\): .*\\[skip ci\\]$`),
    );
    expect(JSON.parse(fleet.show(`main:status/${hostname}.json`))).toMatchObject({
      converged: true,
      desiredRevision: head,
    });

    // A converged fleet: the next run succeeds and commits nothing.
    expect(m.systemctl('start', service).code).toBe(0);
    expect(m.show(service, 'Result', 'ExecMainStatus')).toEqual({ Result: 'success', ExecMainStatus: '0' });
    expect(fleet.headOf('main')).toBe(newHead);
  });

  it('install --daemon: the run service replaces the timer and reconciles merges; uninstall --daemon', async () => {
    const m = await startManager();
    const fleet = newFleet();
    const args = ['--repo', fleet.bare, '--state-dir', fleet.stateDir];
    expect((await gitfleet(m.env, 'install', ...args)).code).toBe(0); // the timer first: the daemon replaces it
    const r = await gitfleet(m.env, 'install', '--daemon', ...args, '--log-format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const daemon = 'gitfleet-run-fleet.service';
    expect(r.stdout).toContain(`Installed: ${daemon} runs gitfleet run`);
    expect(m.show('gitfleet-reconcile-fleet.timer', 'UnitFileState', 'ActiveState')).toEqual({
      UnitFileState: 'disabled',
      ActiveState: 'inactive',
    });
    expect(m.show(daemon, 'UnitFileState', 'ActiveState')).toEqual({ UnitFileState: 'enabled', ActiveState: 'active' });
    const converged = () => fleet.tmux('has-session', '-t', '=alpha').code === 0;
    await waitFor(converged, 20_000);
    // A merge reaches the running daemon.
    fleet.commit({
      'rosters/team.yaml': roster(
        fleet.socket,
        '  - name: alpha\n    runtime: stub\n  - name: beta\n    runtime: stub\n',
      ),
    });
    await waitFor(() => fleet.tmux('has-session', '-t', '=beta').code === 0, 20_000);
    // ... and commits the status of it.
    const agents = () => {
      try {
        return JSON.parse(fleet.show(`main:status/${hostname}.json`)).agents.map((a: { name: string }) => a.name);
      } catch {
        return [];
      }
    };
    await waitFor(() => agents().includes('beta'), 20_000);
    const again = await gitfleet(m.env, 'install', '--daemon', ...args, '--log-format', 'json');
    expect(again.stdout).toContain('Nothing to do');

    const u = await gitfleet(m.env, 'uninstall', '--daemon', '--repo', fleet.bare);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain(`Uninstalled ${daemon}`);
    // SIGTERM from systemd: a clean exit (not failed), the agents stay.
    expect(m.show(daemon, 'LoadState')).toEqual({ LoadState: 'not-found' });
    expect(existsSync(path.join(m.unitDir, daemon))).toBe(false);
    expect(fleet.tmux('has-session', '-t', '=beta').code).toBe(0);
  }, 90_000);

  it('an invalid committed file fails the service (exit 1), though the rest is reconciled', async () => {
    const m = await startManager();
    const fleet = newFleet();
    // An invalid roster: apply reconciles the rest, and exits 1 so the failed unit shows it.
    fleet.commit({ 'rosters/bad.yaml': 'version: 1\nbogus: true\n' });
    expect((await gitfleet(m.env, 'install', '--repo', fleet.bare, '--state-dir', fleet.stateDir)).code).toBe(0);
    const service = 'gitfleet-reconcile-fleet.service';
    expect(m.systemctl('start', service).code).not.toBe(0);
    expect(m.show(service, 'Result', 'ExecMainStatus', 'ActiveState')).toEqual({
      Result: 'exit-code',
      ExecMainStatus: '1',
      ActiveState: 'failed',
    });
    expect(fleet.tmux('has-session', '-t', '=alpha').code).toBe(0);
  });

  it('uninstall stops and removes the units, leaves the agents running, and is idempotent', async () => {
    const m = await startManager();
    const fleet = newFleet();
    expect((await gitfleet(m.env, 'install', '--repo', fleet.bare, '--state-dir', fleet.stateDir)).code).toBe(0);
    expectRun(m, 'gitfleet-reconcile-fleet.service', fleet);
    expect(fleet.tmux('has-session', '-t', '=alpha').code).toBe(0);

    const dry = await gitfleet(m.env, 'uninstall', '--repo', fleet.bare, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would remove');
    expect(existsSync(path.join(m.unitDir, 'gitfleet-reconcile-fleet.timer'))).toBe(true);

    const r = await gitfleet(m.env, 'uninstall', '--repo', fleet.bare, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      changed: true,
      files: [{ action: 'removed' }, { action: 'removed' }],
    });
    expect(readdirSync(m.unitDir).filter((f) => f.startsWith('gitfleet-reconcile-'))).toEqual([]);
    expect(existsSync(path.join(m.unitDir, 'timers.target.wants', 'gitfleet-reconcile-fleet.timer'))).toBe(false);
    // The agents' own units (auto found the manager: supervisor systemd) are the fleet's, not the reconciler's:
    // they stay.
    expect(
      m.show(
        `gitfleet-${JSON.parse(fleet.show(`main:status/${hostname}.json`)).fleet}-agent@alpha.${fleet.socket}.service`,
        'ActiveState',
        'UnitFileState',
      ),
    ).toEqual({ ActiveState: 'active', UnitFileState: 'enabled' });
    expect(m.show('gitfleet-reconcile-fleet.timer', 'LoadState', 'ActiveState', 'UnitFileState')).toEqual({
      LoadState: 'not-found',
      ActiveState: 'inactive',
      UnitFileState: '',
    });
    expect(m.systemctl('list-timers', '--all', '--no-legend').out).not.toContain('gitfleet');
    expect(fleet.tmux('has-session', '-t', '=alpha').code).toBe(0);

    const again = await gitfleet(m.env, 'uninstall', '--repo', fleet.bare);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to uninstall');
  });

  it('cannot reach the user manager: exit 1, what to do, and the crontab line; nothing written', async () => {
    const fleet = newFleet();
    const base = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-nosd-'));
    temps.push(base);
    mkdirSync(path.join(base, 'run'), { mode: 0o700 });
    const env = {
      ...process.env,
      LANG,
      XDG_CONFIG_HOME: path.join(base, 'config'),
      XDG_RUNTIME_DIR: path.join(base, 'run'),
      DBUS_SESSION_BUS_ADDRESS: '',
    };
    const r = await gitfleet(env, 'install', '--repo', fleet.bare, '--every', '10min', '--state-dir', fleet.stateDir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the systemd user manager');
    expect(r.stderr).toContain('loginctl enable-linger');
    const line = r.stderr.split('\n').find((l) => l.startsWith('*/10 * * * * '));
    expect(line).toBe(
      `*/10 * * * * mkdir -p -m 700 ${fleet.stateDir} && PATH=${process.env.PATH} ` +
        `GITFLEET_RUN_EVERY=600 LANG=${LANG} ` +
        `TMUX_TMPDIR=${privateTmux.dir} ` +
        `${process.execPath} ${CLI_PATH} apply --repo ${fleet.bare} --state-dir ${fleet.stateDir} ` +
        `>>${fleet.stateDir}/cron.log 2>&1`,
    );
    const log = path.join(fleet.stateDir, 'cron.log');
    expect(r.stderr).toContain(`is appended to ${log} (apply keeps it under 1 MiB, the older part in cron.log.1)`);
    expect(existsSync(path.join(base, 'config'))).toBe(false);
    // The crontab line's command really reconciles (run by /bin/sh as cron would), and keeps what it printed.
    const cmd = line!.replace(/^(\S+ ){5}/, '');
    const cronEnv = { HOME: os.homedir(), LOGNAME: os.userInfo().username, SHELL: '/bin/sh', PATH: '/usr/bin:/bin' };
    const cron = () => spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', env: cronEnv });
    const first = cron();
    expect(first.stderr + first.stdout).toBe('');
    expect(first.status).toBe(0);
    expect(fleet.tmux('has-session', '-t', '=alpha').code).toBe(0);
    const applied = readFileSync(log, 'utf8');
    expect(applied).toContain('alpha');
    // A failing run's error lands in the log too (cron mail is rarely set up).
    fleet.commit({ 'rosters/bad.yaml': 'version: 1\nbogus: true\n' });
    expect(cron().status).toBe(1);
    const failed = readFileSync(log, 'utf8');
    expect(failed.startsWith(applied)).toBe(true);
    expect(failed.slice(applied.length)).toContain('rosters/bad.yaml');
    // Over 1 MiB, the run writing to it moves the log's tail to cron.log.1 and starts it afresh.
    writeFileSync(log, `${'old run output\n'.repeat(80_000)}last old line\n`);
    expect(cron().status).toBe(1);
    expect(readFileSync(`${log}.1`, 'utf8')).toMatch(/last old line\n$/);
    const fresh = readFileSync(log, 'utf8');
    expect(fresh).not.toContain('old run output');
    expect(fresh).toContain('rosters/bad.yaml');
  });

  it('usage errors exit 64 and say what is allowed', async () => {
    const fleet = newFleet();
    const env = { ...process.env, XDG_RUNTIME_DIR: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' };
    const every = await gitfleet(env, 'install', '--repo', fleet.bare, '--every', '7min');
    expect(every.code).toBe(64);
    expect(every.stderr).toContain(
      'allowed: 1min, 2min, 3min, 4min, 5min, 6min, 10min, 12min, 15min, 20min, 30min, 1h, 2h',
    );
    expect((await gitfleet(env, 'install', '--repo', fleet.bare, '--every', '30s')).stderr).toContain(
      'seconds are not supported',
    );
    expect((await gitfleet(env, 'install', '--repo', fleet.bare, '--name', 'a b')).code).toBe(64);
    expect((await gitfleet(env, 'uninstall', '--repo', fleet.bare, '--every', '5min')).code).toBe(64);
    const plan = await gitfleet(env, 'plan', '--repo', fleet.bare, '--dry-run');
    expect(plan.code).toBe(64);
    expect(plan.stderr).toContain('--dry-run is an option of install and uninstall only');
    // A remote repository: refused before any network when the units could not get its token without the
    // secret in them (install-remote.test.ts has the rest).
    const remote = await gitfleet(
      { ...env, GITFLEET_GIT_TOKEN: 'tok-usage-9d1e' },
      'install',
      '--repo',
      'https://forge.example/fleet.git',
    );
    expect(remote.code).toBe(64);
    expect(remote.stderr).toContain('the token is only in GITFLEET_GIT_TOKEN');
    expect(remote.stderr).not.toContain('tok-usage-9d1e');
    // (The message names GITFLEET_GIT_TOKEN as where a token goes: the secret is a word it does not use.)
    const creds = await gitfleet(env, 'install', '--repo', 'https://user:s3cr3t-pw@forge.example/fleet.git');
    expect(creds.code).toBe(64);
    expect(creds.stderr).toContain('the URL has credentials in it');
    expect(creds.stderr).not.toContain('s3cr3t-pw');
    expect(creds.stderr).not.toContain('user:');
    // No unit runs it, so uninstall would read the fleet's name from it: ssh without known_hosts is refused first.
    const sshRemote = await gitfleet(
      { ...env, GITFLEET_SSH_KNOWN_HOSTS: '' },
      'uninstall',
      '--repo',
      'git@forge.example:fleet.git',
    );
    expect(sshRemote.code).toBe(64);
    expect(sshRemote.stderr).toContain('needs GITFLEET_SSH_KNOWN_HOSTS');
    expect((await gitfleet(env, 'install', '--repo', path.join(fleet.dir, 'missing.git'))).stderr).toContain(
      'no such directory',
    );
    for (const cmd of ['install', 'uninstall']) {
      const h = await gitfleet(env, cmd, '--help');
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`Usage: gitfleet ${cmd}`);
      expect(h.stdout).toContain('--dry-run');
    }
  });
});
