// `gitfleet agent <verb> <name>` against real tmux (private sockets under a
// private TMUX_TMPDIR) and stub runtimes (test/fixtures/stubs). watch and
// attach need a terminal: the built CLI runs in a pane of a second private
// tmux server of another size (the "driver"), as an operator's terminal would.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolateTmux, roster, sh, TestFleet, tmux, waitFor } from '../helpers/fleet.js';

const STUBS = path.resolve('test/fixtures/stubs');
const REPL = path.resolve('examples/stub-agent.mjs');
const node = process.execPath;

const RUNTIMES = [
  `repl:\n    command: [${node}, ${REPL}, stub]`,
  `tui:\n    command: [${node}, ${STUBS}/tui.mjs]\n    reset_command: /clear`,
  `draft:\n    command: [${node}, ${STUBS}/draft.mjs]`,
  `blank:\n    command: [${node}, ${STUBS}/blank.mjs]`,
  `mute:\n    command: [${node}, ${STUBS}/blank.mjs, --no-echo]`,
].join('\n  ');

const agent = (name: string, runtime: string, extra = '') => `  - name: ${name}\n    runtime: ${runtime}\n${extra}`;
const AGENTS = [
  agent('repl', 'repl'),
  agent('tui', 'tui'),
  agent('drafty', 'draft'),
  agent('blank', 'blank'),
  agent('mute', 'mute'),
  agent('restartme', 'repl'),
  agent('watched', 'repl'),
  agent('ghost', 'repl', '    enabled: false\n'),
  agent('squat', 'repl'),
].join('');

let tmuxDir: string;
let runtimeDir: string;
let fleet: TestFleet;

beforeAll(async () => {
  tmuxDir = isolateTmux();
  // No systemd user manager to find: agents run under tmux only.
  runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-xdg-'));
  process.env.XDG_RUNTIME_DIR = runtimeDir;
  fleet = new TestFleet();
  fleet.commit({
    'fleet.yaml': 'fleet: verbs\nsupervisor: tmux\n',
    'rosters/team.yaml': roster(fleet.socket, AGENTS, RUNTIMES),
  });
  const r = await fleet.gitfleet('apply');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  await waitFor(
    () => /ready/.test(screen('repl')) && /ready/.test(screen('tui')) && /ready/.test(screen('drafty')),
    5000,
  );
});

afterAll(() => {
  fleet?.cleanup();
  rmSync(runtimeDir, { recursive: true, force: true });
  sh('rm', ['-rf', tmuxDir]);
});

/** The agent pane's visible text. */
const screen = (session: string) => fleet.tmux('capture-pane', '-p', '-t', `=${session}:`).out;
const paneOf = (session: string) => fleet.panes().get(session);
const sizeOf = (session: string) =>
  fleet.tmux('display-message', '-p', '-t', `=${session}:`, '#{pane_width}x#{pane_height}').out.trim();

describe('agent send', () => {
  it('--verify succeeds on a REPL-like stub: the message arrives with its source label', async () => {
    const r = await fleet.gitfleet('agent', 'send', 'repl', '--message', 'hello there', '--verify');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^repl accepted the message \(\d+\.\d s\)\n$/);
    expect(screen('repl')).toContain('[stub] repl got: [testhost:operator -> repl] hello there');
  });

  it('--verify succeeds on a TUI-like stub, one bracketed paste; --from relabels, --raw unlabels; --json', async () => {
    const file = path.join(fleet.dir, 'msg.txt');
    writeFileSync(file, 'first line\nsecond line\n');
    const r = await fleet.gitfleet('agent', 'send', 'tui', '--file', file, '--from', 'ci-bot', '--verify', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      formatVersion: 1,
      agent: 'tui',
      session: 'tui',
      socket: fleet.socket,
      verified: true,
      result: 'accepted',
      label: 'ci-bot',
    });
    // Both lines in one submission: the newline stayed inside the paste, Enter came after it.
    expect(screen('tui')).toContain('[tui] tui got (bracketed paste): [ci-bot -> tui] first line second line');

    const raw = await fleet.gitfleet('agent', 'send', 'tui', '--message', 'no label', '--raw', '--verify');
    expect(raw.code).toBe(0);
    expect(screen('tui')).toContain('[tui] tui got (bracketed paste): no label\n');
  });

  it('--verify fails (exit 4) on a stub that leaves the message as a draft in its input line', async () => {
    const r = await fleet.gitfleet(
      'agent',
      'send',
      'drafty',
      '--message',
      'please take this',
      '--verify',
      '--timeout',
      '1.5',
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /^gitfleet: drafty did not accept the message: it is still a draft in the input line after \d+\.\d s\n$/,
    );
    const rows = screen('drafty').trimEnd().split('\n');
    expect(rows[rows.length - 1]).toBe('> [testhost:operator -> drafty] please take this');
    const json = await fleet.gitfleet(
      'agent',
      'send',
      'drafty',
      '--message',
      'x',
      '--verify',
      '--timeout',
      '500ms',
      '--json',
    );
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({ verified: true, result: 'draft' });
  });

  it('--verify fails closed on a blank screen, or when the only change is the echo of unread input', async () => {
    const mute = await fleet.gitfleet('agent', 'send', 'mute', '--message', 'anyone?', '--verify', '--timeout', '1.5');
    expect(mute.code).toBe(4);
    expect(mute.stderr).toContain('mute did not accept the message: nothing visible changed after Enter');
    expect(screen('mute').trim()).toBe(''); // still blank: nothing to mistake for a reply

    const blank = await fleet.gitfleet(
      'agent',
      'send',
      'blank',
      '--message',
      'anyone?',
      '--verify',
      '--timeout',
      '1.5',
    );
    expect(blank.code).toBe(4);
    expect(blank.stderr).toContain('nothing visible changed after Enter');
    expect(screen('blank')).toContain('[testhost:operator -> blank] anyone?'); // the echo, and nothing else

    // Without --verify the send itself succeeds, and says it was not verified.
    const unverified = await fleet.gitfleet('agent', 'send', 'mute', '--message', 'fire and forget');
    expect(unverified.code).toBe(0);
    expect(unverified.stdout).toContain('not verified');
  });
});

