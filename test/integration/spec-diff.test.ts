// A roster edit, as the built CLI (dist/cli.js) shows it: plan and apply name the fields that changed, old → new,
// and a secret's value appears nowhere (stdout, stderr, --json, the committed status and evidence, tmux's
// options). Real git repository, real tmux on a private socket.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Run, roster, sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();
let fleet: TestFleet;
afterEach(() => fleet?.cleanup());

const BIN = path.resolve('dist/cli.js');
beforeAll(() => {
  // Integration tests run what npm test built; say so plainly when it was not.
  const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dist/cli.js does not run (npm run build first): ${r.stderr}`);
});

/** The built CLI on the test fleet, as a user runs it. */
function gitfleet(...args: string[]): Run {
  const r = spawnSync(
    process.execPath,
    [BIN, ...args, '--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host],
    { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const agent = (mood: string, token: string) =>
  `  - name: a\n    runtime: stub\n    update: recreate\n    env:\n      MOOD: ${mood}\n      API_TOKEN: ${token}\n`;

/** Everything gitfleet committed besides the desired state: status files and evidence, every version. */
function committedByGitfleet(): string {
  return sh('git', ['--git-dir', fleet.bare, 'log', '-p', '--all', '--', 'status', 'evidence']);
}

describe('plan and apply show which spec fields changed', () => {
  it('env.MOOD: calm → stormy; the token is masked everywhere, changed or not', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('calm', 'tok-OLD-4f1e9a')) });
    expect(gitfleet('apply').code).toBe(0);
    // The session keeps its fields for the next plan, the token only as a seal.
    const kept = fleet.tmux('show-options', '-v', '-t', '=a:', '@gitfleet-spec-fields');
    expect(kept.code).toBe(0);
    expect(kept.out).toContain('"MOOD":"calm"');
    expect(kept.out).toMatch(/"API_TOKEN":\{"sealed":"[0-9a-f]{16}"\}/);
    expect(kept.out).not.toContain('tok-');

    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('stormy', 'tok-NEW-7c2d0b')) });
    const plan = gitfleet('plan');
    expect(plan.stdout).toMatch(
      /~ restart_session [^\n]*\/a \(spec_changed\)\n {6}env\.API_TOKEN: \(secret changed\)\n/,
    );
    expect(plan.stdout).toContain('\n      env.MOOD: calm → stormy\n');
    // No internal hashes in the prose: the fields say what changed.
    expect(plan.stdout).not.toMatch(/spec [0-9a-f?]+ → [0-9a-f]+/);
    const json = JSON.parse(gitfleet('plan', '--json').stdout);
    const restart = json.actions.find((x: { kind: string }) => x.kind === 'restart_session');
    expect(restart.detail.changes).toEqual([
      { field: 'env.API_TOKEN', old: { masked: true }, new: { masked: true } },
      { field: 'env.MOOD', old: 'calm', new: 'stormy' },
    ]);
    expect(restart.detail.runningSpec).toMatch(/^[0-9a-f]{16}$/); // the hashes stay as data

    const apply = gitfleet('apply');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('\n      env.MOOD: calm → stormy\n');
    const applyJson = gitfleet('apply', '--json'); // converged now: nothing to change, still nothing secret
    expect(JSON.parse(applyJson.stdout).converged).toBe(true);
    const after = fleet.tmux('show-options', '-v', '-t', '=a:', '@gitfleet-spec-fields');
    expect(after.out).toContain('"MOOD":"stormy"');

    const everything = [plan, apply, applyJson, gitfleet('plan', '--json'), gitfleet('status', '--json')]
      .flatMap((r) => [r.stdout, r.stderr])
      .join('\n');
    const committed = committedByGitfleet();
    expect(committed).toContain('status/testhost.json'); // the log read is not empty
    for (const secret of ['tok-OLD-4f1e9a', 'tok-NEW-7c2d0b', 'tok-']) {
      expect(everything).not.toContain(secret);
      expect(committed).not.toContain(secret);
      expect(after.out).not.toContain(secret);
    }
  }, 120_000);

  it('a session started before fields were kept says "spec changed (fields unknown)"', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('calm', 'tok-A')) });
    expect(gitfleet('apply').code).toBe(0);
    // As an older gitfleet left it: the hash, no fields.
    expect(fleet.tmux('set-option', '-u', '-t', '=a:', '@gitfleet-spec-fields').code).toBe(0);
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('stormy', 'tok-A')) });
    const plan = gitfleet('plan');
    expect(plan.stdout).toMatch(/restart_session [^\n]*\/a \(spec_changed\): [^\n]*spec changed \(fields unknown\)\n/);
    expect(plan.stdout).not.toContain('env.MOOD');
    const json = JSON.parse(gitfleet('plan', '--json').stdout);
    expect(json.actions.find((x: { kind: string }) => x.kind === 'restart_session').detail.changes).toBeNull();
  }, 120_000);
});
