// Secrets never leave gitfleet (src/redact.ts): which names count as secret,
// how argv and env are masked, the runtime's `redact:` list as parsed from a
// roster, and where the masks are applied: the plan's action detail and its
// text, and the tmux commands evidence records.
import { describe, expect, it } from 'vitest';
import { commandsFor, redactedCommands } from '../../src/apply/tmux.js';
import { parseRoster } from '../../src/desired/kinds/roster/parse.js';
import { formatProblem } from '../../src/errors.js';
import { plan } from '../../src/plan/plan.js';
import { isSecretName, MASK, maskArgv, maskCommandLine, maskEnv, maskUrls } from '../../src/redact.js';
import { renderPlan } from '../../src/report/plan-text.js';
import { tmuxArgv } from '../../src/tmux/client.js';
import { context, desired, observed, planInput, socket, SOCKET } from './builders.js';

const M = MASK;

describe('isSecretName', () => {
  it('finds secret words as parts of env keys and flags, any case, camelCase too', () => {
    const secret = [
      ...['GH_TOKEN', 'API_KEY', 'OPENAI_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD', 'PGPASSWORD'],
      ...['MYSQL_PWD_PASSWD', 'SMTP_PASS', 'GOOGLE_APPLICATION_CREDENTIALS', 'BASIC_AUTH', 'ANTHROPIC_AUTH_TOKEN'],
      ...['GITHUB_PAT', 'GITHUBTOKEN', 'APIKEY', 'client_secret', '--token', '--api-key', '--password', '--auth'],
      ...['--apiKey', '--authToken', '-token', '--db.password', '--ssh-passphrase'],
    ];
    for (const n of secret) expect(isSecretName(n), n).toBe(true);
  });

  it('leaves names alone whose secret-like letters are not a word of their own', () => {
    const plain = [
      ...['PATH', 'HOME', 'PWD', 'LANG', 'MODEL', '--keep', '--model', '--max-tokens', 'MAX_TOKENS'],
      ...['TOKENIZERS_PARALLELISM', 'AUTHOR', '--author', 'KEYBOARD', 'GIT_ASKPASS', '--bypass-approvals'],
      ...['--passes', 'GITFLEET_HEARTBEAT_FILE', '--yolo', '-p'],
    ];
    for (const n of plain) expect(isSecretName(n), n).toBe(false);
  });
});

describe('maskArgv', () => {
  it('masks --flag=value and --flag value of secret flags, and nothing else', () => {
    const argv = ['stub', '--token=s3cr3t-A', '--password', 's3cr3t-B', '--model', 'opus', 'hello'];
    expect(maskArgv(argv)).toEqual(['stub', `--token=${M}`, '--password', M, '--model', 'opus', 'hello']);
  });

  it('does not take a following long option for the value of a secret flag', () => {
    const argv = ['x', '--no-auth', '--verbose', '--api-key', '-secretish'];
    expect(maskArgv(argv)).toEqual(['x', '--no-auth', '--verbose', '--api-key', M]);
  });

  it("masks NAME=value elements with a secret NAME, also inside another flag's value", () => {
    const argv = ['env', 'GH_TOKEN=s', 'MODE=x', 'run', '--env=API_KEY=s', '-e', 'DB_PASSWORD=s', '--set=MODE=y'];
    expect(maskArgv(argv)).toEqual([
      'env',
      `GH_TOKEN=${M}`,
      'MODE=x',
      'run',
      `--env=API_KEY=${M}`,
      '-e',
      `DB_PASSWORD=${M}`,
      '--set=MODE=y',
    ]);
  });

  it('masks the password of a URL, a lone http(s) user, and secret query parameters', () => {
    const argv = ['git', 'https://bot:s3cr3t@ex.com/r.git', '--remote=https://ghp_s3cr3t@gh.io/x', 'ssh://git@h/x'];
    const shown = ['git', `https://bot:${M}@ex.com/r.git`, `--remote=https://${M}@gh.io/x`, 'ssh://git@h/x'];
    expect(maskArgv(argv)).toEqual(shown);
    const url = 'http://h/p?user=me&access_token=s3cr3t&key=k2#f';
    expect(maskUrls(url)).toBe(`http://h/p?user=me&access_token=${M}&key=${M}#f`);
  });

  it('masks single-letter flags only when the runtime lists them, also attached (-pVALUE)', () => {
    expect(maskArgv(['mysql', '-p', 'x', '-u', 'root'])).toEqual(['mysql', '-p', 'x', '-u', 'root']);
    const argv = ['mysql', '-p', 's3cr3t', '-ps3cr3t', '-p=s3cr3t', '-u', 'root'];
    expect(maskArgv(argv, ['-p'])).toEqual(['mysql', '-p', M, `-p${M}`, `-p=${M}`, '-u', 'root']);
  });

  it('masks flags and NAME=value the runtime lists, whatever their case', () => {
    const argv = ['x', '--model', 'opus', '--MODEL=sonnet', 'MY_VAR=s3cr3t', 'OTHER=1'];
    const shown = ['x', '--model', M, `--MODEL=${M}`, `MY_VAR=${M}`, 'OTHER=1'];
    expect(maskArgv(argv, ['--model', 'my_var'])).toEqual(shown);
  });

  it('is idempotent, and leaves the input alone', () => {
    const argv = ['x', '--token', 't', 'https://u:p@h/'];
    const once = maskArgv(argv);
    expect(maskArgv(once)).toEqual(once);
    expect(argv).toEqual(['x', '--token', 't', 'https://u:p@h/']);
  });
});

