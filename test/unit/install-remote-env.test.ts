// What the units get to reach a remote fleet repository (src/install/remote-env.ts): paths and knobs from the
// installer's settings, made absolute, and never the token itself; and how units.ts renders them.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { remoteSettings } from '../../src/git/remote-settings.js';
import { parseRemoteUrl } from '../../src/git/remote-url.js';
import { remoteUnitEnv } from '../../src/install/remote-env.js';
import { crontabLine, generateDaemonUnit, generateUnits, type UnitOptions } from '../../src/install/units.js';

const TOKEN = 'tok-unit-4f2a8e6c0b1d';

function envFor(url: string, env: NodeJS.ProcessEnv, flags: { tokenFile?: string; allowInsecureHttp?: boolean } = {}) {
  const s = remoteSettings(env, flags);
  return remoteUnitEnv(parseRemoteUrl(url, s), s, env);
}

describe('remoteUnitEnv', () => {
  it('https: the token file (absolute), the CA, the knobs; never GITFLEET_GIT_TOKEN', () => {
    const env = {
      GITFLEET_GIT_TOKEN: TOKEN,
      GITFLEET_GIT_TOKEN_FILE: 'secrets/token',
      GITFLEET_GIT_USERNAME: 'oauth2',
      GITFLEET_GIT_TIMEOUT: '30',
      GITFLEET_GIT_ATTEMPTS: '5',
      GITFLEET_POLL_INTERVAL: '20',
      NODE_EXTRA_CA_CERTS: '/etc/gitfleet/ca.pem',
      NODE_OPTIONS: '--max-old-space-size=512 --use-openssl-ca',
    };
    const out = envFor('https://forge.example/org/fleet.git', env);
    expect(out).toEqual([
      ['GITFLEET_GIT_TOKEN_FILE', path.resolve('secrets/token')],
      ['NODE_EXTRA_CA_CERTS', '/etc/gitfleet/ca.pem'],
      ['NODE_OPTIONS', '--use-openssl-ca'],
      ['GITFLEET_GIT_USERNAME', 'oauth2'],
      ['GITFLEET_GIT_TIMEOUT', '30'],
      ['GITFLEET_GIT_ATTEMPTS', '5'],
      ['GITFLEET_POLL_INTERVAL', '20'],
    ]);
    expect(JSON.stringify(out)).not.toContain(TOKEN);
    // --git-token-file wins over the environment's file, and other NODE_OPTIONS are not passed on.
    expect(
      envFor(
        'https://forge.example/fleet.git',
        { NODE_OPTIONS: '--inspect' },
        { tokenFile: '/run/t', allowInsecureHttp: true },
      ),
    ).toEqual([
      ['GITFLEET_GIT_TOKEN_FILE', '/run/t'],
      ['GITFLEET_ALLOW_INSECURE_HTTP', '1'],
    ]);
  });

  it('a token only in the environment is refused, saying to use a file, without the token', () => {
    let err: unknown;
    try {
      envFor('https://forge.example/fleet.git', { GITFLEET_GIT_TOKEN: TOKEN });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain('the token is only in GITFLEET_GIT_TOKEN');
    expect((err as Error).message).toContain('--git-token-file');
    expect((err as Error).message).not.toContain(TOKEN);
    // No token at all is not refused here: reaching the remote at install tells (a public repository may do).
    expect(envFor('https://forge.example/fleet.git', {})).toEqual([]);
  });

  it('ssh: the key and known_hosts, absolute; no https settings', () => {
    const env = { GITFLEET_SSH_KEY: 'keys/fleet', GITFLEET_SSH_KNOWN_HOSTS: '/etc/kh', NODE_EXTRA_CA_CERTS: '/ca.pem' };
    expect(envFor('git@forge.example:org/fleet.git', env)).toEqual([
      ['GITFLEET_SSH_KEY', path.resolve('keys/fleet')],
      ['GITFLEET_SSH_KNOWN_HOSTS', '/etc/kh'],
    ]);
  });
});

describe('units for a remote repository', () => {
  const o: UnitOptions = {
    node: '/usr/bin/node',
    cli: '/opt/gitfleet/dist/cli.js',
    repo: 'https://forge.example/org/fleet%20one.git',
    every: '5min',
    name: 'prod',
    path: '/usr/bin:/bin',
    remoteEnv: [
      ['GITFLEET_GIT_TOKEN_FILE', '/home/op/.config/gitfleet/token'],
      ['NODE_EXTRA_CA_CERTS', '/etc/gitfleet/ca.pem'],
    ],
  };

  it('the URL is the --repo argument (specifiers escaped), the settings Environment= lines', () => {
    const [service] = generateUnits(o);
    expect(service!.content).toContain(
      'ExecStart=/usr/bin/node /opt/gitfleet/dist/cli.js apply --repo https://forge.example/org/fleet%%20one.git\n',
    );
    expect(service!.content).toContain('Environment="GITFLEET_GIT_TOKEN_FILE=/home/op/.config/gitfleet/token"\n');
    expect(service!.content).toContain('Environment="NODE_EXTRA_CA_CERTS=/etc/gitfleet/ca.pem"\n');
    expect(generateDaemonUnit(o).content).toContain(' run --repo https://forge.example/org/fleet%%20one.git\n');
    expect(crontabLine(o)).toContain(
      'GITFLEET_GIT_TOKEN_FILE=/home/op/.config/gitfleet/token NODE_EXTRA_CA_CERTS=/etc/gitfleet/ca.pem ',
    );
  });

  it('a path must still be absolute; a setting with a newline is refused', () => {
    expect(() => generateUnits({ ...o, repo: 'fleet.git' })).toThrow(/must be an absolute path/);
    expect(() => generateUnits({ ...o, remoteEnv: [['GITFLEET_SSH_KEY', '/k\nX=1']] })).toThrow(
      /GITFLEET_SSH_KEY .*control characters/,
    );
  });
});
