// gitfleet's own units (src/install/units.ts): pure generator output,
// --every parsing, quoting for systemd and the shell, names, and the files
// shipped in reconciler/, which must be exactly the generator's output for
// PLACEHOLDERS. To regenerate them after changing the generator:
//   npx vitest run test/unit/units.test.ts -u
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  ALLOWED_INTERVALS,
  checkName,
  crontabLine,
  generateCrontab,
  generateDaemonUnit,
  generateUnits,
  parseInterval,
  PLACEHOLDERS,
  reconcilerFiles,
  unitNames,
  type UnitOptions,
} from '../../src/install/units.js';
import { envAssignment, execArg, shellWord } from '../../src/systemd/syntax.js';

const BASE: UnitOptions = {
  node: '/opt/node/bin/node',
  cli: '/opt/gitfleet/dist/cli.js',
  repo: '/srv/fleets/prod.git',
  every: '5min',
  name: 'prod',
  path: '/home/op/.local/bin:/usr/bin:/bin',
};

const units = (o: Partial<UnitOptions> = {}) => {
  const [service, timer] = generateUnits({ ...BASE, ...o });
  return { service: service!, timer: timer! };
};

/** `Key=value` lines of a unit, comments and section headers dropped. */
const settings = (content: string): string[] =>
  content.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('['));

function usageError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('generateUnits', () => {
  it('a oneshot service running gitfleet apply, and its timer', () => {
    const { service, timer } = units();
    expect(service.name).toBe('gitfleet-reconcile-prod.service');
    expect(timer.name).toBe('gitfleet-reconcile-prod.timer');
    expect(settings(service.content)).toEqual([
      'Description=gitfleet reconcile prod (/srv/fleets/prod.git)',
      'Type=oneshot',
      'Environment="PATH=/home/op/.local/bin:/usr/bin:/bin"',
      'Environment="GITFLEET_RUN_EVERY=300"',
      'ExecStart=/opt/node/bin/node /opt/gitfleet/dist/cli.js apply --repo /srv/fleets/prod.git',
      'TimeoutStartSec=15min',
      'KillMode=process',
    ]);
    expect(settings(timer.content)).toEqual([
      'Description=gitfleet reconcile prod every 5min',
      'OnCalendar=*-*-* *:00/5:00',
      'Persistent=true',
      'RandomizedDelaySec=60',
      'FixedRandomDelay=true',
      'AccuracySec=1s',
      'Unit=gitfleet-reconcile-prod.service',
      'WantedBy=timers.target',
    ]);
    expect(service.content).toMatch(/^\[Unit\]$/m);
    expect(service.content).toMatch(/^\[Service\]$/m);
    expect(service.content).not.toMatch(/^\[Install\]$/m); // the timer starts it, nothing else
    expect(timer.content).toMatch(/^\[Timer\]$/m);
    expect(timer.content).toMatch(/^\[Install\]$/m);
  });

  it('documents the exit status: non-zero when the fleet did not converge', () => {
    const { service } = units();
    expect(service.content).toContain("# The exit status is the fleet's: 0 converged; 3 applied but not converged");
    expect(service.content).toContain('1 could not run. Any non-zero status marks this\n# unit failed');
  });

  it('branch, state dir, LANG and TMUX_TMPDIR only when given', () => {
    const { service } = units({
      branch: 'prod',
      stateDir: '/var/lib/gitfleet',
      lang: 'en_US.UTF-8',
      tmuxTmpdir: '/run/user/1000/tmux',
    });
    expect(settings(service.content)).toContain(
      'ExecStart=/opt/node/bin/node /opt/gitfleet/dist/cli.js apply ' +
        '--repo /srv/fleets/prod.git --branch prod --state-dir /var/lib/gitfleet',
    );
    expect(settings(service.content).filter((l) => l.startsWith('Environment='))).toEqual([
      'Environment="PATH=/home/op/.local/bin:/usr/bin:/bin"',
      'Environment="GITFLEET_RUN_EVERY=300"',
      'Environment="LANG=en_US.UTF-8"',
      'Environment="TMUX_TMPDIR=/run/user/1000/tmux"',
    ]);
    expect(units().service.content).not.toContain('TMUX_TMPDIR');
    expect(units().service.content).not.toContain('LANG');
  });

  it('changing the interval changes the timer, and in the service only the interval its liveness ref announces', () => {
    const a = units({ every: '5min' });
    const b = units({ every: '1h' });
    expect(b.service.content).toBe(
      a.service.content.replace('Environment="GITFLEET_RUN_EVERY=300"', 'Environment="GITFLEET_RUN_EVERY=3600"'),
    );
    expect(b.service.content).not.toBe(a.service.content);
    expect(b.timer.content).not.toBe(a.timer.content);
    expect(settings(b.timer.content)).toContain('OnCalendar=*-*-* *:00:00');
    expect(settings(b.timer.content)).toContain('RandomizedDelaySec=300');
  });

  it('quotes paths with spaces, quotes and backslashes; escapes % and $', () => {
    const { service } = units({
      node: '/opt/my node/node',
      repo: '/srv/team "a"/100% $HOME\\x.git',
      stateDir: "/var/lib/it's",
      path: '/opt/my bin:/usr/bin:/%h',
      tmuxTmpdir: '/tmp/a b',
    });
    const lines = settings(service.content);
    expect(lines).toContain(
      'ExecStart="/opt/my node/node" /opt/gitfleet/dist/cli.js apply ' +
        '--repo "/srv/team \\"a\\"/100%% $$HOME\\\\x.git" --state-dir "/var/lib/it\'s"',
    );
    expect(lines).toContain('Environment="PATH=/opt/my bin:/usr/bin:/%%h"');
    expect(lines).toContain('Environment="TMUX_TMPDIR=/tmp/a b"');
    expect(lines).toContain('Description=gitfleet reconcile prod (/srv/team "a"/100%% $HOME\\x.git)');
  });

  it('refuses what cannot go into a unit file, saying why', () => {
    expect(usageError(() => generateUnits({ ...BASE, repo: 'fleet.git' }))).toBe(
      '--repo "fleet.git": must be an absolute path',
    );
    expect(usageError(() => generateUnits({ ...BASE, repo: '/srv/a\nb' }))).toContain('control characters');
    expect(usageError(() => generateUnits({ ...BASE, name: 'a/b' }))).toContain(
      "allowed: 1 to 200 letters, digits, '_', '.', '-'",
    );
    expect(usageError(() => generateUnits({ ...BASE, every: '7min' }))).toContain('not be evenly spaced');
  });
});

