// The CLI conventions of issue #10: -q/-v, colour only on a terminal (NO_COLOR, FORCE_COLOR), errors as a JSON
// object with --json, --version --json, every command taking --json or saying it does not. On a real fleet (git
// repository, private tmux socket); the terminal case runs the built bin under script(1) for a real pty.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { wantsColour } from '../../src/cli/colour.js';
import { ansi, plain } from '../../src/report/style.js';
import { commandInfo, PUBLIC_COMMANDS, VERBS } from '../../src/cli/commands.js';
import { errorJson, main } from '../../src/cli/main.js';
import { TerminalError, TransientError, UsageError, ValidationError } from '../../src/errors.js';
import { renderPlan } from '../../src/report/plan-text.js';
import { roster, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();
let fleet: TestFleet;
afterEach(() => fleet?.cleanup());

const ESC = '\x1b[';
/** The environment without the colour variables the caller's shell may have set. */
const env = (extra: Record<string, string> = {}) => {
  const { NO_COLOR: _n, FORCE_COLOR: _f, ...rest } = process.env;
  return { ...rest, ...extra };
};

async function cli(argv: string[], e: NodeJS.ProcessEnv = env(), tty?: { stdout: boolean; stderr: boolean }) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => (stdout += s), stderr: (s: string) => (stderr += s), env: e, tty };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function twoAgents(): TestFleet {
  const f = new TestFleet();
  f.commit({ 'rosters/a.yaml': roster(f.socket, '  - name: a\n    runtime: stub\n  - name: b\n    runtime: stub\n') });
  return f;
}

const at = (f: TestFleet) => ['--repo', f.bare, '--state-dir', f.stateDir, '--host', f.host];