describe('maskCommandLine', () => {
  it('masks a command line as written word by word, quoted words whole, spacing kept', () => {
    const line = `stub  --token "s3 cr3t" --password='a b' GH_TOKEN=x --model m 'unclosed`;
    const shown = `stub  --token ${M} --password=${M} GH_TOKEN=${M} --model ${M} 'unclosed`;
    expect(maskCommandLine(line, ['--model'])).toBe(shown);
  });
});

describe('maskEnv', () => {
  it('masks values of secret and listed names, and URL passwords in the others', () => {
    const env = { GH_TOKEN: 's3cr3t-C', MY_VAR: 's3cr3t-D', MODEL: 'opus', DATABASE_URL: 'postgres://u:s3cr3t@db/x' };
    const shown = { GH_TOKEN: M, MY_VAR: M, MODEL: 'opus', DATABASE_URL: `postgres://u:${M}@db/x` };
    expect(maskEnv(env, ['MY_VAR'])).toEqual(shown);
  });
});

// ---- the roster's redact: list ---------------------------------------------

const ROSTER = (redactLine: string) =>
  [
    'version: 1',
    'runtimes:',
    '  stub:',
    '    command: [stub, --token=s3cr3t-A, --password, s3cr3t-B, --model, opus]',
    '    env: { GH_TOKEN: s3cr3t-C, MY_VAR: s3cr3t-D, MODE: plain }',
    redactLine,
    'agents:',
    '  - name: a',
    '    runtime: stub',
    '',
  ].join('\n');

const parse = (text: string) => parseRoster('rosters/t.yaml', text, { home: '/h' });

