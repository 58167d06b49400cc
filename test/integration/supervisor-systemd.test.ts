// supervisor: systemd against a real, private `systemd --user` manager
// (test/helpers/systemd.ts, DESIGN §10) and real tmux on private sockets:
// agents come up through enabled units, a roster change stops, disables and
// deletes units, a unit disabled by hand is enabled again, a killed tmux
// server is restarted by systemd and recorded as evidence, sessions started
// in tmux mode are adopted without a restart, and a manager that does not
// answer stops nothing. Units run the built CLI (npm test builds first).
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { roster, sh, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';
import { UserManager } from '../helpers/systemd.js';

const privateTmux = usePrivateTmux();

let fleets: TestFleet[] = [];
let manager: UserManager | null = null;
afterEach(async () => {
  // The manager first: its units own the tmux servers and would restart a killed one.
  await manager?.stop();
  manager = null;
  for (const f of fleets) f.cleanup();
  fleets = [];
});

const AGENTS = '  - name: alpha\n    runtime: stub\n  - name: beta.x\n    runtime: stub\n';

function newFleet(supervisor: 'systemd' | 'tmux' | null, agents = AGENTS): TestFleet {
  const f = new TestFleet('fl');
  fleets.push(f);
  f.commit({
    'fleet.yaml': `fleet: fl\n${supervisor ? `supervisor: ${supervisor}\n` : ''}`,
    'rosters/team.yaml': roster(f.socket, agents),
  });
  return f;
}

async function startManager(): Promise<UserManager> {
  manager = new UserManager(); // carries this file's TMUX_TMPDIR
  Object.assign(manager.env, { LANG: 'C.UTF-8' });
  await manager.start();
  return manager;
}

async function gitfleet(f: TestFleet, env: NodeJS.ProcessEnv, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--repo', f.bare, '--state-dir', f.stateDir, '--host', f.host], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env,
  });
  return { code, stdout, stderr };
}

/** apply, which must converge; the output says why when it does not. */
async function applied(f: TestFleet, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await gitfleet(f, env, 'apply');
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
}

const unit = (f: TestFleet, session: string) => `gitfleet-fl-agent@${session}.${f.socket}.service`;
const server = (f: TestFleet) => `gitfleet-fl-tmux@${f.socket}.service`;

function state(m: UserManager, u: string) {
  return m.show(u, 'ActiveState', 'SubState', 'UnitFileState', 'NRestarts', 'MainPID');
}

