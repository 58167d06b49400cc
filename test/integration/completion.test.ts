// `gitfleet completion bash|zsh|fish`: each script is valid for its shell and, run in that shell, offers the
// commands, agent verbs, options and agent names gitfleet takes. Real shells (bash, zsh, fish: .ci/run installs
// them); agent names come from the built bin on PATH reading a real repository. zsh is exercised with its
// completion builtins (compadd, _describe) replaced by printers, the one part that needs a live line editor.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bashScript, fishScript, optionsFor, zshScript } from '../../src/cli/completion.js';
import { COMMAND_TABLE, PUBLIC_COMMANDS, VERBS } from '../../src/cli/commands.js';
import { main } from '../../src/cli/main.js';
import { GLOBAL_OPTIONS } from '../../src/cli/options.js';
import { roster, TestFleet, usePrivateTmux } from '../helpers/fleet.js';

usePrivateTmux();
let dir: string;
let fleet: TestFleet | undefined;
const scripts = { bash: '', zsh: '', fish: '' };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-completion-'));
  // `gitfleet` on PATH, as a user has it: the built bin.
  mkdirSync(path.join(dir, 'bin'));
  const bin = path.join(dir, 'bin', 'gitfleet');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${path.resolve('dist/cli.js')}" "$@"\n`, { mode: 0o755 });
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    scripts[shell] = path.join(dir, `gitfleet.${shell}`);
    writeFileSync(scripts[shell], { bash: bashScript, zsh: zshScript, fish: fishScript }[shell]());
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => fleet?.cleanup());