describe('agent reset', () => {
  it("sends the runtime's reset command, verified and without a label", async () => {
    await fleet.gitfleet('agent', 'send', 'tui', '--message', 'before reset', '--verify');
    expect(screen('tui')).toContain('before reset');
    const r = await fleet.gitfleet('agent', 'reset', 'tui');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^reset tui: sent the reset command "\/clear"; accepted/);
    expect(screen('tui').trim()).toBe('>'); // the stub cleared its screen
  });

  it('restarts the session as apply would when the runtime has no reset command', async () => {
    const before = paneOf('restartme')!;
    const r = await fleet.gitfleet('agent', 'reset', 'restartme', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      formatVersion: 1,
      agent: 'restartme',
      method: 'restart',
      pidBefore: before.pid,
      specChanged: false,
      watchesClosed: [],
    });
    const after = paneOf('restartme')!;
    expect(after.pid).toBe(out.pidAfter);
    expect(after.pid).not.toBe(before.pid);
    expect(after).toMatchObject({ dead: false, fleet: 'verbs', spec: before.spec });
    await waitFor(() => /ready/.test(screen('restartme')));
    // apply sees nothing to do: the restart made exactly what apply makes
    const plan = await fleet.gitfleet('plan', '--json');
    expect(JSON.parse(plan.stdout).actions).toEqual([]);
  });
});

describe('agent logs', () => {
  it('keeps what a full-screen program cleared off the screen; -n limits; --json; says if no log exists', async () => {
    await fleet.gitfleet('agent', 'send', 'tui', '--message', 'remember me', '--verify');
    expect((await fleet.gitfleet('agent', 'reset', 'tui')).code).toBe(0);
    expect(screen('tui')).not.toContain('remember me');

    const r = await fleet.gitfleet('agent', 'logs', 'tui', '-n', '20');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[tui] tui got (bracketed paste): [testhost:operator -> tui] remember me');
    expect(r.stdout).not.toMatch(/\x1b/); // escape sequences removed
    expect(r.stdout.split('\n').length - 1).toBeLessThanOrEqual(20);

    const one = await fleet.gitfleet('agent', 'logs', 'tui', '--lines', '1', '--json');
    const j = JSON.parse(one.stdout);
    expect(j).toMatchObject({ formatVersion: 1, agent: 'tui', exists: true });
    expect(j.log).toBe(path.join(fleet.stateDir, 'logs', 'verbs', fleet.socket, 'tui.log'));
    expect(j.lines).toHaveLength(1);

    const none = await fleet.gitfleet('agent', 'logs', 'ghost');
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('no log yet for ghost');
  });
});

