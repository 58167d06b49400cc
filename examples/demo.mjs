#!/usr/bin/env node
// The newcomer's demo: a real reconcile of the bundled example fleet.
// Makes a temporary bare repository, commits examples/fleet into it (with the
// runtimes replaced by a stub, and a private tmux socket), runs gitfleet plan
// and apply, then removes an agent from the roster and reconciles again.
// Cleans up everything it started: its own tmux socket and its temp dir.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cli = path.join(root, 'dist', 'cli.js');
const stub = path.join(root, 'examples', 'stub-agent.mjs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-demo-'));
const socket = `gitfleet-demo-${process.pid}`;
const bare = path.join(tmp, 'fleet.git');
const work = path.join(tmp, 'work');
const state = path.join(tmp, 'state');
const host = 'demo-host';
// The demo's tmux server and socket live inside its temp dir: nothing of it can
// touch your default tmux server, and nothing is left behind.
process.env.TMUX_TMPDIR = path.join(tmp, 'tmux');
mkdirSync(process.env.TMUX_TMPDIR);
delete process.env.TMUX;

const git = (...args) =>
  execFileSync('git', ['-c', 'user.name=Demo Operator', '-c', 'user.email=operator@example.invalid', ...args], {
    cwd: work,
    encoding: 'utf8',
  });
// Bold headings on a terminal only: a log the demo is redirected to gets plain text (NO_COLOR and FORCE_COLOR
// as everywhere: https://no-color.org).
const force = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0';
const bold = force || (process.stdout.isTTY && !process.env.NO_COLOR);
const say = (s) => console.log(bold ? `\n\x1b[1m== ${s}\x1b[0m` : `\n== ${s}`);
function gitfleet(...args) {
  const cmd = ['gitfleet', ...args].join(' ');
  console.log(`$ ${cmd}`);
  const r = spawnSync(process.execPath, [cli, ...args, '--repo', bare, '--state-dir', state, '--host', host], {
    encoding: 'utf8',
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  console.log(`(exit ${r.status})`);
  return r.status;
}
function tmuxLs() {
  const r = spawnSync(
    'tmux',
    ['-L', socket, 'list-sessions', '-F', '  #{session_name}: #{pane_current_command} (#{@gitfleet-fleet})'],
    { encoding: 'utf8' },
  );
  process.stdout.write(r.status === 0 ? r.stdout : '  (no sessions)\n');
}
function cleanup() {
  spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  rmSync(tmp, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

let ok = false;
try {
  say(`Fleet repo: a bare repository in ${tmp}, private tmux socket ${socket}`);
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git('remote', 'add', 'origin', bare);
  cpSync(path.join(root, 'examples', 'fleet'), work, { recursive: true });
  const rosterPath = path.join(work, 'rosters', 'agents.yaml');
  // claude/codex/pi are not installed here: point each runtime at the stub.
  let roster = readFileSync(rosterPath, 'utf8')
    .replace('socket_name: gitfleet-example', `socket_name: ${socket}`)
    .replace('working_directory: ~/src', `working_directory: ${path.join(tmp, 'src')}`);
  for (const rt of ['claude', 'codex', 'pi'])
    roster = roster.replace(`command: ${rt}\n`, `command: [node, ${JSON.stringify(stub)}, ${rt}]\n`);
  writeFileSync(rosterPath, roster);
  // The demo must not install units into your systemd user manager: tmux only.
  const fleetYaml = path.join(work, 'fleet.yaml');
  writeFileSync(fleetYaml, readFileSync(fleetYaml, 'utf8').replace(/^supervisor: auto$/m, 'supervisor: tmux'));
  git('add', '-A');
  git('commit', '-q', '-m', 'Add the example fleet');
  git('push', '-q', 'origin', 'HEAD:main');

  say('Validate, then plan: what would change?');
  if (gitfleet('validate') !== 0) throw new Error('validate failed');
  if (gitfleet('plan') !== 2) throw new Error('plan should report changes');

  say('Apply: create the sessions and commit status back');
  if (gitfleet('apply') !== 0) throw new Error('apply did not converge');
  tmuxLs();

  say('Apply again: converged, so nothing to do and no commit');
  if (gitfleet('apply') !== 0) throw new Error('second apply did not converge');

  say('An operator removes coder1 from the roster and pushes');
  git('pull', '-q', '--rebase', 'origin', 'main');
  writeFileSync(
    rosterPath,
    readFileSync(rosterPath, 'utf8').replace(/ {2}- name: coder1\n( {4}.*\n)+?(?= {2}- name:)/, ''),
  );
  git('commit', '-q', '-am', 'Retire coder1');
  git('push', '-q', 'origin', 'HEAD:main');
  if (gitfleet('plan') !== 2) throw new Error('plan should show the prune');
  if (gitfleet('apply') !== 0) throw new Error('apply after prune did not converge');
  tmuxLs();

  say('What gitfleet committed (status/demo-host.md on main)');
  console.log(execFileSync('git', ['--git-dir', bare, 'show', `main:status/${host}.md`], { encoding: 'utf8' }));
  console.log(execFileSync('git', ['--git-dir', bare, 'log', '--format=  %h %an: %s', 'main'], { encoding: 'utf8' }));
  ok = true;
} catch (e) {
  console.error(`demo failed: ${e.message}`);
} finally {
  cleanup();
  say(ok ? 'Demo done; its tmux socket and temp dir are removed.' : 'Demo FAILED; cleaned up.');
}
process.exitCode = ok ? 0 : 1;