describe('roster redact:', () => {
  it('is read into the agent spec, and does not change the spec hash', () => {
    const r = parse(ROSTER('    redact: [--model, MY_VAR, -p]'));
    expect(r.problems.map(formatProblem)).toEqual([]);
    const plain = parse(ROSTER('')).roster!.agents[0]!;
    const a = r.roster!.agents[0]!;
    expect(a.redact).toEqual(['--model', 'MY_VAR', '-p']);
    expect(plain.redact).toEqual([]);
    expect(a.specHash).toBe(plain.specHash);
    // The agent gets the real values.
    expect(a.argv).toEqual(['stub', '--token=s3cr3t-A', '--password', 's3cr3t-B', '--model', 'opus']);
    expect(a.env).toMatchObject({ GH_TOKEN: 's3cr3t-C', MY_VAR: 's3cr3t-D' });
  });

  it('a command line that does not split is quoted in its error with the secrets masked', () => {
    const line = `command: "stub --token=s3cr3t-A --model s3cr3t-E 'unclosed"`;
    const msgs = parse(ROSTER('    redact: [--model]').replace(/command: \[.*\]/, line)).problems.map(formatProblem);
    const shown = `command "stub --token=${M} --model ${M} 'unclosed": unterminated single quote`;
    expect(msgs).toEqual([`rosters/t.yaml:4:14: ${shown}`]);
  });

  it('accepts flags and env names only, with the position and what is allowed', () => {
    const r = parse(ROSTER('    redact: [--ok, "two words", ""]'));
    expect(r.roster).toBeNull();
    const msgs = r.problems.map(formatProblem);
    const allowed = 'allowed: a flag (--model-key, -p) or an environment variable name (MY_VAR)';
    expect(msgs).toEqual([
      `rosters/t.yaml:6:20: runtimes.stub.redact[1]: "two words" is not allowed; ${allowed}`,
      `rosters/t.yaml:6:33: runtimes.stub.redact[2]: "" is not allowed; ${allowed}`,
    ]);
  });
});

// ---- where the masks apply ---------------------------------------------------

describe('plan output and apply evidence', () => {
  const command = ['stub', '--token=s3cr3t-A', '--password', 's3cr3t-B', '--model', 's3cr3t-E'];
  const d = desired([{ name: 'a', command, env: { GH_TOKEN: 's3cr3t-C', MY_VAR: 's3cr3t-D', PATH: '/x' } }]);
  const a = d.rosters[0]!.agents[0]!;
  a.redact = ['--model', 'MY_VAR']; // as a runtime's redact: would set it
  const create = () => {
    const p = plan(planInput(d, observed(socket(SOCKET, [])), null), context());
    return { p, action: p.actions.find((x) => x.kind === 'create_session' && x.detail.agent === 'a')! };
  };

  it('the plan carries the masked argv (its --json and its text show it), the spec keeps the real one', () => {
    const { p, action } = create();
    expect(action.detail.argv).toEqual(['stub', `--token=${M}`, '--password', M, '--model', M]);
    expect(JSON.stringify(p)).not.toContain('s3cr3t');
    expect(renderPlan(p)).not.toContain('s3cr3t');
    expect(a.argv).toContain('s3cr3t-B');
  });

  it('evidence of a tmux action hides env values and masks the runtime argv; tmux gets the real ones', () => {
    const ctx = { fleet: 'lab', path: '/usr/bin:/bin', stateDir: '/state' };
    const { action } = create();
    const real = tmuxArgv(a.socket, commandsFor(action, a, ctx));
    expect(real).toContain('GH_TOKEN=s3cr3t-C');
    expect(real).toContain('s3cr3t-B');
    const shown = tmuxArgv(a.socket, redactedCommands(action, a, ctx));
    expect(shown.join(' ')).not.toContain('s3cr3t');
    expect(shown).toContain(`GH_TOKEN=${M}`);
    expect(shown).toContain(`MY_VAR=${M}`);
    expect(shown).toContain('GITFLEET_AGENT=a');
    expect(shown).toContain('PATH=/x'); // a SHOWN name, not secret
    // Only the secret values differ: the same commands, word for word.
    expect(shown).toHaveLength(real.length);
    const tail = shown.slice(shown.indexOf('stub'));
    expect(tail.slice(0, 7)).toEqual(['stub', `--token=${M}`, '--password', M, '--model', M, ';']);
    // The spec's fields kept on the session hold env values (secrets sealed): hidden whole in evidence.
    const fieldsAt = real.indexOf('@gitfleet-spec-fields');
    expect(real[fieldsAt + 1]).toContain('"MY_VAR"');
    expect(real[fieldsAt + 1]).not.toContain('s3cr3t-C');
    expect(shown[fieldsAt + 1]).toBe(M);
    // A SHOWN name is hidden too when the runtime lists it.
    const listed = redactedCommands(action, { ...a, redact: ['PATH'] }, ctx);
    expect(tmuxArgv(a.socket, listed)).toContain(`PATH=${M}`);
  });
});
