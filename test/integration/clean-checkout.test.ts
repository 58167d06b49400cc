// A clone of this repository alone passes its tests: nothing they read may
// live beside the checkout (such as ../shared). Clones the committed HEAD into
// an empty temp dir, borrows node_modules, and runs the suites that read
// fixtures there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = process.cwd();
const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-clone-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a clean checkout', () => {
  it('passes the fixture-reading tests with nothing beside it', () => {
    const clone = path.join(dir, 'gitfleet');
    const git = spawnSync('git', ['clone', '-q', '--no-hardlinks', root, clone], { encoding: 'utf8' });
    expect(git.status, git.stderr).toBe(0);
    symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'));
    const run = spawnSync(
      process.execPath,
      [
        path.join(root, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        'test/unit/roster.test.ts',
        'test/unit/planner.test.ts',
      ],
      {
        cwd: clone,
        encoding: 'utf8',
        env: { ...process.env, CI: 'true', FORCE_COLOR: '0', NO_COLOR: '1' },
        timeout: 120_000,
      },
    );
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Test Files\s+2 passed/);
  }, 150_000);
});
