// Checking the work tree before committing (validate --worktree, validate
// FILE..., a pre-commit hook), the note on uncommitted fleet files from
// validate and plan, and one revision for one state. Real git repositories
// and the real `git commit` running the hook the README documents.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { roster, type Run, sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();
let fleet: TestFleet;
const temps: string[] = [];
afterEach(() => {
  fleet?.cleanup();
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

const BIN = path.resolve('dist/cli.js');
const agent = (name: string) => `  - name: ${name}\n    runtime: stub\n`;

/** The CLI in-process on `repo` (the work clone, or the bare repository). */
async function cli(repo: string, ...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => (stdout += s), stderr: (s: string) => (stderr += s), env: process.env };
  const code = await main([...args, '--repo', repo, '--state-dir', fleet.stateDir, '--host', fleet.host], io);
  return { code, stdout, stderr };
}

/** Write (or, for null, delete) files in the work clone without committing them. */
function edit(files: Record<string, string | null>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(fleet.work, rel);
    if (content === null) unlinkSync(p);
    else {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
  }
}

describe('validate --worktree', () => {
  // Many git processes (a nested repository, two commits): slow on a loaded machine.
  it('checks the files on disk with the rules and positions a commit of them gets', { timeout: 90_000 }, async () => {
    fleet = new TestFleet();
    // Committed: agent a declared twice, which the work tree fixes by deleting one file.
    fleet.commit({
      'rosters/a.yaml': roster(fleet.socket, agent('a')),
      'rosters/dup.yaml': roster(fleet.socket, agent('a')),
      '.gitignore': '*.swp\n',
    });
    edit({
      'rosters/dup.yaml': null,
      'rosters/a.yaml': roster(fleet.socket, agent('a') + agent('b b')), // a bad name at line 12
      'rosters/b.yaml': 'version: 1\nagents:\n  - name: c\n    runtime: [x\n', // untracked, broken
      'rosters/.a.yaml.swp': 'editor swap: ignored by git, so not there', // ignored and untracked
      'rosters/todo.txt': 'not a roster', // untracked: refused as in a commit
      'rosters/README.md': 'notes', // notes are not desired state
      'rosters/old/x.yaml': 'version: 1\n', // a subfolder: refused as in a commit
    });
    symlinkSync('a.yaml', path.join(fleet.work, 'rosters/link.yaml'));
    // A repository inside the folder: a submodule (gitlink) once committed.
    const nested = path.join(fleet.work, 'rosters/vendored');
    sh('git', ['init', '-q', nested]);
    writeFileSync(path.join(nested, 'r.yaml'), 'version: 1\n');
    sh('git', ['-C', nested, 'add', '-A']);
    sh('git', ['-C', nested, '-c', 'user.name=O', '-c', 'user.email=o@example.invalid', 'commit', '-q', '-m', 'x']);

    const committed = await cli(fleet.work, 'validate', '--json');
    expect(committed.code).toBe(1);
    const c = JSON.parse(committed.stdout);
    expect(c.worktree).toBe(false);
    expect(c.problems.map((p: { file: string }) => p.file)).toEqual(['rosters/a.yaml', 'rosters/dup.yaml']);
    expect(c.uncommitted).toEqual([
      'rosters/a.yaml',
      'rosters/b.yaml',
      'rosters/dup.yaml',
      'rosters/link.yaml',
      'rosters/old/x.yaml',
      'rosters/todo.txt',
      'rosters/vendored',
    ]);
    expect(committed.stderr).toBe(
      'note: 7 uncommitted changes are not part of what was checked (rosters/a.yaml, rosters/b.yaml, ' +
        'rosters/dup.yaml, rosters/link.yaml, rosters/old/x.yaml and 2 more); ' +
        'commit them, or use validate --worktree\n',
    );

    const disk = await cli(fleet.work, 'validate', '--worktree', '--json');
    expect(disk.code).toBe(1);
    const d = JSON.parse(disk.stdout);
    expect(d).toMatchObject({ valid: false, worktree: true, revision: null, uncommitted: [] });
    expect(disk.stderr).toBe('');
    expect(d.problems.map((p: { file: string; line: number }) => `${p.file}:${p.line}`)).toEqual([
      'rosters/a.yaml:12',
      'rosters/b.yaml:4',
      'rosters/link.yaml:1',
      'rosters/old:1',
      'rosters/todo.txt:1',
      'rosters/vendored:1',
    ]);
    expect(d.files.map((f: { path: string }) => f.path)).not.toContain('rosters/dup.yaml');
    const text = await cli(fleet.work, 'validate', '--worktree');
    expect(text.stdout).toContain('rosters/a.yaml:12:11: agents[1].name: "b b" is not allowed');
    expect(text.stdout).toContain('rosters/old:1:1: is a directory in the rosters folder');
    expect(text.stdout).toContain('rosters/vendored:1:1: is a submodule (gitlink) in the rosters folder');
    expect(text.stdout).toMatch(/\ninvalid: 6 problems in 6 file\(s\) in the work tree\n$/);

    // Committed as they are, the same files get the very same problems and notes.
    fleet.git('add', '-A');
    fleet.git('commit', '-q', '-m', 'as on disk');
    const after = await cli(fleet.work, 'validate', '--json');
    const a = JSON.parse(after.stdout);
    expect(a.problems).toEqual(d.problems);
    expect(a.notes).toEqual(d.notes);
    expect(a.uncommitted).toEqual([]);
    expect(after.stderr).toBe('');
  });

  it('is refused on a bare repository and by other commands', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('a')) });
    const bare = await cli(fleet.bare, 'validate', '--worktree');
    expect(bare.code).toBe(64);
    expect(bare.stderr).toContain('is a bare repository: it has no work tree to check');
    const plan = await cli(fleet.work, 'plan', '--worktree');
    expect(plan).toMatchObject({ code: 64, stderr: 'gitfleet: --worktree is an option of validate only\n' });
  });
});