describe('supervisor: systemd', () => {
  it('brings agents up through enabled units that verify; a second apply changes nothing', async () => {
    const m = await startManager();
    const f = newFleet('systemd');
    const r = await gitfleet(f, m.env, 'apply');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const u of [server(f), unit(f, 'alpha'), unit(f, 'beta_x')]) {
      expect(state(m, u)).toMatchObject({ ActiveState: 'active', UnitFileState: 'enabled' });
    }
    expect(state(m, server(f)).SubState).toBe('running');
    // The sessions run in the server the unit supervises, tagged as apply tags them.
    const panes = f.panes();
    expect([...panes.keys()].sort()).toEqual(['alpha', 'beta_x']);
    expect(panes.get('alpha')).toMatchObject({ dead: false, cmd: 'cat', fleet: 'fl' });
    expect(f.tmux('display', '-p', '#{pid}').out.trim()).toBe(state(m, server(f)).MainPID);
    // The status says which supervisor and why, and carries each unit's state.
    const st = f.status();
    expect(st.supervisor).toMatchObject({
      mode: 'systemd',
      reason: 'fleet.yaml: supervisor: systemd',
      observed: true,
      error: null,
    });
    expect(typeof st.supervisor.linger).toBe('boolean');
    // Lingering (read from logind's flag file) is reported with the command that turns it on.
    const shown = await gitfleet(f, m.env, 'status');
    if (st.supervisor.linger === false) {
      expect(st.supervisor.lingerFix).toMatch(/^loginctl enable-linger \S+$/);
      expect(shown.stdout).toContain(`warning: lingering is off for ${st.tenant_id}`);
      expect(shown.stdout).toContain(st.supervisor.lingerFix);
    } else {
      expect(st.supervisor.lingerFix).toBeNull();
      expect(shown.stdout).not.toContain('lingering is off');
    }
    expect(shown.stdout).toContain('supervisor: systemd (fleet.yaml: supervisor: systemd)');
    expect(st.agents.map((a) => [a.name, a.unit])).toEqual([
      ['alpha', { name: unit(f, 'alpha'), active: 'active', sub: 'exited', enabled: 'enabled' }],
      ['beta.x', { name: unit(f, 'beta_x'), active: 'active', sub: 'exited', enabled: 'enabled' }],
    ]);
    expect(st.agents.every((a) => a.conditions.find((c) => c.type === 'Ready')?.status === 'True')).toBe(true);
    // Every generated unit verifies.
    const files = [`gitfleet-fl-tmux@.service`, `gitfleet-fl-agent@.service`].map((n) => path.join(m.unitDir, n));
    const v = m.verify(...files);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    expect(readFileSync(path.join(m.unitDir, `${unit(f, 'alpha')}.d`, 'gitfleet.conf'), 'utf8')).toContain(
      `PartOf=${server(f)}`,
    );
    // ... and so does an instance with its drop-in, as systemd loads it (verify wants a file per unit).
    const inst = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-verify-'));
    try {
      copyFileSync(files[0]!, path.join(inst, server(f)));
      copyFileSync(files[1]!, path.join(inst, unit(f, 'alpha')));
      cpSync(path.join(m.unitDir, `${unit(f, 'alpha')}.d`), path.join(inst, `${unit(f, 'alpha')}.d`), {
        recursive: true,
      });
      const vi = m.verify(path.join(inst, unit(f, 'alpha')), path.join(inst, server(f)));
      expect(vi.err).toBe('');
      expect(vi.code).toBe(0);
    } finally {
      rmSync(inst, { recursive: true, force: true });
    }
    // Converged: nothing to do, no commit.
    const head = f.headOf('main');
    const again = await gitfleet(f, m.env, 'apply');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no changes');
    expect(f.headOf('main')).toBe(head);
  });

  it('after a "reboot" (new user manager, same dirs) systemd alone brings back the applied fleet', async () => {
    const m = await startManager();
    const f = newFleet('systemd');
    await applied(f, m.env);
    const before = f.panes();
    // Shutdown: the manager stops every unit, and with them the tmux server and the agents.
    await m.stop(true);
    await waitFor(() => f.tmux('list-sessions').code !== 0, 10_000);
    // Boot: a new manager starts default.target, which wants the enabled units. No gitfleet run in between.
    manager = new UserManager(m);
    Object.assign(manager.env, { LANG: 'C.UTF-8' });
    await manager.start();
    const boot = manager;
    const up = () => {
      const p = f.panes();
      return (
        p.size === 2 &&
        [...p.values()].every((x) => x.cmd === 'cat') &&
        ['alpha', 'beta_x'].every((a) => state(boot, unit(f, a)).ActiveState === 'active')
      );
    };
    await waitFor(up, 30_000).catch((e) => {
      const units = boot.systemctl('list-units', '--all', '--no-pager', '--plain', 'gitfleet-*').out;
      const status =
        boot.systemctl(
          'show',
          '-p',
          [
            'Id',
            'ActiveState',
            'Result',
            'NRestarts',
            'ExecMainStatus',
            'InactiveEnterTimestampMonotonic',
            'ActiveEnterTimestampMonotonic',
            'InactiveExitTimestampMonotonic',
          ].join(','),
          server(f),
          unit(f, 'alpha'),
          unit(f, 'beta_x'),
        ).out + boot.systemctl('list-jobs', '--no-pager').out;
      throw new Error(`${e.message}: sessions ${[...f.panes().keys()].join(',')}\n${units}\n${status}`);
    });
    const after = f.panes();
    for (const s of ['alpha', 'beta_x']) {
      expect(after.get(s)).toMatchObject({ dead: false, cmd: 'cat', fleet: 'fl', spec: before.get(s)!.spec });
      expect(after.get(s)!.pid).not.toBe(before.get(s)!.pid);
    }
    expect(state(boot, unit(f, 'alpha'))).toMatchObject({ ActiveState: 'active', UnitFileState: 'enabled' });
    // The next reconcile finds the fleet converged: nothing to do.
    const r = await gitfleet(f, boot.env, 'plan');
    expect(r.stdout).toContain('no changes');
    expect(r.code).toBe(0);
  }, 90_000);

  it('a roster change stops, disables, deletes the removed agent unit; one disabled by hand is enabled', async () => {
    const m = await startManager();
    const f = newFleet('systemd');
    await applied(f, m.env);
    // The field's gap: active but not enabled.
    expect(m.systemctl('disable', unit(f, 'alpha')).code).toBe(0);
    const plan = await gitfleet(f, m.env, 'plan');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`enable_unit ${unit(f, 'alpha')} (unit_disabled)`);
    f.commit({ 'rosters/team.yaml': roster(f.socket, '  - name: alpha\n    runtime: stub\n') });
    const r = await gitfleet(f, m.env, 'apply');
    expect(r.code).toBe(0);
    expect(state(m, unit(f, 'alpha'))).toMatchObject({ ActiveState: 'active', UnitFileState: 'enabled' });
    expect(state(m, unit(f, 'beta_x'))).toMatchObject({ ActiveState: 'inactive' });
    expect(existsSync(path.join(m.unitDir, 'default.target.wants', unit(f, 'beta_x')))).toBe(false);
    expect(existsSync(path.join(m.unitDir, `${unit(f, 'beta_x')}.d`))).toBe(false);
    expect(existsSync(path.join(f.stateDir, 'specs', 'fl', f.socket, 'beta_x.json'))).toBe(false);
    expect([...f.panes().keys()]).toEqual(['alpha']);
    expect(f.status().agents.map((a) => a.name)).toEqual(['alpha']);
  });

  it('a killed tmux server is restarted by systemd with its agents; the next apply records evidence', async () => {
    const m = await startManager();
    const f = newFleet('systemd');
    await applied(f, m.env);
    const pid = Number(state(m, server(f)).MainPID);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => {
      const s = state(m, server(f));
      return s.NRestarts === '1' && s.ActiveState === 'active' && f.panes().size === 2;
    }, 15_000);
    expect(Number(state(m, server(f)).MainPID)).not.toBe(pid);
    const r = await gitfleet(f, m.env, 'apply');
    expect(r.code).toBe(0);
    const files = sh('git', ['--git-dir', f.bare, 'show', '--name-only', '--format=', 'main']).trim().split('\n');
    const ev = files.find((p) => p.includes('-tmux_server_lost-'));
    expect(ev).toBeDefined();
    const record = JSON.parse(f.show(`main:${ev}`));
    expect(record).toMatchObject({
      kind: 'tmux_server_lost',
      target: f.socket,
      detail: { previousPid: pid, unit: server(f), unitRestarts: 1 },
    });
    expect(record.message).toContain('systemd restarted it');
    expect(f.status().sockets[0]).toMatchObject({ serverRunning: true, unit: { restarts: 1, active: 'active' } });
  });

  it('adopts sessions started in tmux mode without restarting them', async () => {
    const m = await startManager();
    const f = newFleet('tmux');
    await applied(f, m.env);
    const before = f.panes();
    expect(f.status().supervisor).toMatchObject({ mode: 'tmux', reason: 'fleet.yaml: supervisor: tmux' });
    f.commit({ 'fleet.yaml': 'fleet: fl\nsupervisor: systemd\n' });
    const r = await gitfleet(f, m.env, 'apply');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = f.panes();
    for (const s of ['alpha', 'beta_x']) expect(after.get(s)!.pid).toBe(before.get(s)!.pid);
    for (const u of [server(f), unit(f, 'alpha'), unit(f, 'beta_x')])
      expect(state(m, u)).toMatchObject({ ActiveState: 'active', UnitFileState: 'enabled' });
  });

  it('when the user manager does not answer, nothing is stopped or removed and status says so', async () => {
    const m = await startManager();
    const f = newFleet('systemd');
    await applied(f, m.env);
    const pids = [...f.panes().values()].map((p) => p.pid);
    f.commit({ 'rosters/team.yaml': roster(f.socket, '  - name: alpha\n    runtime: stub\n') });
    const gone = { ...m.env, XDG_RUNTIME_DIR: privateTmux.dir }; // no manager listens there
    const plan = await gitfleet(f, gone, 'plan');
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain('The systemd user manager could not be observed');
    const r = await gitfleet(f, gone, 'apply');
    expect(r.code).toBe(3);
    expect([...f.panes().values()].map((p) => p.pid)).toEqual(pids);
    expect(existsSync(path.join(m.unitDir, `${unit(f, 'beta_x')}.d`))).toBe(true);
    expect(state(m, unit(f, 'beta_x')).ActiveState).toBe('active');
    const st = f.status();
    expect(st.supervisor).toMatchObject({ mode: 'systemd', observed: false });
    expect(st.supervisor.error).toMatch(/systemctl --user show failed/);
    expect(st.converged).toBe(false);
  });

  it('auto picks systemd when a user manager answers, tmux when none does, and says why', async () => {
    const f = newFleet(null, '  - name: alpha\n    runtime: stub\n');
    expect((await gitfleet(f, process.env, 'apply')).code).toBe(0);
    expect(f.status().supervisor).toMatchObject({
      mode: 'tmux',
      reason: expect.stringMatching(/^auto: no systemd user manager \(Failed to connect to bus/),
    });
    const m = await startManager();
    const g = newFleet(null, '  - name: alpha\n    runtime: stub\n');
    expect((await gitfleet(g, m.env, 'apply')).code).toBe(0);
    expect(g.status().supervisor).toMatchObject({ mode: 'systemd', reason: 'auto: the systemd user manager answers' });
    expect(state(m, unit(g, 'alpha'))).toMatchObject({ ActiveState: 'active', UnitFileState: 'enabled' });
  });
});
