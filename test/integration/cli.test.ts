// The CLI's contract: exit codes, usage errors, --help, --json, options
// before or after the command. Runs the built bin once, the rest in-process.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { roster, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();
let fleet: TestFleet;
afterEach(() => fleet?.cleanup());

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: process.env });
  return { code, stdout, stderr };
}

describe('gitfleet CLI', () => {
  it('the built bin runs after npm ci (prepare builds dist/)', () => {
    const bin = path.resolve('dist/cli.js');
    const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^gitfleet \d+\.\d+\.\d+\n$/);
  });

  it('prints help for every command and exits 0', async () => {
    for (const cmd of ['validate', 'plan', 'apply', 'status']) {
      const r = await cli(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: gitfleet ${cmd}`);
      expect(r.stdout).toContain('--repo');
    }
    expect((await cli('--help')).stdout).toContain('Commands:');
  });

  it('usage errors exit 64 and say what is allowed', async () => {
    expect(await cli()).toMatchObject({ code: 64 });
    const unknown = await cli('destroy');
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('unknown command "destroy"; commands: validate, plan, apply, run, status');
    const flag = await cli('plan', '--force');
    expect(flag.code).toBe(64);
    // One error style, node's parser's messages included: lower case, "quoted", what to read next.
    expect(flag.stderr).toContain('unknown option "--force"; see gitfleet --help');
    const help = await cli('--help');
    expect(help.stdout).not.toMatch(/^ {2}agent-start/m); // run by units, not people: not listed
    expect((await cli('plan', 'extra')).code).toBe(64);
    // Remote URLs are checked before any network: plain http off loopback, credentials in the URL, no known_hosts.
    const http = await cli('apply', '--repo', 'http://forge.example/fleet.git');
    expect(http).toMatchObject({ code: 64 });
    expect(http.stderr).toContain('opt in with --allow-insecure-http');
    const creds = await cli('apply', '--repo', 'https://user:token@forge.example/fleet.git');
    expect(creds).toMatchObject({ code: 64 });
    expect(creds.stderr).toContain('the URL has credentials in it');
    expect(creds.stderr).not.toContain('token@');
    expect(creds.stderr).not.toContain('user:');
    const ssh = await cli('apply', '--repo', 'git@forge.example:fleet.git');
    expect(ssh).toMatchObject({ code: 64 });
    expect(ssh.stderr).toContain('needs GITFLEET_SSH_KNOWN_HOSTS');
  });

  it('a missing repository or branch is an error (exit 1) that says what exists', async () => {
    const r = await cli('plan', '--repo', '/nonexistent/fleet.git');
    expect(r).toMatchObject({ code: 1 });
    expect(r.stderr).toContain('no such directory');
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, '  - name: a\n    runtime: stub\n') });
    const b = await fleet.gitfleet('plan', '--branch', 'prod');
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('branch "prod" not found');
    expect(b.stderr).toContain('branches: main');
  });

  it('exit codes: validate 0/1, plan 0/2, apply 0; options before or after the command', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, '  - name: a\n    runtime: stub\n') });
    expect((await cli('--repo', fleet.bare, 'validate')).code).toBe(0);
    const plan = await cli('--repo', fleet.bare, '--host', 'testhost', 'plan', '--json', '--state-dir', fleet.stateDir);
    expect(plan.code).toBe(2);
    const p = JSON.parse(plan.stdout);
    expect(p).toMatchObject({ formatVersion: 1, host: 'testhost', summary: { create_session: 2, deferred: 0 } });
    expect(p.actions.map((a: { kind: string; target: string }) => `${a.kind} ${a.target}`)).toEqual([
      `create_session ${fleet.socket}/_holder`,
      `create_session ${fleet.socket}/a`,
    ]);
    const apply = await fleet.gitfleet('apply', '--json');
    expect(apply.code).toBe(0);
    const out = JSON.parse(apply.stdout);
    expect(out.results.map((r: { kind: string; ok: boolean }) => [r.kind, r.ok])).toEqual([
      ['create_session', true],
      ['create_session', true],
    ]);
    expect(out.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(out).toMatchObject({ formatVersion: 1, converged: true, status: { formatVersion: 1, converged: true } });
    expect(out.results[0].durationMs).toEqual(expect.any(Number));
    expect(out.plan.actions).toEqual(p.actions); // plan --json printed exactly what apply did
    expect((await fleet.gitfleet('plan')).code).toBe(0);
    expect((await fleet.gitfleet('status')).code).toBe(0);

    fleet.commit({ 'rosters/a.yaml': 'version: 1\nagents:\n  - name: a\n    runtime: [x\n' });
    const bad = await fleet.gitfleet('validate', '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, problems: [{ file: 'rosters/a.yaml', line: 4 }] });
  });

  it('validate reports every problem of every file in one run: schema typos and roster rules together', async () => {
    fleet = new TestFleet();
    fleet.commit({
      // Line 12: a typo (schema); line 14: a runtime not declared (a roster rule).
      'rosters/a.yaml': roster(
        fleet.socket,
        '  - name: a\n    runtime: stub\n    colour: red\n  - name: b\n    runtime: claude\n',
      ),
      'rosters/b.yaml': roster(fleet.socket, '  - name: c\n    runtime: stub\n    update: sometimes\n'),
    });
    const v = await fleet.gitfleet('validate');
    expect(v.code).toBe(1);
    const notJudged =
      'rules across files not checked (one owner file per agent, one holder per socket, hosts from fleet.yaml): ' +
      'this file has errors of its own';
    expect(v.stdout.split('\n').slice(0, -2)).toEqual([
      expect.stringMatching(/^rosters\/a\.yaml:12:5: agents\[0\]: unknown key "colour"; allowed: /),
      'rosters/a.yaml:14:14: agents[1].runtime: "claude" is not declared under runtimes ' +
        'and the agent gives no command; declared: stub',
      `rosters/a.yaml:14:14: ${notJudged}`,
      expect.stringMatching(/^rosters\/b\.yaml:12:13: agents\[0\]\.update: "sometimes" is not allowed; /),
      `rosters/b.yaml:12:13: ${notJudged}`,
    ]);
    // The notes are not counted as problems.
    expect(v.stdout).toMatch(/\ninvalid: 3 problems in 2 file\(s\) at [0-9a-f]{12}\n$/);
    const json = JSON.parse((await fleet.gitfleet('validate', '--json')).stdout);
    expect(json.problems.map((p: { line: number }) => p.line)).toEqual([12, 14, 12]);
    expect(json.notes.map((p: { file: string }) => p.file)).toEqual(['rosters/a.yaml', 'rosters/b.yaml']);
  });

  it('plan exits 1 when a committed file is invalid (printing what apply still does), 2 when deferring', async () => {
    fleet = new TestFleet();
    const a = (name: string, extra = '') => `  - name: ${name}\n    runtime: stub\n${extra}`;
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, a('a') + a('b')) });
    expect((await fleet.gitfleet('apply')).code).toBe(0);
    expect((await fleet.gitfleet('plan')).code).toBe(0);
    // A spec change that update: on-idle defers (the pane just had output): deferred, not "no changes".
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, a('a', '    env: {V: "2"}\n') + a('b')) });
    const deferred = await fleet.gitfleet('plan');
    expect(deferred.stdout).toMatch(/Not done now:\n {2}· restart_session .*\/a \(update_on_idle\)/);
    expect(deferred.code).toBe(2);
    // A broken file beside a good one: the plan still shows (on last-known-good), and exits 1 for a PR check.
    fleet.commit({ 'rosters/b.yaml': 'version: 1\nagents: {}\n' });
    const broken = await fleet.gitfleet('plan');
    expect(broken.stdout).toContain('Plan for fleet');
    expect(broken.stdout).toMatch(/Errors in desired state:\n {2}rosters\/b\.yaml:2:9: /);
    expect(broken.code).toBe(1);
  });

  it('status without a status commit explains how to get one', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, '  - name: a\n    runtime: stub\n') });
    const r = await fleet.gitfleet('status');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no status for host testhost on branch main yet; run gitfleet apply');
  });
});