describe('validate FILE...', () => {
  // Runs the built bin (a current directory of its own) three times: slow on a loaded machine.
  it('reports on the files given, judged against the rest of the work tree; others are refused', {
    timeout: 90_000,
  }, async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('a')), 'README.md': 'the fleet\n' });
    edit({
      'rosters/b.yaml': roster(fleet.socket, agent('b')),
      'rosters/c.yaml': roster(fleet.socket, agent('a')), // a is a.yaml's: a rule across files
    });
    // Relative to the current directory, as a shell or a hook gives them.
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, 'validate', ...args, '--repo', '..', '--state-dir', fleet.stateDir], {
        cwd: path.join(fleet.work, 'rosters'),
        encoding: 'utf8',
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const dup = run('c.yaml');
    expect(dup.code).toBe(1);
    expect(dup.stdout).toBe(
      'rosters/c.yaml:10:5: agent "a" is also declared in rosters/a.yaml on socket ' +
        `"${fleet.socket}"; an agent has one owner file: remove one declaration ` +
        '(until then neither applies, and the last valid spec stays in force)\n' +
        'invalid: 1 problem in 1 file(s) in the work tree (rosters/c.yaml)\n',
    );
    // Absolute paths do not depend on the current directory: in-process.
    const missing = await cli(
      fleet.work,
      'validate',
      path.join(fleet.work, 'rosters/b.yaml'),
      path.join(fleet.work, 'fleet.yaml'),
    );
    expect(missing).toMatchObject({
      code: 64,
      stderr: `gitfleet: ${path.join(fleet.work, 'fleet.yaml')}: no such file\n`,
    });
    expect(run('b.yaml')).toMatchObject({
      code: 0,
      stdout: 'valid: 1 files, 1 rosters, 1 agents in the work tree (rosters/b.yaml)\n',
    });
    const readme = run('../README.md');
    expect(readme.code).toBe(64);
    expect(readme.stderr).toBe(
      'gitfleet: ../README.md (README.md in the work tree) is not a desired-state file; ' +
        'allowed: fleet.yaml, rosters/*.yaml\n',
    );
    const outside = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-outside-'));
    temps.push(outside);
    writeFileSync(path.join(outside, 'x.yaml'), 'version: 1\n');
    const far = await cli(fleet.work, 'validate', path.join(outside, 'x.yaml'));
    expect(far.code).toBe(64);
    expect(far.stderr).toContain(`${path.join(outside, 'x.yaml')} is outside the work tree`);
  });
});

