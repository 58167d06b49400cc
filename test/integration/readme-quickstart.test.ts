// README.md's "First fleet in five minutes", run as written: the ```sh blocks
// between the quickstart markers, in order, in one bash (as a reader pastes
// them into one shell), with `gitfleet` on PATH as the built dist/cli.js. A
// change to the README that breaks a command, or to gitfleet that breaks the
// README, fails here. Between the blocks the test looks at what they made:
// the agents' tmux sessions, `gitfleet ps --json`, the committed status.
//
// Isolation: HOME is a temp dir (the fleet repository, the state dir, a
// .gitconfig as a new user has one), and so are TMUX_TMPDIR, so even the
// "default" tmux server would be a private one (the test checks that the
// commands never start it), and XDG_RUNTIME_DIR, so no systemd user manager
// answers.
//
// Also the Install section's commands that need no registry: `npm i -g .`
// into a temp prefix, `npx gitfleet` in the clone, and what `npm pack` packs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..', '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const host = os.hostname().split('.')[0]!;

const temps: string[] = [];
let socketsDir: string | null = null;
afterEach(() => {
  // Whatever a failed run left: its tmux servers live only in the test's TMUX_TMPDIR.
  if (socketsDir && existsSync(socketsDir))
    for (const s of spawnSync('ls', [socketsDir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean))
      spawnSync('tmux', ['-S', path.join(socketsDir, s), 'kill-server'], { stdio: 'ignore' });
  socketsDir = null;
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});
const temp = (prefix: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
};

/** The ```sh blocks between `<!-- quickstart:begin ... -->` and `<!-- quickstart:end -->`. */
function quickstartBlocks(text: string): string[] {
  const begin = text.indexOf('<!-- quickstart:begin');
  const end = text.indexOf('<!-- quickstart:end -->');
  if (begin < 0 || end < begin) throw new Error('README.md has no quickstart:begin ... quickstart:end markers');
  return [...text.slice(begin, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Commands a block says exit non-zero (`# exit N: ...`), by their text. */
function expectedExits(blocks: string[]): string[] {
  return blocks
    .flatMap((b) => b.split('\n'))
    .flatMap((l) => {
      const m = /^(.*?)\s+#\s*exit (\d+)\b/.exec(l);
      return m ? [`${m[2]} ${m[1]!.trim()}`] : [];
    });
}

describe('README: First fleet in five minutes', () => {
  it('works as written: sessions up, ps Ready, status committed; cleaned up after', () => {
    const blocks = quickstartBlocks(readme);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const dir = temp('gitfleet-quickstart-');
    const home = path.join(dir, 'home');
    const tmuxDir = path.join(dir, 'tmux');
    const bin = path.join(dir, 'bin');
    const checks = path.join(dir, 'checks');
    for (const d of [home, tmuxDir, bin, checks]) mkdirSync(d, { mode: 0o700 });
    socketsDir = path.join(tmuxDir, `tmux-${process.getuid!()}`);
    symlinkSync(path.join(root, 'dist', 'cli.js'), path.join(bin, 'gitfleet'));
    writeFileSync(path.join(home, '.gitconfig'), '[user]\n\tname = New User\n\temail = new@example.invalid\n');

    // One shell: each failing command is noted (a README line that fails must say `# exit N`), and after block N
    // the test's look: ps --json, the sessions on the fleet's socket, the directory the reader is in.
    const look = (n: number) =>
      [
        `gitfleet ps --json > ${checks}/ps-${n}.json 2>&1`,
        `tmux -L first-fleet list-sessions -F '#{session_name}' > ${checks}/tmux-${n}.txt 2>&1`,
        `pwd > ${checks}/pwd-${n}.txt`,
        `git show status:status/${host}.json > ${checks}/status-${n}.json`,
        `git log --format=%an main > ${checks}/authors-${n}.txt`,
      ].join('\n');
    const script = [
      'set -o errtrace',
      `trap 'echo "$? $BASH_COMMAND" >> ${checks}/failed.txt' ERR`,
      ...blocks.flatMap((b, i) => [b, `{ ${look(i + 1)}\n} 2>/dev/null || true`]),
    ].join('\n');
    const env: NodeJS.ProcessEnv = {
      HOME: home,
      PATH: `${bin}:${process.env.PATH}`,
      LANG: 'C.UTF-8',
      TMUX_TMPDIR: tmuxDir,
      XDG_RUNTIME_DIR: tmuxDir,
      TERM: 'xterm-256color',
      USER: os.userInfo().username,
    };
    const r = spawnSync('bash', ['-c', script], { cwd: home, env, encoding: 'utf8', timeout: 120_000 });
    const said = `${r.stdout}\n${r.stderr}`;
    expect(r.status, said).toBe(0);
    const failed = existsSync(path.join(checks, 'failed.txt'))
      ? readFileSync(path.join(checks, 'failed.txt'), 'utf8').trim().split('\n')
      : [];
    expect(failed, said).toEqual(expectedExits(blocks));
    expect(expectedExits(blocks)).toEqual(['2 gitfleet plan']);

    // After the first block: the agent's session on the fleet's socket, Ready, and status committed.
    const fleet = path.join(home, 'first-fleet');
    const read = (f: string) => readFileSync(path.join(checks, f), 'utf8');
    expect(read('pwd-1.txt').trim()).toBe(fleet);
    expect(read('tmux-1.txt').split('\n').filter(Boolean).sort()).toEqual(['_holder', 'hello']);
    const ps1 = JSON.parse(read('ps-1.json'));
    expect(ps1).toMatchObject({ fleet: 'first', supervisor: { mode: 'tmux' } });
    expect(ps1.agents.map((a: { name: string; state: string }) => [a.name, a.state])).toEqual([['hello', 'Ready']]);
    expect(said).toContain('hello accepted the message');
    expect(said).toContain('hi from the fleet');

    // After the second: the agent added by a commit runs too, and this host's status on the branch status says so.
    expect(read('tmux-2.txt').split('\n').filter(Boolean).sort()).toEqual(['_holder', 'hello', 'world']);
    const ps2 = JSON.parse(read('ps-2.json'));
    expect(ps2.agents.map((a: { name: string; state: string }) => [a.name, a.state]).sort()).toEqual([
      ['hello', 'Ready'],
      ['world', 'Ready'],
    ]);
    expect(said).toMatch(/Converged: 2\/2 ready/);
    const status = JSON.parse(read('status-2.json'));
    expect(status).toMatchObject({ converged: true, fleet: 'first' });
    expect(status.agents.map((a: { name: string }) => a.name).sort()).toEqual(['hello', 'world']);
    // main is the reader's: gitfleet commits status to the branch fleet.yaml names, nothing to main.
    expect(read('authors-2.txt').trim().split('\n')).toEqual(['New User', 'New User']);

    // The last block cleaned up: the fleet's tmux server and the repository are gone.
    expect(read('tmux-3.txt')).toMatch(/no server running|error connecting/);
    expect(existsSync(fleet)).toBe(false);
    // Nothing ran on the (here private) default tmux server: the README's commands never touch the reader's.
    expect(existsSync(path.join(socketsDir, 'default'))).toBe(false);
  }, 150_000);
});

describe('README: Install', () => {
  const npmEnv = () => {
    const e: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' };
    delete e.npm_config_prefix;
    return e;
  };

  it('npm i -g . puts a working gitfleet in the prefix; npx gitfleet runs it in the clone', () => {
    const prefix = temp('gitfleet-prefix-');
    // --offline: no registry here (a linked folder needs none); --ignore-scripts: dist/ is built, and rebuilding
    // it would pull it from under the other tests.
    const i = spawnSync('npm', ['i', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', '.'], {
      cwd: root,
      env: npmEnv(),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(i.status, i.stderr).toBe(0);
    const v = spawnSync(path.join(prefix, 'bin', 'gitfleet'), ['--version'], { encoding: 'utf8' });
    expect(v.stdout).toMatch(/^gitfleet \d+\.\d+\.\d+/);
    const x = spawnSync('npx', ['--offline', 'gitfleet', '--version'], { cwd: root, env: npmEnv(), encoding: 'utf8' });
    expect(x.stdout).toBe(v.stdout);
    const n = spawnSync(process.execPath, ['dist/cli.js', '--version'], { cwd: root, encoding: 'utf8' });
    expect(n.stdout).toBe(v.stdout);
  }, 150_000);

  it('npm pack packs what the README says, and what the packed CLI needs', () => {
    const p = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      env: npmEnv(),
      encoding: 'utf8',
    });
    expect(p.status, p.stderr).toBe(0);
    const [pack] = JSON.parse(p.stdout) as { filename: string; files: { path: string }[] }[];
    const files = pack!.files.map((f) => f.path);
    expect(readme).toContain(`npm i -g ./${pack!.filename}`);
    expect(files).toContain('dist/cli.js');
    for (const dir of ['dist/', 'schemas/', 'reconciler/', 'examples/'])
      expect(files.some((f) => f.startsWith(dir))).toBe(true);
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });
});
