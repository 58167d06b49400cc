// 50 people push to the fleet branch at once while `gitfleet run` reconciles it and commits status to that same
// branch (local mode, status on main: the most contended case). Every person's commit must be on main afterwards,
// the daemon's status must have landed with every agent, and `git fsck` must be clean. People push as people do:
// rejected, they pull --rebase and push again. Real git, real tmux on a private socket, the built CLI. In the fault
// suite, not `npm test`: fifty people's retries take minutes on two cores.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../helpers/daemon.js';
import { roster, sh, TestFleet, usePrivateTmux, waitFor } from '../helpers/fleet.js';

usePrivateTmux();

const run = promisify(execFile);
const PEOPLE = 50;
let fleet: TestFleet;
let daemon: DaemonProcess | null = null;
afterEach(async () => {
  await daemon?.stop('SIGKILL');
  daemon = null;
  fleet?.cleanup();
});

const agent = (name: string) => `  - name: ${name}\n    runtime: stub\n`;

/** One person: a clone, a roster of their own, pushed until it lands. */
async function person(i: number): Promise<number> {
  const dir = path.join(fleet.dir, `person-${i}`);
  const git = (...args: string[]) =>
    run('git', ['-c', `user.name=Person ${i}`, '-c', 'user.email=p@example.invalid', ...args], { cwd: dir });
  await run('git', ['clone', '-q', fleet.bare, dir]);
  mkdirSync(path.join(dir, 'rosters'), { recursive: true });
  writeFileSync(path.join(dir, 'rosters', `p${i}.yaml`), roster(fleet.socket, agent(`p${i}`)));
  await git('add', '-A');
  await git('commit', '-q', '-m', `person ${i} adds p${i}`);
  for (let attempt = 1; ; attempt++) {
    try {
      await git('push', '-q', 'origin', 'HEAD:main');
      return attempt;
    } catch (e) {
      if (attempt >= 200) throw e;
      // As people do: a moment, then pull and push again (without it, fifty retry loops mostly collide).
      await new Promise((r) => setTimeout(r, Math.random() * 100 * Math.min(attempt, 10)));
      await git('pull', '-q', '--rebase', 'origin', 'main');
    }
  }
}

describe('gitfleet run under concurrent pushes', () => {
  it(`${PEOPLE} people push at once while it reconciles: every commit kept, status landed, fsck clean`, async () => {
    fleet = new TestFleet();
    fleet.commit({ 'fleet.yaml': 'fleet: busy\n', 'rosters/team.yaml': roster(fleet.socket, agent('alpha')) });
    daemon = new DaemonProcess(fleet);
    await daemon.waitForLine(/ reconcile trigger=start outcome=ok /);

    const t0 = Date.now();
    const attempts = await Promise.all(Array.from({ length: PEOPLE }, (_, i) => person(i)));
    expect(Math.max(...attempts)).toBeGreaterThan(1); // they did race
    const pushed = Date.now() - t0;

    // The daemon converges on what they pushed; its last status names every agent.
    const names = ['alpha', ...Array.from({ length: PEOPLE }, (_, i) => `p${i}`)].sort();
    await waitFor(() => {
      try {
        return (
          fleet.status().agents.filter((a) => a.conditions.some((c) => c.type === 'Ready')).length === names.length
        );
      } catch {
        return false;
      }
    }, 120_000);
    expect(
      fleet
        .status()
        .agents.map((a) => a.name)
        .sort(),
    ).toEqual(names);
    console.log(`pushed in ${pushed} ms (most attempts ${Math.max(...attempts)}), converged at ${Date.now() - t0} ms`);
    const subjects = sh('git', ['--git-dir', fleet.bare, 'log', '--format=%s', 'main']);
    for (let i = 0; i < PEOPLE; i++) expect(subjects).toContain(`person ${i} adds p${i}`);
    expect(subjects).toMatch(/^gitfleet\(testhost\): /m);
    sh('git', ['--git-dir', fleet.bare, 'fsck', '--strict', '--no-dangling']);
    expect(await daemon.stop()).toBe(0);
    expect(daemon.stderr).toBe('');
  }, 480_000);
});