function shell(argv: string[], timeout = 20_000): { code: number; out: string; err: string } {
  const env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` };
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, cwd: dir, timeout });
  if (r.error) throw new Error(`${argv[0]} could not run (${r.error.message}); .ci/run installs bash, zsh and fish`);
  return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
}

/** What bash's completion offers for `line` (the cursor at its end; a trailing space starts a new word). */
function bash(line: string): string[] {
  const words = line.split(' ');
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const r = shell([
    'bash',
    '-c',
    `source '${scripts.bash}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _gitfleet; ` +
      `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ]);
  expect(r.err).toBe('');
  return r.out.split('\n').filter(Boolean);
}

/** What zsh's completion function hands to compadd and _describe for `line` (zsh filters them by prefix). */
function zsh(line: string): string[] {
  const words = line.split(' ');
  const stubs = [
    'compdef() { :; }',
    'compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's ${...}, not a template
    '_describe() { local -a a; a=("${(@P)${@[-1]}}"); print -rl -- "${a[@]%%:*}"; }',
    '_files() { print -r -- "<files $*>"; }',
  ].join('\n');
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const r = shell([
    'zsh',
    '-f',
    '-c',
    `${stubs}\nsource '${scripts.zsh}'\nwords=(${quoted}); CURRENT=${words.length}; _gitfleet`,
  ]);
  expect(r.err).toBe('');
  return r.out.split('\n').filter(Boolean);
}

/** What fish offers for `line`: its own `complete -C`, names only. */
function fish(line: string): string[] {
  const r = shell(['fish', '--no-config', '-c', `source '${scripts.fish}'; complete -C '${line}'`]);
  expect(r.err).toBe('');
  return r.out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]!);
}

describe('completion scripts', () => {
  it('are generated from the command table: public commands, every option of a command, --json where taken', () => {
    expect(PUBLIC_COMMANDS).not.toContain('agent-start');
    expect(PUBLIC_COMMANDS).not.toContain('__complete');
    expect(optionsFor('apply')).toEqual(expect.arrayContaining(['repo', 'json', 'quiet', 'verbose', 'repin']));
    expect(optionsFor('apply')).not.toContain('all-hosts');
    expect(optionsFor('completion')).not.toContain('json');
    expect(optionsFor('agent:watch')).not.toContain('json');
    expect(optionsFor('agent:send')).toEqual(expect.arrayContaining(['json', 'message', 'verify', 'file']));
    expect(optionsFor('agent:logs')).not.toContain('message');
    expect(optionsFor('')).toContain('version');
    // Every option is offered somewhere: a new one in GLOBAL_OPTIONS cannot be missed by the scripts.
    const anywhere = new Set(['', ...PUBLIC_COMMANDS, ...VERBS.map((v) => `agent:${v}`)].flatMap(optionsFor));
    expect([...anywhere].sort()).toEqual(Object.keys(GLOBAL_OPTIONS).sort());
  });

  it('are valid bash, zsh and fish', () => {
    expect(shell(['bash', '-n', scripts.bash])).toMatchObject({ code: 0, err: '' });
    expect(shell(['zsh', '-n', scripts.zsh])).toMatchObject({ code: 0, err: '' });
    expect(shell(['fish', '--no-execute', scripts.fish])).toMatchObject({ code: 0, err: '' });
  });

  it('bash completes commands, verbs, options per command and their values', () => {
    expect(bash('gitfleet ap')).toEqual(['apply']);
    expect(bash('gitfleet ')).toEqual(PUBLIC_COMMANDS);
    expect(bash('gitfleet agent s')).toEqual(['send']);
    expect(bash('gitfleet apply --')).toEqual(expect.arrayContaining(['--json', '--repin', '--quiet', '--verbose']));
    expect(bash('gitfleet apply --')).not.toContain('--all-hosts');
    expect(bash('gitfleet agent watch --j')).toEqual([]); // watch does not take --json
    expect(bash('gitfleet agent send --j')).toEqual(['--json']);
    // A value-taking option's value is not the command: after --repo DIR, commands again.
    expect(bash('gitfleet --repo /tmp pl')).toEqual(['plan']);
    expect(bash('gitfleet heartbeat --status ')).toEqual(['ok', 'busy']);
    // --opt=VALUE, which bash splits at the = into three words.
    expect(bash('gitfleet heartbeat --status = b')).toEqual(['busy']);
    expect(bash('gitfleet heartbeat --status =')).toEqual(['ok', 'busy']);
    expect(bash('gitfleet --repo = /tmp pl')).toEqual(['plan']);
    expect(bash('gitfleet completion ')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('zsh offers the same candidates', () => {
    expect(zsh('gitfleet ap')).toEqual(PUBLIC_COMMANDS);
    expect(zsh('gitfleet agent s')).toEqual(VERBS);
    expect(zsh('gitfleet apply --')).toEqual(expect.arrayContaining(['--json', '--repin', '-q', '-v']));
    expect(zsh('gitfleet agent watch --')).not.toContain('--json');
    expect(zsh('gitfleet --repo /t')).toEqual(['<files -/>']);
    expect(zsh('gitfleet --repo /tmp ')).toEqual(PUBLIC_COMMANDS);
  });

  it("zsh's own completion system completes the line, in a pty (zsh/zpty): compinit, _describe, compadd", {
    timeout: 90_000,
  }, () => {
    // Each expected line is waited for (zpty -r with a pattern), not slept for; `timeout` ends a hang as a failure.
    const driver = path.join(dir, 'zpty.zsh');
    writeFileSync(
      driver,
      [
        'zmodload zsh/zpty',
        "zpty z 'TERM=dumb zsh -f -i'",
        `zpty -w z "PS1='> '; autoload -U compinit; compinit -u -D; source '${scripts.zsh}'; ` +
          `bindkey -e; bindkey '^I' complete-word; print RE''ADY"`, // emacs keys, whatever $EDITOR says
        "zpty -r z out '*READY*' || exit 1",
        'try() { zpty -w -n z "$1"$\'\\t\'; zpty -r z out "*$2*" && print -r -- "completed: $2"; ' +
          "zpty -w -n z $'\\C-a\\C-k'; }",
        "try 'gitfleet agent s' 'gitfleet agent send '",
        "try 'gitfleet apply --re' 'gitfleet apply --rep'", // --repo and --repin: their common prefix
        "try 'gitfleet apply --js' 'gitfleet apply --json '",
        "try 'gitfleet --repo /tmp st' 'gitfleet --repo /tmp status '",
        'zpty -d z',
      ].join('\n'),
    );
    const r = shell(['timeout', '60', 'zsh', '-f', driver], 70_000);
    expect(r.out.split('\n').filter(Boolean)).toEqual([
      'completed: gitfleet agent send ',
      'completed: gitfleet apply --rep',
      'completed: gitfleet apply --json ',
      'completed: gitfleet --repo /tmp status ',
    ]);
  });

  it('fish completes commands, verbs and options with descriptions', () => {
    expect(fish('gitfleet ap')).toEqual(['apply']);
    expect(fish('gitfleet agent s')).toEqual(['send']);
    expect(fish('gitfleet apply --')).toEqual(expect.arrayContaining(['--json', '--repin', '--quiet']));
    expect(fish('gitfleet agent attach --')).not.toContain('--json');
    expect(fish('gitfleet --repo /tmp pl')).toEqual(['plan']);
    const described = shell(['fish', '--no-config', '-c', `source '${scripts.fish}'; complete -C 'gitfleet val'`]);
    expect(described.out).toBe(`validate\t${COMMAND_TABLE.validate.summary}\n`);
  });

  it('agent names come from the roster of the repository typed on the command line, in every shell', {
    timeout: 90_000,
  }, async () => {
    fleet = new TestFleet();
    const agents = ['alice', 'bob', 'carol'].map((n) => `  - name: ${n}\n    runtime: stub\n`).join('');
    const other = '  - name: dora\n    runtime: stub\n    host: elsewhere\n';
    fleet.commit({ 'rosters/a.yaml': roster(fleet.socket, agents + other) });
    const line = `gitfleet --repo ${fleet.bare} --host ${fleet.host} agent send `;
    expect(bash(line)).toEqual(['alice', 'bob', 'carol']); // dora runs on another host
    expect(bash(`${line}b`)).toEqual(['bob']);
    expect(zsh(line)).toEqual(['alice', 'bob', 'carol']);
    expect(fish(line)).toEqual(['alice', 'bob', 'carol']);
    // No repository there: no candidates and nothing on the terminal.
    expect(bash('gitfleet --repo /nonexistent agent send ')).toEqual([]);
    let out = '';
    const code = await main(['__complete', 'agents', '--', '--repo', '/nonexistent'], {
      stdout: (s) => (out += s),
      stderr: (s) => (out += s),
      env: process.env,
    });
    expect({ code, out }).toEqual({ code: 0, out: '' });
  });

  it('gitfleet completion prints the script for a shell and refuses others and --json', async () => {
    const run = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: process.env });
      return { code, stdout, stderr };
    };
    expect(await run('completion', 'bash')).toEqual({ code: 0, stdout: bashScript(), stderr: '' });
    expect((await run('completion', 'fish', '-q')).stdout).toBe(fishScript()); // what was asked for, even with -q
    expect(await run('completion', 'tcsh')).toMatchObject({
      code: 64,
      stderr: expect.stringContaining('bash, zsh, fish'),
    });
    expect(await run('completion')).toMatchObject({ code: 64 });
    const json = await run('completion', 'bash', '--json');
    expect(json.code).toBe(64);
    expect(JSON.parse(json.stderr).error).toMatchObject({
      code: 'usage',
      message: 'completion does not support --json',
    });
  });
});
