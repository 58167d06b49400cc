// Secrets in a roster never leave gitfleet (issue #8 item 10): through the
// real CLI, real tmux (private socket) and a real git repo, no secret value
// shows in plan (text and --json), apply, status, ps, validate, any file of
// the status branch, any commit message, or the state dir; the agent still
// gets every real value. And (item 11) the pane PATH is pinned at the first
// apply: a later apply from another environment does not change it, --repin
// does.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { roster, sh, TestFleet, type Run, usePrivateTmux, waitFor, filesUnder } from '../helpers/fleet.js';

usePrivateTmux();

let fleet: TestFleet | null = null;
afterEach(() => {
  fleet?.cleanup();
  fleet = null;
});

const gitfleet = (f: TestFleet, env: NodeJS.ProcessEnv, ...argv: string[]): Promise<Run> =>
  f.gitfleetWith(env, ...argv);

const URL = 'https://bot:s3cr3t-F@example.com/x';
const M = '<redacted>';

/** A runtime that records what it was given into its cwd, then waits (as `cat`). */
function recordingStub(dir: string): string {
  const stub = path.join(dir, 'stub');
  writeFileSync(stub, '#!/bin/sh\nprintf "%s\\n" "$@" > args.txt\nenv > env.txt\nexec cat\n');
  chmodSync(stub, 0o755);
  return stub;
}

describe('secrets', () => {
  it('are masked in plan, apply, status, ps, evidence, commits and the state dir; the agent gets them', async () => {
    const f = new TestFleet();
    fleet = f; // afterEach cleans it up
    const stub = recordingStub(f.dir);
    const wd = path.join(f.dir, 'wd');
    const runtimes = [
      'stub:',
      `    command: [${stub}, --token=s3cr3t-A, --password, s3cr3t-B, --model, s3cr3t-E, "${URL}"]`,
      '    env: { GH_TOKEN: s3cr3t-C, MY_VAR: s3cr3t-D, MODEL: s3cr3t-G }',
      '    redact: [--model, MY_VAR]',
      '    process_names: [cat]',
    ].join('\n');
    const team = roster(f.socket, `  - name: alpha\n    runtime: stub\n    working_directory: ${wd}\n`, runtimes);
    const desired = f.commit({ 'fleet.yaml': 'fleet: sec\n', 'rosters/team.yaml': team });
    const env = process.env;

    const runs: [string, Run][] = [];
    const run = async (...argv: string[]) => {
      const r = await gitfleet(f, env, ...argv);
      runs.push([argv.join(' '), r]);
      return r;
    };
    expect((await run('validate')).code).toBe(0);
    const plan = await run('plan');
    expect(plan.code).toBe(2);
    const shown = `'--token=${M}' --password '${M}' --model '${M}' 'https://bot:${M}@example.com/x'`;
    expect(plan.stdout).toContain(`exec ${stub} ${shown}`);
    const planJson = await run('plan', '--json');
    type Act = { kind: string; target: string; detail: { agent?: string; argv?: string[] } };
    const actions = JSON.parse(planJson.stdout).actions as Act[];
    const create = actions.find((a) => a.kind === 'create_session' && a.detail.agent === 'alpha')!;
    const argv = [stub, `--token=${M}`, '--password', M, '--model', M, `https://bot:${M}@example.com/x`];
    expect(create.detail.argv).toEqual(argv);
    const apply = await run('apply');
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    await run('apply', '--json');
    await run('status');
    await run('status', '--json');
    await run('ps');
    await run('ps', '--json');
    await run('agent', 'logs', 'alpha');

    // The agent got every real value.
    await waitFor(() => {
      try {
        return readFileSync(path.join(wd, 'env.txt'), 'utf8').includes('MY_VAR=');
      } catch {
        return false;
      }
    });
    expect(readFileSync(path.join(wd, 'args.txt'), 'utf8').trim().split('\n')).toEqual([
      '--token=s3cr3t-A',
      '--password',
      's3cr3t-B',
      '--model',
      's3cr3t-E',
      URL,
    ]);
    const agentEnv = readFileSync(path.join(wd, 'env.txt'), 'utf8');
    for (const kv of ['GH_TOKEN=s3cr3t-C', 'MY_VAR=s3cr3t-D', 'MODEL=s3cr3t-G']) expect(agentEnv).toContain(kv);

    // gitfleet's own output never shows one.
    for (const [what, r] of runs) {
      expect(r.stdout, what).not.toContain('s3cr3t');
      expect(r.stderr, what).not.toContain('s3cr3t');
    }
    // Nor anything gitfleet committed: every file at the status branch head but the operator's, every message.
    const branch = 'main';
    const ls = (rev: string) => sh('git', ['--git-dir', f.bare, 'ls-tree', '-r', rev]).trim().split('\n');
    const operators = new Set(ls(desired));
    const tree = ls(branch).filter((l) => !operators.has(l));
    const evidence = tree.filter((l) => l.includes('evidence/'));
    expect(evidence.length).toBeGreaterThan(0);
    for (const line of tree) {
      const [, , oid, name] = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/.exec(line)!.slice(1);
      expect(sh('git', ['--git-dir', f.bare, 'cat-file', '-p', oid!]), name).not.toContain('s3cr3t');
    }
    expect(sh('git', ['--git-dir', f.bare, 'log', '--format=%B', branch])).not.toContain('s3cr3t');
    // Evidence still shows what ran, masked.
    const evPath = tree.map((l) => l.split('\t')[1]!).find((p) => p.includes('create_session-alpha'))!;
    const ev = JSON.parse(f.show(`${branch}:${evPath}`));
    const masked = ['GH_TOKEN=<redacted>', 'MY_VAR=<redacted>', '--token=<redacted>', '--password', '<redacted>'];
    expect(ev.command).toEqual(expect.arrayContaining(masked));
    // Nor the state dir gitfleet keeps (pinned settings, pane log, heartbeat dirs).
    for (const file of filesUnder(f.stateDir)) expect(readFileSync(file, 'utf8'), file).not.toContain('s3cr3t');
  });
});