describe('a pre-commit hook', () => {
  it("the README's hook refuses a commit with an invalid roster, with file:line:col, and lets a valid one in", {
    timeout: 90_000,
  }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-hook-'));
    temps.push(dir);
    const repo = path.join(dir, 'fleet');
    sh('git', ['init', '-q', '-b', 'main', repo]);
    // The hook exactly as the README documents it, with `gitfleet` on PATH as after npm i -g.
    const readme = readFileSync('README.md', 'utf8');
    const hook = /cat > \.git\/hooks\/pre-commit <<'EOF'\n([\s\S]*?)\nEOF\n/.exec(readme)?.[1];
    expect(hook, 'the pre-commit hook block in README.md').toContain('gitfleet validate --worktree');
    writeFileSync(path.join(repo, '.git/hooks/pre-commit'), `${hook}\n`);
    chmodSync(path.join(repo, '.git/hooks/pre-commit'), 0o755);
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'gitfleet'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    chmodSync(path.join(bin, 'gitfleet'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, GITFLEET_STATE_DIR: path.join(dir, 'state') };
    const git = (...args: string[]) =>
      spawnSync('git', ['-c', 'user.name=Operator', '-c', 'user.email=op@example.invalid', ...args], {
        cwd: repo,
        env,
        encoding: 'utf8',
      });

    mkdirSync(path.join(repo, 'rosters'));
    writeFileSync(path.join(repo, 'rosters/a.yaml'), roster('hooksock', '  - name: a\n    runtime: claude\n'));
    git('add', '-A');
    const refused = git('commit', '-q', '-m', 'first fleet');
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain(
      'rosters/a.yaml:11:14: agents[0].runtime: "claude" is not declared under runtimes',
    );
    expect(git('rev-parse', '--verify', '-q', 'HEAD').status).not.toBe(0); // nothing was committed

    writeFileSync(path.join(repo, 'rosters/a.yaml'), roster('hooksock', agent('a')));
    git('add', '-A');
    const accepted = git('commit', '-q', '-m', 'first fleet');
    expect(accepted.status).toBe(0);
    expect(accepted.stdout + accepted.stderr).toBe('valid: 2 files, 1 rosters, 1 agents in the work tree\n');
    expect(git('log', '--format=%s').stdout).toBe('first fleet\n');
  });
});

describe('uncommitted changes', () => {
  it('plan of a work tree names the uncommitted fleet files; of a bare repository, none', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('a')) });
    edit({
      'rosters/a.yaml': roster(fleet.socket, agent('a') + agent('b')),
      'rosters/notes.md': 'notes are not desired state',
      'src/other.txt': 'not a fleet file',
    });
    const plan = await cli(fleet.work, 'plan', '--json');
    expect(plan.code).toBe(2);
    expect(JSON.parse(plan.stdout).uncommitted).toEqual(['rosters/a.yaml']);
    expect(plan.stderr).toBe(
      'note: 1 uncommitted change is not part of what was planned (rosters/a.yaml); ' +
        'commit it, or use validate --worktree\n',
    );
    const text = await cli(fleet.work, 'plan');
    expect(text.stderr).toContain('note: 1 uncommitted change');
    const bare = await cli(fleet.bare, 'plan', '--json');
    expect(JSON.parse(bare.stdout).uncommitted).toEqual([]);
    expect(bare.stderr).toBe('');
  });
  it('validate still checks the commit when git cannot run to tell, and says so', async () => {
    fleet = new TestFleet();
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('a')) });
    edit({ 'rosters/a.yaml': roster(fleet.socket, agent('a') + agent('b')) });
    const argv = [BIN, 'validate', '--repo', fleet.work, '--state-dir', fleet.stateDir];
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^valid: 2 files, 1 rosters, 1 agents at [0-9a-f]{12}\n$/);
    expect(r.stderr).toMatch(/^note: cannot tell which fleet files are uncommitted: git is not on PATH\n$/);
  });
});

describe('one revision for one state', () => {
  it('validate, plan and status name the same revision, also with a status commit on top', async () => {
    fleet = new TestFleet();
    const desired = fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agent('a')) });
    expect((await cli(fleet.bare, 'apply')).code).toBe(0);
    expect(fleet.headOf('main')).not.toBe(desired); // status was committed on top of the desired state
    const v = JSON.parse((await cli(fleet.bare, 'validate', '--json')).stdout);
    const p = JSON.parse((await cli(fleet.bare, 'plan', '--json')).stdout);
    expect(v.revision).toBe(desired);
    expect(p.desiredRevision).toBe(desired);
    expect(fleet.status().desiredRevision).toBe(desired);
    const short = desired.slice(0, 12);
    expect((await cli(fleet.bare, 'validate')).stdout).toContain(` at ${short}\n`);
    expect((await cli(fleet.bare, 'plan')).stdout).toContain(` at ${short}:`);
    expect((await cli(fleet.bare, 'status')).stdout).toContain(`at ${short} (host`);
  });
});