describe('parseInterval (--every)', () => {
  it.each([
    ['1min', '1min', '*-*-* *:*:00', '* * * * *', 60],
    ['2min', '2min', '*-*-* *:00/2:00', '*/2 * * * *', 120],
    ['5min', '5min', '*-*-* *:00/5:00', '*/5 * * * *', 300],
    ['5m', '5min', '*-*-* *:00/5:00', '*/5 * * * *', 300],
    ['15 minutes', '15min', '*-*-* *:00/15:00', '*/15 * * * *', 900],
    ['30min', '30min', '*-*-* *:00/30:00', '*/30 * * * *', 1800],
    ['60min', '1h', '*-*-* *:00:00', '0 * * * *', 3600],
    ['1h', '1h', '*-*-* *:00:00', '0 * * * *', 3600],
    ['6h', '6h', '*-*-* 00/6:00:00', '0 */6 * * *', 21600],
    ['24h', '24h', '*-*-* 00:00:00', '0 0 * * *', 86400],
  ])('%s → %s, OnCalendar=%s, cron %s', (input, text, onCalendar, cron, seconds) => {
    expect(parseInterval(input)).toEqual({ text, onCalendar, cron, seconds });
  });

  it('every allowed interval parses as itself', () => {
    for (const i of ALLOWED_INTERVALS) expect(parseInterval(i).text).toBe(i);
    expect(ALLOWED_INTERVALS).toEqual([
      '1min',
      '2min',
      '3min',
      '4min',
      '5min',
      '6min',
      '10min',
      '12min',
      '15min',
      '20min',
      '30min',
      '1h',
      '2h',
      '3h',
      '4h',
      '6h',
      '8h',
      '12h',
      '24h',
    ]);
  });

  it.each(['7min', '45min', '90min', '5h', '48h', '0min'])('%s is refused: not evenly spaced on the clock', (input) => {
    const msg = usageError(() => parseInterval(input));
    expect(msg).toBe(
      `--every "${input}": runs would not be evenly spaced on the clock; allowed: ${ALLOWED_INTERVALS.join(', ')}`,
    );
  });

  it.each(['', '5', 'min', 'five minutes', '5d', '1.5h', '-5min', '*:00/5'])('%j is not an interval', (input) => {
    expect(usageError(() => parseInterval(input))).toContain('not an interval; allowed: 1min, 2min');
  });

  it('seconds are refused with the reason', () => {
    expect(usageError(() => parseInterval('30s'))).toContain(
      '(seconds are not supported; the shortest interval is 1min)',
    );
  });

  it('RandomizedDelaySec is a fifth of the interval, at most 5 minutes', () => {
    const delay = (every: string) =>
      settings(units({ every }).timer.content).find((l) => l.startsWith('RandomizedDelaySec='));
    expect(delay('1min')).toBe('RandomizedDelaySec=12');
    expect(delay('10min')).toBe('RandomizedDelaySec=120');
    expect(delay('30min')).toBe('RandomizedDelaySec=300');
    expect(delay('24h')).toBe('RandomizedDelaySec=300');
  });
});

