// A no-op apply (or ps) does not load the code that parses (issue #11): the YAML parser, the schema validators,
// croner and the parsers of fleet.yaml and the kinds stay on disk while every parse is remembered in the state dir
// (src/desired/parse-memo.ts), and load again as soon as one file's parse is not. Which of dist/'s chunks a run of
// the built CLI loads is seen through node's module hooks (test/fixtures/module-log), and what each chunk holds
// through its source map.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { roster, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const HOOK = fileURLToPath(new URL('../fixtures/module-log/register.mjs', import.meta.url));
usePrivateTmux();
let fleets: TestFleet[] = [];
afterEach(() => {
  for (const f of fleets) f.cleanup();
  fleets = [];
});

/** What counts as parsing code: the parse-only libraries, and gitfleet's modules that parse. */
const PARSING = [
  /node_modules\/yaml\//,
  /node_modules\/croner\//,
  /src\/generated\/validators\.ts$/,
  /src\/desired\/(yaml|schema|fleet-parse|cron)\.ts$/,
  /src\/desired\/kinds\/roster\/parse\.ts$/,
];

/** The sources (from src/ and node_modules/) of the dist files a run loaded, by their source maps. */
function sourcesLoaded(log: string): string[] {
  const files = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:') && url.includes('/dist/'))
    .map((url) => fileURLToPath(url));
  const sources = files.flatMap((file) => {
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
    return map.sources.map((s) =>
      path.relative(path.join(path.dirname(CLI), '..'), path.resolve(path.dirname(file), s)),
    );
  });
  return [...new Set(sources)].sort();
}

function gitfleet(f: TestFleet, n: number, command = 'apply'): { stdout: string; parsing: string[] } {
  const log = path.join(f.dir, `modules-${command}-${n}.log`);
  writeFileSync(log, '');
  const r = spawnSync(
    process.execPath,
    ['--import', HOOK, CLI, command, '--repo', f.bare, '--state-dir', f.stateDir, '--host', f.host],
    { env: { ...process.env, MODULE_LOG_FILE: log }, encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const parsing = sourcesLoaded(log).filter((s) => PARSING.some((p) => p.test(s)));
  return { stdout: r.stdout, parsing };
}

describe('a no-op apply of the built CLI', () => {
  it('loads no parsing code while every parse is remembered, and loads it again for a changed file', () => {
    const f = new TestFleet('lazy');
    fleets.push(f);
    const agents = '  - name: a1\n    runtime: stub\n  - name: a2\n    runtime: stub\n';
    f.commit({ 'fleet.yaml': 'fleet: lazy\nsupervisor: tmux\n', 'rosters/team.yaml': roster(f.socket, agents) });

    // The first run parses: the hooks see the parsing code (so the check below can fail).
    const first = gitfleet(f, 1);
    expect(first.parsing).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/node_modules\/yaml\//),
        'src/desired/fleet-parse.ts',
        'src/desired/kinds/roster/parse.ts',
        'src/generated/validators.ts',
      ]),
    );

    // Converged, twice over: nothing that parses is loaded, and the runs say the same.
    const second = gitfleet(f, 2);
    const third = gitfleet(f, 3);
    expect(second.parsing).toEqual([]);
    expect(third.parsing).toEqual([]);
    expect(third.stdout).toBe(second.stdout);
    expect(second.stdout).toMatch(/Converged: 2\/2 ready/);
    // So does ps, which reads the desired state the same way.
    const ps = gitfleet(f, 1, 'ps');
    expect(ps.parsing).toEqual([]);
    expect(ps.stdout).toMatch(/a1/);

    // A new fleet.yaml blob is parsed (and with it the YAML parser loads); the roster's parse is still remembered.
    f.commit({ 'fleet.yaml': 'fleet: lazy\nsupervisor: tmux\nhosts: []\n' });
    const changed = gitfleet(f, 4);
    expect(changed.parsing).toContain('src/desired/fleet-parse.ts');
    expect(changed.parsing).not.toContain('src/desired/kinds/roster/parse.ts');
    expect(gitfleet(f, 5).parsing).toEqual([]);
  }, 120_000);
});
