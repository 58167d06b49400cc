// supervisor: systemd with a real, private user manager (test/helpers/systemd.ts):
// the unit and spec files gitfleet writes depend on the desired state and on
// the settings pinned in the state dir at the first apply, not on the calling
// environment. An apply from another shell (other PATH, LANG) plans no file
// write and no daemon-reload, rewrites nothing and commits nothing
// (issue #8, item 11). Units run the built CLI (npm test builds first).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { roster, TestFleet, type Run, usePrivateTmux, filesUnder } from '../helpers/fleet.js';
import { UserManager } from '../helpers/systemd.js';

usePrivateTmux();

let fleet: TestFleet | null = null;
let manager: UserManager | null = null;
afterEach(async () => {
  // The manager first: its units own the tmux server and would restart a killed one.
  await manager?.stop();
  manager = null;
  fleet?.cleanup();
  fleet = null;
});

const gitfleet = (f: TestFleet, env: NodeJS.ProcessEnv, ...argv: string[]): Promise<Run> =>
  f.gitfleetWith(env, ...argv);

/** Every file under a directory (path → content), recursively. */
function contents(dir: string): Map<string, string> {
  return new Map(filesUnder(dir).map((p) => [p, readFileSync(p, 'utf8')]));
}

describe('pinned environment (supervisor: systemd)', () => {
  it('an apply from another environment leaves unit and spec files as they were: no write/reload/commit', async () => {
    const f = new TestFleet('fl');
    fleet = f; // afterEach cleans it up
    const team = roster(f.socket, '  - name: alpha\n    runtime: stub\n');
    f.commit({ 'fleet.yaml': 'supervisor: systemd\n', 'rosters/team.yaml': team });
    const m = new UserManager();
    manager = m; // afterEach cleans it up
    Object.assign(m.env, { LANG: 'C.UTF-8', PATH: `${process.env.PATH}:/opt/timer-path` });
    await m.start();

    const first = await gitfleet(f, m.env, 'apply');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const units = contents(m.unitDir);
    const specs = contents(path.join(f.stateDir, 'specs'));
    expect([...units.values()].join('\n')).toContain('/opt/timer-path');
    expect([...units.values()].join('\n')).toContain('"LANG=C.UTF-8"');
    expect([...specs.values()].join('\n')).toContain('/opt/timer-path');
    const mtimes = [...units.keys(), ...specs.keys()].map((p) => statSync(p).mtimeMs);
    const head = f.headOf('main');

    // An operator's shell: another PATH and LANG.
    const shell = { ...m.env, PATH: `${process.env.PATH}:/opt/shell-path`, LANG: 'en_US.UTF-8' };
    const plan = await gitfleet(f, shell, 'plan', '--json');
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).actions).toEqual([]);
    const again = await gitfleet(f, shell, 'apply');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/install_unit|reload_units/);
    expect(again.stdout).toContain('Status unchanged: no commit.');
    expect(f.headOf('main')).toBe(head);
    expect(contents(m.unitDir)).toEqual(units);
    expect(contents(path.join(f.stateDir, 'specs'))).toEqual(specs);
    expect([...units.keys(), ...specs.keys()].map((p) => statSync(p).mtimeMs)).toEqual(mtimes);

    // --repin takes the shell's values: the units are rewritten once, and reloaded.
    const repin = await gitfleet(f, shell, 'apply', '--repin', '--json');
    expect(repin.code, repin.stdout + repin.stderr).toBe(0);
    const kinds = (JSON.parse(repin.stdout).plan.actions as { kind: string }[]).map((a) => a.kind);
    expect(kinds).toContain('install_unit');
    expect(kinds).toContain('reload_units');
    expect([...contents(m.unitDir).values()].join('\n')).toContain('/opt/shell-path');
  });
});