describe('-q and -v', { timeout: 120_000 }, () => {
  it('plan and apply: -q prints nothing on success, -v adds timings per phase and the commands run', async () => {
    fleet = twoAgents();
    const quietPlan = await cli(['plan', '-q', ...at(fleet)]);
    expect(quietPlan).toEqual({ code: 2, stdout: '', stderr: '' }); // the exit code says there are changes
    const plan = await cli(['plan', ...at(fleet)]);
    const verbosePlan = await cli(['plan', '-v', ...at(fleet)]);
    expect(verbosePlan.stdout).toBe(plan.stdout); // the report is the same; the detail goes to stderr
    expect(verbosePlan.stderr).toMatch(/^· read desired state: \d+ ms$/m);
    expect(verbosePlan.stderr).toMatch(/^· observe: \d+ ms$/m);
    expect(verbosePlan.stderr).toMatch(/^· ran tmux (-u )?-L \S+ list-panes .*\(exit \d+, \d+ ms\)$/m);
    expect(plan.stderr).toBe('');

    const verboseApply = await cli(['apply', '--verbose', ...at(fleet)]);
    expect(verboseApply.code).toBe(0);
    expect(verboseApply.stdout).toContain('Committed status');
    for (const phase of ['lock', 'read desired state', 'observe', 'plan', 'apply 3 action(s)', 'commit status'])
      expect(verboseApply.stderr).toMatch(new RegExp(`^· ${phase.replace(/[()]/g, '\\$&')}: \\d+ ms$`, 'm'));
    // The sessions come from one tmux per socket reading its commands on stdin (apply/tmux.ts).
    expect(verboseApply.stderr).toMatch(/^· ran tmux -u -L \S+ start-server …/m);

    fleet.commit({ 'rosters/b.yaml': roster(fleet.socket, '  - name: c\n    runtime: stub\n') });
    expect(await cli(['apply', '-q', ...at(fleet)])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await cli(['status', '-q', ...at(fleet)])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await cli(['validate', '-q', ...at(fleet)])).toEqual({ code: 0, stdout: '', stderr: '' });
    const validate = await cli(['validate', '-v', ...at(fleet)]);
    expect(validate.stdout).toMatch(/^valid: /);
    expect(validate.stderr).toBe('· valid   fleet.yaml\n· valid   rosters/a.yaml\n· valid   rosters/b.yaml\n');
    expect(await cli(['ps', '-q', ...at(fleet)])).toEqual({ code: 0, stdout: '', stderr: '' });
    // --json documents are what was asked for: -q leaves them.
    expect(JSON.parse((await cli(['status', '-q', '--json', ...at(fleet)])).stdout)).toMatchObject({ converged: true });
  });

  it('-q prints what went wrong, on stderr: invalid files, agents not Ready', async () => {
    fleet = new TestFleet();
    const dies = 'stub:\n    command: [cat]\n  dies:\n    command: [sh, -c, "exit 7"]';
    fleet.commit({
      'rosters/a.yaml': roster(fleet.socket, '  - name: a\n    runtime: stub\n  - name: z\n    runtime: dies\n', dies),
      'rosters/b.yaml': 'version: 1\nagents: {}\n',
    });
    const v = await cli(['validate', '-q', ...at(fleet)]);
    expect(v.code).toBe(1);
    expect(v.stdout).toBe('');
    expect(v.stderr).toMatch(/^rosters\/b\.yaml:\d+:\d+: /m);
    const p = await cli(['plan', '-q', ...at(fleet)]);
    expect(p).toMatchObject({ code: 1, stdout: '' });
    expect(p.stderr).toContain('Errors in desired state:\n  rosters/b.yaml:');
    const a = await cli(['apply', '-q', ...at(fleet)]);
    expect(a).toMatchObject({ code: 1, stdout: '' }); // an invalid file outranks not converged
    expect(a.stderr).toContain('rosters/b.yaml:');
    expect(a.stderr).toMatch(/^Not converged: 1\/2 ready; not Ready: z \(\w+\)\.$/m);
    expect(a.stderr).not.toMatch(/\ba \(/);
  });

  it('-v never shows env values: only the first words of each command, secrets masked', async () => {
    fleet = new TestFleet();
    const env = '    env: {API_TOKEN: hunter2-secret, MOOD: calm-sea}\n';
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, `  - name: a\n    runtime: stub\n${env}`) });
    const r = await cli(['apply', '-v', ...at(fleet)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^· ran tmux -u -L \S+ start-server …/m);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr).not.toContain('calm-sea');
  });

  it('-q and -v together are a usage error', async () => {
    const r = await cli(['plan', '-q', '-v']);
    expect(r).toMatchObject({ code: 64, stdout: '' });
    expect(r.stderr).toContain('-q (only errors) and -v (more detail) exclude each other');
  });
});

