// End-to-end reconciles against real tmux (private sockets) and real git
// repositories made with the system git.
import { spawn, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { chmodSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { acquireLock } from '../../src/lock.js';
import { named, roster, sh, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';
import { joinedRegExp } from '../helpers/regexp.js';

const privateTmux = usePrivateTmux();

let fleet: TestFleet;
afterEach(() => fleet?.cleanup());

/** What these tests read of `plan --json`. */
interface PlanJson {
  actions: { kind: string; target: string; reason: string }[];
}

const agent = (name: string, extra = '') => `  - name: ${name}\n    runtime: stub\n${extra}`;

describe('apply', () => {
  it('converges from empty: sessions tagged, env and cwd set, status and evidence committed', async () => {
    fleet = new TestFleet();
    const wd = path.join(fleet.dir, 'wd', 'alpha');
    fleet.commit({
      'fleet.yaml': 'fleet: demo\n',
      'rosters/team.yaml': roster(
        fleet.socket,
        agent('alpha', `    working_directory: ${wd}\n    env:\n      MODEL: opus\n`) + agent('beta.two'),
      ),
    });
    const head = fleet.headOf('main')!;

    const r = await fleet.gitfleet('apply');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const panes = fleet.panes();
    expect([...panes.keys()].sort()).toEqual(['_holder', 'alpha', 'beta_two']);
    expect(panes.get('alpha')).toMatchObject({ dead: false, cmd: 'cat', fleet: 'demo' });
    expect(panes.get('alpha')!.spec).toMatch(/^[0-9a-f]{16}$/);
    expect(fleet.tmux('show-environment', '-t', '=alpha', 'GITFLEET_AGENT').out.trim()).toBe('GITFLEET_AGENT=alpha');
    expect(fleet.tmux('show-environment', '-t', '=alpha', 'MODEL').out.trim()).toBe('MODEL=opus');
    expect(fleet.tmux('show-environment', '-t', '=alpha', 'PATH').out).toContain('/usr/bin');
    expect(fleet.tmux('display-message', '-p', '-t', '=alpha:', '#{pane_current_path}').out.trim()).toBe(wd);
    expect(fleet.tmux('show-options', '-w', '-v', '-t', '=alpha:', 'remain-on-exit').out.trim()).toBe('on');

    const status = fleet.status();
    expect(status).toMatchObject({
      formatVersion: 1,
      fleet: 'demo',
      host: 'testhost',
      desiredRevision: head,
      converged: true,
    });
    expect(status.agents.map((a) => a.name)).toEqual(['alpha', 'beta.two']);
    for (const a of status.agents) {
      expect(a.tenant_id).toBeTruthy();
      expect(a.host).toBe('testhost');
      expect(a.session.alive).toBe(true);
      expect(a.session.pid).toBe(panes.get(a.session.name)!.pid);
      expect(a.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Running' });
    }
    const tree = sh('git', ['--git-dir', fleet.bare, 'ls-tree', '-r', '--name-only', 'main']).trim().split('\n');
    expect(tree.filter((f) => f.startsWith('evidence/testhost/'))).toHaveLength(3);
    expect(tree).toContain('status/testhost.md');
    const log = sh('git', ['--git-dir', fleet.bare, 'log', '-1', '--format=%an <%ae>|%s', 'main']).trim();
    expect(log).toMatch(/^gitfleet <gitfleet@testhost>\|gitfleet\(testhost\): 3 applied; 2\/2 ready \[skip ci\]$/);
    // Evidence redacts secrets but shows what ran.
    const ev = tree.find((f) => f.includes('create_session-alpha'))!;
    const evidence = JSON.parse(fleet.show(`main:${ev}`));
    expect(evidence).toMatchObject({ kind: 'create_session', reason: 'missing', result: 'ok', desiredRevision: head });
    expect(evidence.command).toContain('MODEL=<redacted>');
    expect(JSON.stringify(evidence)).not.toContain('opus');
  });

  it('is idempotent: a second apply and a plan change nothing and commit nothing', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    const head = fleet.headOf('main');
    const pids = fleet.panes();

    const again = await fleet.gitfleet('apply');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Status unchanged: no commit.');
    expect(fleet.headOf('main')).toBe(head);
    expect(fleet.panes()).toEqual(pids);

    const plan = await fleet.gitfleet('plan', '--json');
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout).actions).toEqual([]);
  });

  it('prunes a removed agent and leaves an unmanaged session on the same socket alone', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    expect(fleet.tmux('new-session', '-d', '-s', 'manual', 'cat').code).toBe(0);
    expect(fleet.tmux('new-session', '-d', '-s', 'alphabet', 'cat').code).toBe(0); // unmanaged, too

    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    const plan: PlanJson = JSON.parse((await fleet.gitfleet('plan', '--json')).stdout);
    expect(plan.actions.map((a) => `${a.kind} ${a.target} ${a.reason}`)).toEqual([
      `delete_session ${fleet.socket}/beta not_in_roster`,
    ]);

    const r = await fleet.gitfleet('apply');
    expect(r.code).toBe(0);
    expect([...fleet.panes().keys()].sort()).toEqual(['_holder', 'alpha', 'alphabet', 'manual']);
    const status = fleet.status();
    expect(status.unmanaged.map((u) => u.session)).toEqual(['alphabet', 'manual']);
    expect(status.converged).toBe(true);
    expect(status.agents.map((a) => a.name)).toEqual(['alpha']);
  });

  it('respawns a killed pane and counts the restart', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    await fleet.gitfleet('apply');
    const before = fleet.panes().get('alpha')!;
    process.kill(before.pid, 'SIGKILL');
    await waitFor(() => fleet.panes().get('alpha')?.dead === true);

    const plan = JSON.parse((await fleet.gitfleet('plan', '--json')).stdout);
    expect(plan.actions).toMatchObject([{ kind: 'respawn_pane', reason: 'pane_dead', detail: { exitStatus: null } }]);

    expect((await fleet.gitfleet('apply')).code).toBe(0);
    const after = fleet.panes().get('alpha')!;
    expect(after.dead).toBe(false);
    expect(after.pid).not.toBe(before.pid);
    const rec = fleet.status().agents[0]!;
    expect(rec.restarts).toBe(1);
    expect(rec.backoff?.streak).toBe(1);
    expect(rec.session.pid).toBe(after.pid);
  });

  it('a killed tmux server is repaired by the next reconcile and recorded as evidence (tmux mode)', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/team.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    const pid = Number(fleet.tmux('display', '-p', '#{pid}').out.trim());
    expect(fleet.status().sockets[0]).toMatchObject({ serverRunning: true, serverPid: pid, unit: null });
    process.kill(pid, 'SIGKILL');
    await waitFor(() => fleet.tmux('list-sessions').code !== 0);
    const r = await fleet.gitfleet('apply');
    expect(r.code).toBe(0);
    expect([...fleet.panes().keys()].sort()).toEqual(['_holder', 'alpha', 'beta']);
    const files = sh('git', ['--git-dir', fleet.bare, 'show', '--name-only', '--format=', 'main']).trim().split('\n');
    const ev = files.find((p) => p.includes('-tmux_server_lost-'));
    expect(ev).toBeDefined();
    expect(JSON.parse(fleet.show(`main:${ev}`))).toMatchObject({
      kind: 'tmux_server_lost',
      detail: { previousPid: pid, pid: null, unit: null },
    });
    expect(fleet.status().sockets[0]!.serverPid).not.toBe(pid);
    // The repaired fleet is stable: no second event.
    const head = fleet.headOf('main');
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    expect(fleet.headOf('main')).toBe(head);
  });

  it('backs off a pane that keeps dying (CrashLoopBackOff), with the exit status in status', async () => {
    fleet = new TestFleet();
    fleet.commit({
      'rosters/a.yaml': roster(fleet.socket, `  - name: crash\n    runtime: stub\n    command: [sh, -c, 'exit 3']\n`),
    });
    await fleet.gitfleet('apply');
    await waitFor(() => fleet.panes().get('crash')?.dead === true);

    const first = await fleet.gitfleet('apply'); // respawn #1, dies again at once
    expect(first.code).toBe(3);
    expect(first.stdout).toMatch(/ok +respawn_pane/);
    await waitFor(() => fleet.panes().get('crash')?.dead === true);

    const second = await fleet.gitfleet('apply'); // within 10 s: backoff holds
    expect(second.code).toBe(3);
    expect(second.stdout).not.toMatch(/^ok +respawn_pane/m);
    const plan = JSON.parse((await fleet.gitfleet('plan', '--json')).stdout);
    expect(plan.actions).toEqual([]);
    expect(plan.deferred).toMatchObject([
      { kind: 'respawn_pane', reason: 'crash_loop_backoff', detail: { streak: 1 } },
    ]);
    const rec = fleet.status().agents[0]!;
    expect(rec.restarts).toBe(1);
    expect(rec.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'CrashLoopBackOff' });
    // tmux 3.3 records a dead pane's exit status only some of the time; the pane wrapper
    // records it itself, so it is always the runtime's.
    expect(plan.deferred[0].detail.exitStatus).toBe(3);
    expect(rec.session.exitStatus).toBe(3);
    expect(rec.conditions[0]?.message).toContain('exited with status 3');
  });

  it("records no pane as Running while it still shows tmux (the server's child before its exec)", async () => {
    // Right after respawn-pane, 1 list-panes in 10 shows `tmux` on a 2-core machine, for a moment: the previous test
    // then read a crash loop as converged (exit 0). A runtime whose argv[0] is `tmux` holds that state for a second.
    fleet = new TestFleet();
    const command = `[bash, -c, 'exec -a tmux sh -c "sleep 1; exit 3"']`;
    fleet.commit({
      'rosters/a.yaml': roster(fleet.socket, `  - name: late\n    runtime: stub\n    command: ${command}\n`),
    });
    const r = await fleet.gitfleet('apply');
    expect(r.code).toBe(3);
    const rec = fleet.status().agents[0]!;
    expect(rec.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'PaneDead' });
    expect(rec.session.exitStatus).toBe(3);
  });

  it('restarts on spec change under update: recreate, and only reports PendingRestart under on-idle', async () => {
    fleet = new TestFleet();
    const agents = (cmd: string) =>
      `  - name: fast\n    runtime: stub\n    update: recreate\n    command: ${cmd}\n` +
      `  - name: careful\n    runtime: stub\n    command: ${cmd}\n`;
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agents('[cat]')) });
    await fleet.gitfleet('apply');
    const before = fleet.panes();

    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agents("'cat -u'")) });
    const r = await fleet.gitfleet('apply');
    expect(r.code).toBe(3); // careful waits: not converged
    const after = fleet.panes();
    expect(after.get('fast')!.pid).not.toBe(before.get('fast')!.pid);
    expect(after.get('fast')!.spec).not.toBe(before.get('fast')!.spec);
    expect(after.get('careful')).toEqual(before.get('careful'));
    const recs = fleet.status().agents;
    expect(named(recs, 'fast').conditions.map((c) => c.type)).toEqual(['Ready']);
    expect(named(recs, 'careful').conditions.find((c) => c.type === 'PendingRestart')).toMatchObject({
      status: 'True',
      reason: 'UpdateOnIdle',
    });
    expect(r.stdout).toMatch(/restart_session .*\/careful \(update_on_idle\)/);
  });

  it('keeps every session when an invalid roster replaces a good one; reports where the error is', async () => {
    fleet = new TestFleet();
    fleet.commit({
      'rosters/a.yaml': roster(fleet.socket, agent('alpha') + agent('beta')),
      'rosters/b.yaml': roster(fleet.socket, agent('gamma')),
    });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    const before = fleet.panes();

    // a.yaml turns invalid (unknown key "colour" at line 14, col 5); b.yaml drops gamma at the same time.
    fleet.commit({
      'rosters/a.yaml': roster(fleet.socket, `${agent('alpha')}  - name: beta\n    runtime: stub\n    colour: blue\n`),
      'rosters/b.yaml': roster(fleet.socket, '').replace('agents:\n', 'agents: []\n'),
    });
    const v = await fleet.gitfleet('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('rosters/a.yaml:14:5: agents[1]: unknown key "colour"; allowed: name, runtime, class');

    const r = await fleet.gitfleet('apply');
    expect(r.code).toBe(1); // an invalid committed file is an error, though apply ran on its last valid version
    expect(fleet.panes()).toEqual(before); // nothing pruned, nothing restarted
    const status = fleet.status();
    expect(status.errors[0]).toMatchObject({ file: 'rosters/a.yaml', line: 14, col: 5 });
    expect(status.files.find((f) => f.path === 'rosters/a.yaml')).toMatchObject({
      valid: false,
      usingLastKnownGood: true,
    });
    const beta = named(status.agents, 'beta');
    expect(beta.conditions.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
    });
    expect(beta.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    const plan = JSON.parse((await fleet.gitfleet('plan', '--json')).stdout);
    expect(plan.deferred).toMatchObject([
      { kind: 'delete_session', reason: 'prune_blocked_by_invalid_files', detail: { session: 'gamma' } },
    ]);

    // Fixing the file lets the held-back prune happen.
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    expect([...fleet.panes().keys()].sort()).toEqual(['_holder', 'alpha', 'beta']);
  });

  it('never reads a failed observation as "nothing runs"', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    await fleet.gitfleet('apply');
    const before = fleet.panes();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('beta')) });
    const sockDir = path.join(privateTmux.dir, `tmux-${process.getuid!()}`);
    chmodSync(sockDir, 0o777); // tmux refuses unsafe permissions: an error that is not "no server"
    try {
      const r = await fleet.gitfleet('apply');
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('could not be observed');
    } finally {
      chmodSync(sockDir, 0o700);
    }
    expect(fleet.panes()).toEqual(before);
    expect(fleet.status().sockets[0]).toMatchObject({ observed: false });
    expect(fleet.status().agents[0]?.conditions[0]).toMatchObject({ status: 'Unknown', reason: 'ObservationFailed' });
  });

  it('refuses to move a branch checked out in a non-bare repository, before changing anything', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    let err = '';
    const code = await main(['apply', '--repo', fleet.work, '--state-dir', fleet.stateDir], {
      stdout: () => {},
      stderr: (s) => (err += s),
      env: process.env,
    });
    expect(code).toBe(1);
    expect(err).toMatch(
      joinedRegExp(
        /refusing to commit status to branch "main": it is checked out in the work tree /,
        /.*work.*bare repository.*status\.branch/s,
      ),
    );
    expect(fleet.panes().size).toBe(0);
  });

  it('one apply at a time per state dir; the lock dies with its holder; old lock files mean nothing', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    mkdirSync(fleet.stateDir, { recursive: true });
    // Held by a live process (this one): apply waits, then says who holds it.
    const held = await acquireLock(fleet.stateDir, 'gitfleet apply (test)');
    const r = await fleet.gitfleet('apply');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `another gitfleet holds the lock of state dir ${fleet.stateDir}: pid ${process.pid} (gitfleet apply (test))`,
    );
    expect(fleet.panes().size).toBe(0);
    await held.release();
    // Held by a process that is then SIGKILLed: free at once, no stale file to clean.
    const lockJs = pathToFileURL(path.resolve('dist/lock.js')).href;
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { acquireLock } = await import(${JSON.stringify(lockJs)}); ` +
          `await acquireLock(${JSON.stringify(fleet.stateDir)}, 'doomed'); ` +
          "console.log('held'); setInterval(() => {}, 1000);",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    expect((await fleet.gitfleet('apply')).stderr).toMatch(/holds the lock .*\(doomed\)/);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    // Empty and garbage files where the old lock file lived block nothing.
    writeFileSync(path.join(fleet.stateDir, 'reconcile.lock'), '');
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    writeFileSync(path.join(fleet.stateDir, 'reconcile.lock'), '\x00garbage{');
    expect((await fleet.gitfleet('apply')).code).toBe(0);
  });

  it('says plainly when --state-dir names a file', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    const file = path.join(fleet.dir, 'not-a-dir');
    writeFileSync(file, 'x');
    for (const cmd of ['apply', 'plan']) {
      let err = '';
      const code = await main([cmd, '--repo', fleet.bare, '--state-dir', file, '--host', fleet.host], {
        stdout: () => {},
        stderr: (s) => (err += s),
        env: process.env,
      });
      expect(code).toBe(1);
      expect(err).toContain(`--state-dir ${file}: is a file, not a directory`);
      expect(err).not.toMatch(/\n\s+at /);
    }
    expect(fleet.panes().size).toBe(0);
  });

  it('commits status to status.branch when fleet.yaml sets one, leaving main alone', async () => {
    fleet = new TestFleet();
    fleet.commit({
      'fleet.yaml': 'status:\n  branch: fleet-status\n',
      'rosters/a.yaml': roster(fleet.socket, agent('alpha')),
    });
    const main = fleet.headOf('main');
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    expect(fleet.headOf('main')).toBe(main);
    const st = JSON.parse(fleet.show('fleet-status:status/testhost.json'));
    expect(st.desiredRevision).toBe(main);
    expect((await fleet.gitfleet('apply')).stdout).toContain('no commit');
    const s = await fleet.gitfleet('status', '--json');
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).agents[0].name).toBe('alpha');
    // The committed file, read back and rendered again: the same bytes.
    expect(s.stdout).toBe(fleet.show('fleet-status:status/testhost.json'));
  });

  it('observes correctly without a UTF-8 locale, as under cron or a bare user manager', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    const bin = path.resolve('dist/cli.js');
    const cronEnv = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TMUX_TMPDIR: privateTmux.dir };
    const run = () =>
      spawnSync(
        process.execPath,
        [bin, 'apply', '--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host],
        { env: cronEnv, encoding: 'utf8' },
      );
    expect(run().status).toBe(0);
    const second = run();
    expect(second.stdout).toContain('no changes: the fleet matches the desired state');
    expect(second.status).toBe(0);
  });

  it("the built CLI renders the dashboard only when the branch lacks this status's page (the memo)", async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    const bin = path.resolve('dist/cli.js');
    const env = { ...process.env, TMUX_TMPDIR: privateTmux.dir };
    const apply = () => {
      const r = spawnSync(
        process.execPath,
        [bin, 'apply', '--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host],
        { env, encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    };
    apply();
    const page = fleet.show('main:status/testhost.md');
    expect(page).toMatch(/^# ✅ /);
    const memo = JSON.parse(readFileSync(path.join(fleet.stateDir, 'status-md-memo.json'), 'utf8'));
    expect(memo.blob).toBe(sh('git', ['--git-dir', fleet.bare, 'rev-parse', 'main:status/testhost.md']).trim());
    const head = fleet.headOf('main');
    apply();
    expect(fleet.headOf('main')).toBe(head);
    // A page changed on the branch (by hand) is not the remembered blob: the next run renders and writes it again.
    fleet.commit({ 'status/testhost.md': 'edited by hand\n' }, 'edit the dashboard');
    apply();
    expect(fleet.show('main:status/testhost.md')).toBe(page);
    // A status that changed gets its own page: a new agent is listed.
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha') + agent('beta')) });
    apply();
    expect(fleet.show('main:status/testhost.md')).toContain('beta');
    expect(fleet.show('main:status/testhost.md')).not.toBe(page);
  });

  it('does not treat its own status commits as desired-state changes', async () => {
    fleet = new TestFleet();
    const human = fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('alpha')) });
    await fleet.gitfleet('apply');
    expect(fleet.headOf('main')).not.toBe(human);
    expect(fleet.status().desiredRevision).toBe(human);
    // A human commit on top of gitfleet's is the new desired revision.
    const next = fleet.commit({ 'README.md': 'notes\n' });
    await fleet.gitfleet('apply');
    expect(fleet.status().desiredRevision).toBe(next);
    expect(readFileSync(path.join(fleet.work, 'README.md'), 'utf8')).toBe('notes\n');
  });
});