describe('pinned environment (tmux mode)', () => {
  it("new sessions get the first apply's PATH when a later apply runs elsewhere; --repin takes the new", async () => {
    const f = new TestFleet();
    fleet = f; // afterEach cleans it up
    const agents = (...names: string[]) => names.map((n) => `  - name: ${n}\n    runtime: stub\n`).join('');
    f.commit({ 'rosters/team.yaml': roster(f.socket, agents('alpha')) });
    const first = { ...process.env, PATH: `${process.env.PATH}:/opt/pinned-first`, LANG: 'C.UTF-8' };
    const second = { ...process.env, PATH: `${process.env.PATH}:/opt/pinned-second`, LANG: 'C' };
    const panePath = (s: string) => f.tmux('show-environment', '-t', `=${s}`, 'PATH').out.trim();

    expect((await gitfleet(f, first, 'apply')).code).toBe(0);
    expect(panePath('alpha')).toContain('/opt/pinned-first');
    const pinned = path.join(f.stateDir, 'pinned.json');
    expect(statSync(pinned).mode & 0o777).toBe(0o600);
    const pinnedNow = JSON.parse(readFileSync(pinned, 'utf8'));
    expect(pinnedNow).toMatchObject({ formatVersion: 1, lang: 'C.UTF-8', node: process.execPath });

    // From another environment: a new session still gets the pinned PATH, and nothing else changes.
    f.commit({ 'rosters/team.yaml': roster(f.socket, agents('alpha', 'beta')) });
    const plan = await gitfleet(f, second, 'plan', '--json');
    const actions = JSON.parse(plan.stdout).actions as { kind: string; target: string }[];
    const planned = actions.map((a) => `${a.kind} ${a.target}`);
    expect(planned).toEqual([`create_session ${f.socket}/beta`]);
    expect((await gitfleet(f, second, 'apply')).code).toBe(0);
    expect(panePath('beta')).toContain('/opt/pinned-first');
    expect(panePath('beta')).not.toContain('/opt/pinned-second');
    expect(JSON.parse(readFileSync(pinned, 'utf8')).lang).toBe('C.UTF-8');

    // --repin takes the calling environment again.
    f.commit({ 'rosters/team.yaml': roster(f.socket, agents('alpha', 'beta', 'gamma')) });
    const repin = await gitfleet(f, second, 'apply', '--repin');
    expect(repin.code, repin.stdout + repin.stderr).toBe(0);
    expect(panePath('gamma')).toContain('/opt/pinned-second');
    expect(JSON.parse(readFileSync(pinned, 'utf8')).lang).toBe('C');
    // Running sessions are left as they are: PATH is not part of an agent's spec.
    expect(panePath('alpha')).toContain('/opt/pinned-first');

    // --repin is apply's alone.
    expect((await gitfleet(f, second, 'plan', '--repin')).code).toBe(64);
  });

  it('replaces an unreadable pinned.json at the next apply', async () => {
    const f = new TestFleet();
    fleet = f; // afterEach cleans it up
    f.commit({ 'rosters/team.yaml': roster(f.socket, '  - name: alpha\n    runtime: stub\n') });
    mkdirSync(f.stateDir, { recursive: true });
    writeFileSync(path.join(f.stateDir, 'pinned.json'), '{ not json');
    const env = { ...process.env, PATH: `${process.env.PATH}:/opt/healed` };
    expect((await gitfleet(f, env, 'apply')).code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(f.stateDir, 'pinned.json'), 'utf8')).path).toContain('/opt/healed');
    expect(f.tmux('show-environment', '-t', '=alpha', 'PATH').out).toContain('/opt/healed');
  });
});