describe('quoting', () => {
  it('execArg: plain words stay bare; the rest in C-style double quotes', () => {
    expect(execArg('/usr/bin/node')).toBe('/usr/bin/node');
    expect(execArg('--state-dir')).toBe('--state-dir');
    expect(execArg('a b')).toBe('"a b"');
    expect(execArg("it's")).toBe('"it\'s"');
    expect(execArg('say "hi"')).toBe('"say \\"hi\\""');
    expect(execArg('back\\slash')).toBe('"back\\\\slash"');
    expect(execArg('100%')).toBe('100%%');
    expect(execArg('$HOME')).toBe('"$$HOME"');
    expect(execArg(';')).toBe('";"');
    expect(execArg('')).toBe('""');
  });

  it('envAssignment: always quoted, specifiers escaped, no $ expansion there', () => {
    expect(envAssignment('PATH', '/a b:/c')).toBe('Environment="PATH=/a b:/c"');
    expect(envAssignment('X', '%h $HOME "q" \\')).toBe('Environment="X=%%h $HOME \\"q\\" \\\\"');
  });

  it('shellWord: single quotes for /bin/sh', () => {
    expect(shellWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellWord('/srv/my fleet.git')).toBe("'/srv/my fleet.git'");
    expect(shellWord("it's $HOME")).toBe("'it'\\''s $HOME'");
  });

  it('the crontab line quotes for the shell, escapes % for cron, and logs to cron.log in the state dir', () => {
    expect(crontabLine({ ...BASE, repo: "/srv/it's 100%.git", tmuxTmpdir: '/tmp/t', lang: 'C.UTF-8' })).toBe(
      '*/5 * * * * mkdir -p -m 700 "$HOME"/.local/state/gitfleet && ' +
        'PATH=/home/op/.local/bin:/usr/bin:/bin GITFLEET_RUN_EVERY=300 LANG=C.UTF-8 TMUX_TMPDIR=/tmp/t ' +
        "/opt/node/bin/node /opt/gitfleet/dist/cli.js apply --repo '/srv/it'\\''s 100\\%.git' " +
        '>>"$HOME"/.local/state/gitfleet/cron.log 2>&1',
    );
    expect(crontabLine({ ...BASE, stateDir: '/var/lib/my fleet' })).toBe(
      "*/5 * * * * mkdir -p -m 700 '/var/lib/my fleet' && PATH=/home/op/.local/bin:/usr/bin:/bin " +
        'GITFLEET_RUN_EVERY=300 ' +
        '/opt/node/bin/node /opt/gitfleet/dist/cli.js apply --repo /srv/fleets/prod.git ' +
        "--state-dir '/var/lib/my fleet' " +
        ">>'/var/lib/my fleet'/cron.log 2>&1",
    );
    expect(crontabLine({ ...BASE, every: '2h' })).toMatch(/^0 \*\/2 \* \* \* /);
  });
});