describe('colour', { timeout: 60_000 }, () => {
  it('is decided by NO_COLOR, then FORCE_COLOR, then whether the stream is a terminal', () => {
    expect(wantsColour({}, false)).toBe(false);
    expect(wantsColour({}, true)).toBe(true);
    expect(wantsColour({ TERM: 'dumb' }, true)).toBe(false);
    expect(wantsColour({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(wantsColour({ FORCE_COLOR: '3' }, false)).toBe(true);
    expect(wantsColour({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(wantsColour({ FORCE_COLOR: 'false' }, true)).toBe(false);
    expect(wantsColour({ FORCE_COLOR: '' }, false)).toBe(false);
    expect(wantsColour({ NO_COLOR: '1' }, true)).toBe(false);
    expect(wantsColour({ NO_COLOR: '1', FORCE_COLOR: '1' }, true)).toBe(false); // NO_COLOR wins
    expect(wantsColour({ NO_COLOR: '' }, true)).toBe(true); // set but empty: no preference (no-color.org)
  });

  it("plan's markers, ps's states, the error prefix: coloured on a terminal or when forced, else plain", async () => {
    fleet = twoAgents();
    const forced = await cli(['plan', ...at(fleet)], env({ FORCE_COLOR: '1' }));
    expect(forced.stdout).toContain(`  ${ESC}32m+${ESC}0m create_session`);
    const piped = await cli(['plan', ...at(fleet)]);
    expect(piped.stdout).not.toContain(ESC);
    expect(forced.stdout.replaceAll(/\x1b\[[0-9;]*m/g, '')).toBe(piped.stdout); // colour only, nothing moved
    const tty = { stdout: true, stderr: true };
    expect((await cli(['plan', ...at(fleet)], env({ TERM: 'xterm' }), tty)).stdout).toContain(`${ESC}32m+`);
    expect((await cli(['plan', ...at(fleet)], env({ TERM: 'xterm', NO_COLOR: '1' }), tty)).stdout).not.toContain(ESC);
    expect((await cli(['plan', ...at(fleet)], env({ NO_COLOR: '1', FORCE_COLOR: '1' }))).stdout).not.toContain(ESC);

    expect((await cli(['apply', ...at(fleet)])).code).toBe(0);
    const ps = await cli(['ps', ...at(fleet)], env({ FORCE_COLOR: '1' }));
    expect(ps.stdout).toContain(`${ESC}32myes${ESC}0m`);
    const plainPs = (await cli(['ps', ...at(fleet)])).stdout;
    const idle = (s: string) => s.replaceAll(/ \d+s /g, ' Ns '); // the idle time moves between the two runs
    expect(idle(ps.stdout.replaceAll(/\x1b\[[0-9;]*m/g, ''))).toBe(idle(plainPs)); // columns still line up

    const err = await cli(['plan', '--repo', '/nonexistent'], env({ FORCE_COLOR: '1' }));
    expect(err.stderr).toMatch(/^\x1b\[1;31mgitfleet:\x1b\[0m /);
    expect((await cli(['plan', '--repo', '/nonexistent'])).stderr).toMatch(/^gitfleet: /);
  });

  it('a failing agent is red in ps, a Ready one green', async () => {
    fleet = new TestFleet();
    const rts = 'stub:\n    command: [cat]\n  dies:\n    command: [sh, -c, "exit 7"]';
    fleet.commit({
      'rosters/a.yaml': roster(fleet.socket, '  - name: a\n    runtime: stub\n  - name: z\n    runtime: dies\n', rts),
    });
    expect((await cli(['apply', ...at(fleet)])).code).toBe(3);
    const ps = (await cli(['ps', ...at(fleet)], env({ FORCE_COLOR: '1' }))).stdout;
    expect(ps).toMatch(/^a .*\x1b\[32myes\x1b\[0m/m);
    expect(ps).toMatch(/^z .*\x1b\[31mno \(\w+\)\x1b\[0m/m);
  });

  it('the built bin colours a real terminal and not a pipe', () => {
    fleet = twoAgents();
    const bin = path.resolve('dist/cli.js');
    const args = ['plan', ...at(fleet)].join(' ');
    // script(1) gives the bin a pty for stdout; its output is the terminal's.
    const onTty = spawnSync('script', ['-qec', `${process.execPath} ${bin} ${args}`, '/dev/null'], {
      encoding: 'utf8',
      env: env({ TERM: 'xterm' }),
    });
    expect(onTty.stdout).toContain(`${ESC}32m+${ESC}0m`);
    const piped = spawnSync(process.execPath, [bin, ...args.split(' ')], {
      encoding: 'utf8',
      env: env({ TERM: 'xterm' }),
    });
    expect(piped.status).toBe(2);
    expect(piped.stdout).toContain('  + create_session');
    expect(piped.stdout).not.toContain(ESC);
  });

  it('views stay pure: the Style is passed in', () => {
    expect(ansi('add', '+')).toBe(`${ESC}32m+${ESC}0m`);
    expect(plain('add', '+')).toBe('+');
    expect(renderPlan.length).toBe(1); // the plan is required, the style optional (plain)
  });
});

describe('--json errors and --version --json', { timeout: 60_000 }, () => {
  it('--version --json says the version and the node running it', async () => {
    const r = await cli(['--version', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      formatVersion: 1,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      node: process.versions.node,
      platform: process.platform,
      arch: process.arch,
    });
  });

  it('usage errors, failures and unknown options are one JSON object on stderr', async () => {
    const usage = await cli(['plan', 'extra', '--json']);
    expect(usage).toMatchObject({ code: 64, stdout: '' });
    expect(JSON.parse(usage.stderr)).toEqual({
      formatVersion: 1,
      error: { code: 'usage', message: expect.stringContaining('plan takes no arguments'), exitCode: 64 },
    });
    // Before the command line could be parsed at all.
    const parse = await cli(['--json', 'plan', '--bogus']);
    expect(JSON.parse(parse.stderr).error).toMatchObject({
      code: 'usage',
      message: expect.stringContaining('"--bogus"'),
    });
    const missing = await cli(['plan', '--json', '--repo', '/nonexistent/fleet.git']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toEqual({
      formatVersion: 1,
      error: { code: 'terminal', message: expect.stringContaining('no such directory'), exitCode: 1 },
    });
    fleet = twoAgents();
    const noStatus = await cli(['status', '--json', ...at(fleet)]);
    expect(noStatus.code).toBe(1);
    expect(JSON.parse(noStatus.stderr).error).toMatchObject({ code: 'terminal', message: /no status for host/ });
    const none = await cli(['--json']);
    expect(none).toMatchObject({ code: 64, stdout: '' });
    expect(JSON.parse(none.stderr).error).toMatchObject({ code: 'usage', message: /^a command is needed; commands: / });
    // Without --json, the same in words.
    expect((await cli(['plan', 'extra'])).stderr).toMatch(/^gitfleet: plan takes no arguments/);
  });

  it('maps every kind of error: usage, invalid with its problems, terminal, transient, internal', () => {
    expect(errorJson(new UsageError('u'))).toEqual({ code: 'usage', message: 'u', exitCode: 64 });
    const p = { file: 'rosters/a.yaml', line: 3, col: 5, message: 'bad' };
    expect(errorJson(new ValidationError([p]))).toEqual({
      code: 'invalid',
      message: 'rosters/a.yaml:3:5: bad',
      exitCode: 1,
      problems: [p],
    });
    expect(errorJson(new TerminalError('t'))).toEqual({ code: 'terminal', message: 't', exitCode: 1 });
    expect(errorJson(new TransientError('busy'))).toEqual({ code: 'transient', message: 'busy', exitCode: 1 });
    expect(errorJson(new TypeError('x is undefined'))).toMatchObject({
      code: 'internal',
      message: 'internal error: x is undefined',
      exitCode: 1,
      stack: expect.stringContaining('TypeError'),
    });
  });

  it('every command takes --json or says it does not', async () => {
    for (const command of PUBLIC_COMMANDS) {
      const r = await cli([command, '--json', '--no-such-option']);
      expect(r.code, command).toBe(64);
      expect(JSON.parse(r.stderr).error.code, command).toBe('usage'); // errors in JSON for each
      if (!commandInfo(command)!.json) {
        const refused = await cli([command, '--json']);
        expect(JSON.parse(refused.stderr).error.message).toBe(`${command} does not support --json`);
      }
    }
    for (const verb of VERBS) {
      const message = verb === 'send' ? ['--message', 'hi'] : [];
      const r = await cli(['agent', verb, 'someone', ...message, '--json', '--repo', '/nonexistent/fleet.git']);
      const err = JSON.parse(r.stderr).error;
      if (verb === 'watch' || verb === 'attach')
        expect(err, verb).toMatchObject({ code: 'usage', message: `agent ${verb} does not support --json` });
      else expect(err, verb).toMatchObject({ code: 'terminal', message: expect.stringContaining('no such directory') });
    }
  });

  it('an unknown command lists only the commands people run', async () => {
    const r = await cli(['destroy']);
    expect(r.stderr).toContain(
      'commands: validate, plan, apply, run, status, ps, install, uninstall, agent, heartbeat, completion\n',
    );
    expect(r.stderr).not.toContain('agent-start');
    expect(r.stderr).not.toContain('__complete');
    expect((await cli(['--help'])).stdout).not.toMatch(/^ {2}(agent-start|__complete)/m);
  });
});