describe('agent verbs refuse what they must', () => {
  it('checks names against the roster, verbs, options and terminals', async () => {
    const unknown = await fleet.gitfleet('agent', 'send', 'nobody', '--message', 'x');
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain(
      'no agent "nobody" in the roster; agents: blank, drafty, ghost, mute, repl, restartme, squat, tui, watched',
    );
    expect((await fleet.gitfleet('agent', 'dance', 'repl')).stderr).toContain(
      'unknown agent verb "dance"; verbs: watch, attach, send, reset, logs',
    );
    expect((await fleet.gitfleet('agent', 'logs')).code).toBe(64);
    expect((await fleet.gitfleet('agent', 'logs', 'repl', '--verify')).stderr).toContain(
      '--verify is not an option of agent logs',
    );
    expect((await fleet.gitfleet('agent', 'send', 'repl', '--message', 'x', '--timeout', '2')).stderr).toContain(
      'give --verify too',
    );
    expect((await fleet.gitfleet('agent', 'send', 'repl', '--message', 'x', '--raw', '--from', 'me')).code).toBe(64);
    expect((await fleet.gitfleet('agent', 'send', 'repl', '--message', 'bell\x07')).stderr).toContain(
      'control character',
    );
    expect((await fleet.gitfleet('plan', '--message', 'x')).stderr).toContain('--message is an option of agent only');
    expect(
      (await fleet.gitfleet('agent', 'send', 'repl', '--message', 'x', '--verify', '--timeout', 'soon')).code,
    ).toBe(64);
    // vitest's stdin is not a terminal
    const attach = await fleet.gitfleet('agent', 'attach', 'repl');
    expect(attach.code).toBe(64);
    expect(attach.stderr).toContain('agent attach needs a terminal: stdin is not one');
    expect((await fleet.gitfleet('agent', 'watch', 'repl')).stderr).toContain('agent watch needs a terminal');
  });

  it("never acts on a session gitfleet does not own, even under the agent's name", async () => {
    // squat's own session is gone and someone else's runs under its name.
    expect(fleet.tmux('kill-session', '-t', '=squat').code).toBe(0);
    expect(fleet.tmux('new-session', '-d', '-s', 'squat', 'cat').code).toBe(0);
    try {
      const r = await fleet.gitfleet('agent', 'send', 'squat', '--message', 'intrusion');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'session ' +
          fleet.socket +
          '/squat is not agent "squat" of fleet "verbs" (not tagged by gitfleet); refusing to touch it',
      );
      expect((await fleet.gitfleet('agent', 'reset', 'squat')).code).toBe(1);
      expect(screen('squat')).not.toContain('intrusion');
      expect(fleet.tmux('list-buffers').out).toBe(''); // no paste buffer left behind either
    } finally {
      fleet.tmux('kill-session', '-t', '=squat');
    }
  });

  it("never acts on another tenant's session of this fleet (tenants may share a tmux server, #12)", async () => {
    const pid = paneOf('blank')?.pid;
    expect(fleet.tmux('set-option', '-t', '=blank:', '@gitfleet-tenant', 'someone-else').code).toBe(0);
    try {
      const r = await fleet.gitfleet('agent', 'send', 'blank', '--message', 'intrusion');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`session ${fleet.socket}/blank was started for tenant "someone-else" (you are "`);
      const reset = await fleet.gitfleet('agent', 'reset', 'blank');
      expect(reset.code, reset.stderr).toBe(1);
      expect(reset.stderr).toContain('refusing to touch it');
      expect(screen('blank')).not.toContain('intrusion');
      expect(paneOf('blank')?.pid).toBe(pid);
    } finally {
      fleet.tmux('set-option', '-u', '-t', '=blank:', '@gitfleet-tenant');
    }
  });

  it('says a disabled agent is disabled, and touches a session under its name no more than any other', async () => {
    expect(fleet.tmux('new-session', '-d', '-s', 'ghost', 'cat').code).toBe(0);
    try {
      const r = await fleet.gitfleet('agent', 'send', 'ghost', '--message', 'intrusion');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /agent "ghost" is disabled \(enabled: false in rosters\/team\.yaml:\d+\); it has no session/,
      );
      expect((await fleet.gitfleet('agent', 'reset', 'ghost')).code).toBe(1);
      expect(screen('ghost')).not.toContain('intrusion');
    } finally {
      fleet.tmux('kill-session', '-t', '=ghost');
    }
  });

  it('has help for agent and every verb', async () => {
    for (const argv of [
      ['agent', '--help'],
      ['agent', 'send', '--help'],
      ['help', 'agent', 'watch'],
    ]) {
      const r = await fleet.gitfleet(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: gitfleet ${argv.filter((a) => a !== 'help' && a !== '--help').join(' ')}`);
    }
    for (const verb of ['watch', 'attach', 'send', 'reset', 'logs']) {
      expect((await fleet.gitfleet('agent', verb, '--help')).stdout).toContain(`Usage: gitfleet agent ${verb} <name>`);
    }
  });
});

describe('agent watch and attach, in a real terminal', () => {
  let build: string;
  let driver: string;

  beforeAll(() => {
    // The CLI as built from these sources (not a possibly stale dist/).
    build = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-build-'));
    spawnSync(
      path.resolve('node_modules/.bin/tsc'),
      ['-p', 'tsconfig.build.json', '--outDir', path.join(build, 'dist')],
      { encoding: 'utf8' },
    );
    for (const f of ['node_modules', 'schemas', 'package.json']) symlinkSync(path.resolve(f), path.join(build, f));
    expect(existsSync(path.join(build, 'dist', 'cli.js'))).toBe(true);
    driver = `gitfleet-test-driver-${process.pid}`;
  });

  afterAll(() => {
    tmux(driver, 'kill-server');
    rmSync(build, { recursive: true, force: true });
  });

  /** Run `gitfleet agent <verb> <name>` in a 132x43 terminal; resolves the file its exit status lands in. */
  function inTerminal(verb: string, name: string): string {
    const done = path.join(fleet.dir, `${verb}-${name}.exit`);
    const cli = [
      node,
      path.join(build, 'dist', 'cli.js'),
      'agent',
      verb,
      name,
      '--repo',
      fleet.bare,
      '--state-dir',
      fleet.stateDir,
      '--host',
      fleet.host,
    ];
    const script = `${cli.map((a) => `'${a}'`).join(' ')}; echo $? > '${done}'; sleep 600`;
    mkdirSync(path.dirname(done), { recursive: true });
    const r = tmux(driver, 'new-session', '-d', '-x', '132', '-y', '43', '-s', verb, '--', 'sh', '-c', script);
    expect(r.err).toBe('');
    return done;
  }

  const watchSessions = () =>
    fleet
      .tmux('list-sessions', '-F', '#{session_name} #{session_attached} #{@gitfleet-watch-of}')
      .out.split('\n')
      .filter((l) => l.startsWith('_watch-'));

  it('watch neither resizes the agent window nor lets keys through; its own session goes on detach', async () => {
    const size = sizeOf('watched');
    expect(size).toBe('80x24');
    // Left behind by a watch whose gitfleet was killed (that pid is gone): the next watch removes it.
    expect(fleet.tmux('new-session', '-d', '-t', '=watched', '-s', '_watch-watched-left').code).toBe(0);
    fleet.tmux('set-option', '-t', '=_watch-watched-left:', '@gitfleet-watch-of', 'watched');
    fleet.tmux('set-option', '-t', '=_watch-watched-left:', '@gitfleet-watch-pid', String(2 ** 22 + 12345));
    expect(watchSessions()).toEqual(['_watch-watched-left 0 watched']);

    const done = inTerminal('watch', 'watched');
    await waitFor(() => watchSessions().some((l) => / 1 watched$/.test(l)), 10_000);
    expect(watchSessions()).toHaveLength(1);
    await waitFor(() => tmux(driver, 'capture-pane', '-p', '-t', '=watch:').out.includes('[stub] agent watched ready'));

    // A client of another size is attached, and the agent's window kept its size.
    const client = fleet
      .tmux('list-clients', '-F', '#{client_width}x#{client_height} #{client_readonly} #{session_name}')
      .out.trim();
    expect(client).toMatch(/^132x43 1 _watch-watched-/);
    expect(sizeOf('watched')).toBe(size);

    // What the watcher types does not reach the agent.
    tmux(driver, 'send-keys', '-t', '=watch:', 'typed by the watcher', 'Enter');
    await new Promise((r) => setTimeout(r, 700));
    expect(screen('watched')).not.toContain('typed by the watcher');
    expect(screen('watched')).not.toContain('got:');

    // The client detaches: the throw-away session is gone, the agent untouched, window-size back to its own.
    expect(fleet.tmux('detach-client', '-s', `=${watchSessions()[0]!.split(' ')[0]}`).code).toBe(0);
    await waitFor(() => existsSync(done), 10_000);
    expect(readFileSync(done, 'utf8').trim()).toBe('0');
    expect(watchSessions()).toEqual([]);
    expect(paneOf('watched')).toMatchObject({ dead: false, fleet: 'verbs' });
    expect(sizeOf('watched')).toBe(size);
    expect(fleet.tmux('show-options', '-w', '-t', '=watched:').out).not.toMatch(/window-size|@gitfleet-watch/);
    expect(tmux(driver, 'capture-pane', '-p', '-t', '=watch:').out).toContain(
      'watch of watched ended; throw-away session _watch-watched-',
    );
  });

  it('attach is the takeover: keys reach the agent and the window takes the terminal size', async () => {
    const done = inTerminal('attach', 'watched');
    await waitFor(() => fleet.tmux('list-clients', '-F', '#{session_name}').out.trim() === 'watched', 10_000);
    await waitFor(() => sizeOf('watched') !== '80x24');
    expect(sizeOf('watched')).toBe('132x42'); // 43 rows less the status line
    tmux(driver, 'send-keys', '-t', '=attach:', 'typed by the operator', 'Enter');
    await waitFor(() => screen('watched').includes('[stub] watched got: typed by the operator'));
    expect(fleet.tmux('detach-client', '-s', '=watched').code).toBe(0);
    await waitFor(() => existsSync(done), 10_000);
    expect(readFileSync(done, 'utf8').trim()).toBe('0');
  });
});