describe('names', () => {
  it('two fleets of one user never share units', () => {
    const a = unitNames('alpha');
    const b = unitNames('beta');
    expect(new Set([...Object.values(a), ...Object.values(b)]).size).toBe(6);
    expect(unitNames('beta')).toEqual({
      service: 'gitfleet-reconcile-beta.service',
      timer: 'gitfleet-reconcile-beta.timer',
      daemon: 'gitfleet-run-beta.service',
    });
  });

  it('--name is used as given, so it must be valid', () => {
    expect(checkName('prod-2.eu_west')).toBe('prod-2.eu_west');
    for (const bad of ['', 'a b', 'a/b', 'ü', 'x'.repeat(201)])
      expect(usageError(() => checkName(bad))).toContain('allowed:');
  });
});

describe('the daemon unit and the crontab', () => {
  it('the daemon unit runs gitfleet run, restarts on failure, and conflicts with the timer', () => {
    const d = generateDaemonUnit(BASE);
    expect(d.name).toBe('gitfleet-run-prod.service');
    expect(d.content).not.toContain('NOT IMPLEMENTED');
    expect(settings(d.content)).toEqual([
      'Description=gitfleet daemon prod (/srv/fleets/prod.git)',
      'Conflicts=gitfleet-reconcile-prod.timer gitfleet-reconcile-prod.service',
      'Type=exec',
      'Environment="PATH=/home/op/.local/bin:/usr/bin:/bin"',
      'ExecStart=/opt/node/bin/node /opt/gitfleet/dist/cli.js run --repo /srv/fleets/prod.git',
      'Restart=on-failure',
      'RestartSec=30s',
      'RestartPreventExitStatus=64',
      'TimeoutStopSec=2min',
      'KillMode=process',
      'WantedBy=default.target',
    ]);
    // The run options are passed on; the timer's apply never gets them.
    const withListen = { ...BASE, listen: '127.0.0.1:9464', webhookSecretFile: '/home/op/hook', logFormat: 'json' };
    expect(settings(generateDaemonUnit(withListen).content)).toContain(
      'ExecStart=/opt/node/bin/node /opt/gitfleet/dist/cli.js run --repo /srv/fleets/prod.git ' +
        '--listen 127.0.0.1:9464 --webhook-secret-file /home/op/hook --log-format json',
    );
    expect(generateUnits(withListen)[0]!.content).not.toContain('--listen');
  });

  it('crontab.example is comments and one line', () => {
    const c = generateCrontab(BASE);
    expect(c.name).toBe('crontab.example');
    const lines = c.content.trimEnd().split('\n');
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual([crontabLine(BASE)]);
  });
});

describe('reconciler/ (shipped)', () => {
  const dir = new URL('../../reconciler/', import.meta.url);

  it('holds exactly the generated files and a README', () => {
    expect(readdirSync(dir).sort()).toEqual([...reconcilerFiles().map((f) => f.name), 'README.md'].sort());
    expect(reconcilerFiles().map((f) => f.name)).toEqual([
      'gitfleet-reconcile-fleet.service',
      'gitfleet-reconcile-fleet.timer',
      'gitfleet-run-fleet.service',
      'crontab.example',
    ]);
    expect(PLACEHOLDERS).toMatchObject({ repo: '/srv/fleet.git', name: 'fleet', every: '5min' });
  });

  // A failure here means the generator changed: regenerate with -u (see the top of this file).
  it.each(reconcilerFiles().map((f) => [f.name, f.content]))(
    '%s is the generator output for PLACEHOLDERS',
    async (name, content) => {
      await expect(content).toMatchFileSnapshot(new URL(name, dir).pathname);
    },
  );
});
