// gitfleet's own units, as data: the systemd --user service and timer that
// run `gitfleet apply`, the service for the daemon mode to come, and the
// crontab line that does the same without systemd. Pure: no fs, no
// processes; the paths of node and the CLI, the PATH and the repo are passed
// in. `reconciler/` ships exactly what this produces for PLACEHOLDERS (a test
// keeps them equal), and `gitfleet install` writes it for real values.
import { UsageError } from '../errors.js';
import { isRemoteRepo } from '../git/remote-url.js';
import { CRON_LOG } from '../paths.js';
import { RUN_EVERY_ENV } from '../status/liveness.js';
import { checkAbsolute, checkValue, envAssignment, escapeSpecifiers, execArg, shellWord } from '../systemd/syntax.js';

export interface UnitOptions {
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of gitfleet's dist/cli.js. */
  cli: string;
  /** Absolute path of the fleet repository, or its remote URL (which holds no credentials: they are refused). */
  repo: string;
  /**
   * A remote repository's settings for the service (install/remote-env.ts): paths and knobs, never a secret.
   */
  remoteEnv?: [string, string][];
  branch?: string;
  stateDir?: string;
  /** How often to reconcile, e.g. `5min`, `1h` (see parseInterval). */
  every: string;
  /** Unit name suffix, [A-Za-z0-9_.-]: the fleet's name (fleet.yaml `fleet:`) unless `--name` says otherwise. */
  name: string;
  /** PATH for the service (panes inherit the tmux server's environment). */
  path: string;
  /** TMUX_TMPDIR for the service, only when the installer had one. */
  tmuxTmpdir?: string;
  /**
   * LANG for the service, when the installer had one: panes inherit it from
   * the tmux server, and tmux prints control characters in formats (which
   * gitfleet's observer uses as separators) only under a UTF-8 locale, which
   * cron and a user manager without /etc/locale.conf do not set.
   */
  lang?: string;
  /** `gitfleet run` only: --listen, --webhook-secret-file (absolute), --log-format, passed on as given. */
  listen?: string;
  webhookSecretFile?: string;
  logFormat?: string;
}

export interface UnitFile {
  name: string;
  content: string;
}

/** The values `reconciler/` is generated with. */
export const PLACEHOLDERS: UnitOptions = {
  node: '/usr/bin/node',
  cli: '/usr/lib/node_modules/gitfleet/dist/cli.js',
  repo: '/srv/fleet.git',
  every: '5min',
  name: 'fleet',
  path: '/usr/local/bin:/usr/bin:/bin',
  lang: 'C.UTF-8',
};

export const DEFAULT_EVERY = '5min';

// ---- names ----------------------------------------------------------------

const NAME = /^[A-Za-z0-9_.-]+$/;

export function unitNames(name: string): { service: string; timer: string; daemon: string } {
  checkName(name);
  return {
    service: `gitfleet-reconcile-${name}.service`,
    timer: `gitfleet-reconcile-${name}.timer`,
    daemon: `gitfleet-run-${name}.service`,
  };
}

/** `--name`: used as given, so it must already be valid. */
export function checkName(name: string): string {
  if (!NAME.test(name) || name.length > 200) {
    throw new UsageError(`--name ${JSON.stringify(name)}: allowed: 1 to 200 letters, digits, '_', '.', '-'`);
  }
  return name;
}

// ---- intervals ------------------------------------------------------------

export interface Interval {
  /** Canonical spelling: `5min`, `1h`. */
  text: string;
  seconds: number;
  /** systemd calendar expression: every run on the same wall-clock grid on every host. */
  onCalendar: string;
  /** The same schedule for cron. */
  cron: string;
}

const MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const HOURS = [1, 2, 3, 4, 6, 8, 12, 24];
export const ALLOWED_INTERVALS = [...MINUTES.map((m) => `${m}min`), ...HOURS.map((h) => `${h}h`)];

/**
 * `--every`: minutes that divide an hour or hours that divide a day, so the
 * runs are evenly spaced on the clock (OnCalendar and cron count from the
 * full hour / midnight). Seconds are refused: cron cannot do them, and
 * reconciling faster than once a minute is the daemon's job.
 */
export function parseInterval(text: string): Interval {
  const m = /^\s*(\d{1,4})\s*(m|min|mins|minute|minutes|h|hr|hour|hours)\s*$/i.exec(text);
  const allowed = `allowed: ${ALLOWED_INTERVALS.join(', ')}`;
  if (!m) {
    const hint = /^\s*\d+\s*s/i.test(text) ? ' (seconds are not supported; the shortest interval is 1min)' : '';
    throw new UsageError(`--every ${JSON.stringify(text)}: not an interval${hint}; ${allowed}`);
  }
  const minutes = Number(m[1]) * (m[2]!.toLowerCase().startsWith('h') ? 60 : 1);
  if (minutes < 60 && MINUTES.includes(minutes)) {
    return {
      text: `${minutes}min`,
      seconds: minutes * 60,
      onCalendar: minutes === 1 ? '*-*-* *:*:00' : `*-*-* *:00/${minutes}:00`,
      cron: minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`,
    };
  }
  const hours = minutes / 60;
  if (HOURS.includes(hours)) {
    return {
      text: `${hours}h`,
      seconds: minutes * 60,
      onCalendar: hours === 1 ? '*-*-* *:00:00' : hours === 24 ? '*-*-* 00:00:00' : `*-*-* 00/${hours}:00:00`,
      cron: hours === 1 ? '0 * * * *' : hours === 24 ? '0 0 * * *' : `0 */${hours} * * *`,
    };
  }
  throw new UsageError(`--every ${JSON.stringify(text)}: runs would not be evenly spaced on the clock; ${allowed}`);
}

/** Jitter so hosts sharing a repo do not all fetch and commit at once: a fifth of the interval, at most 5 minutes. */
function randomizedDelaySec(iv: Interval): number {
  return Math.min(Math.floor(iv.seconds / 5), 300);
}

// ---- the files ------------------------------------------------------------

function validated(o: UnitOptions): { o: UnitOptions; iv: Interval; names: ReturnType<typeof unitNames> } {
  const iv = parseInterval(o.every);
  const names = unitNames(o.name);
  checkAbsolute('node', o.node);
  checkAbsolute('cli', o.cli);
  if (isRemoteRepo(o.repo)) checkValue('--repo', o.repo);
  else checkAbsolute('--repo', o.repo);
  for (const [k, v] of o.remoteEnv ?? []) checkValue(k, v);
  if (o.stateDir !== undefined) checkAbsolute('--state-dir', o.stateDir);
  if (o.tmuxTmpdir !== undefined) checkAbsolute('TMUX_TMPDIR', o.tmuxTmpdir);
  if (o.branch !== undefined) checkValue('--branch', o.branch);
  if (o.lang !== undefined) checkValue('LANG', o.lang);
  if (o.listen !== undefined) checkValue('--listen', o.listen);
  if (o.webhookSecretFile !== undefined) checkAbsolute('--webhook-secret-file', o.webhookSecretFile);
  if (o.logFormat !== undefined) checkValue('--log-format', o.logFormat);
  checkValue('PATH', o.path);
  return { o, iv, names };
}

/** argv of `gitfleet <command>` for this fleet. */
function gitfleetArgv(o: UnitOptions, command: 'apply' | 'run'): string[] {
  return [
    o.node,
    o.cli,
    command,
    '--repo',
    o.repo,
    ...(o.branch !== undefined ? ['--branch', o.branch] : []),
    ...(o.stateDir !== undefined ? ['--state-dir', o.stateDir] : []),
    ...(command === 'run' && o.listen !== undefined ? ['--listen', o.listen] : []),
    ...(command === 'run' && o.webhookSecretFile !== undefined ? ['--webhook-secret-file', o.webhookSecretFile] : []),
    ...(command === 'run' && o.logFormat !== undefined ? ['--log-format', o.logFormat] : []),
  ];
}

function environment(o: UnitOptions, every?: Interval): string[] {
  return envVars(o, every).map(([k, v]) => envAssignment(k, v));
}

/**
 * `every`: the timer's or cron's interval, for apply's liveness record (README, Stale hosts): a host run every 15
 * minutes must not be judged by a 5-minute reconcile.schedule and read as stale between its runs.
 */
function envVars(o: UnitOptions, every?: Interval): [string, string][] {
  return [
    ['PATH', o.path],
    ...(every ? [[RUN_EVERY_ENV, String(every.seconds)] as [string, string]] : []),
    ...(o.lang !== undefined ? [['LANG', o.lang] as [string, string]] : []),
    ...(o.tmuxTmpdir !== undefined ? [['TMUX_TMPDIR', o.tmuxTmpdir] as [string, string]] : []),
    ...(o.remoteEnv ?? []),
  ];
}

const GENERATED =
  '# Generated by gitfleet: `gitfleet install` writes it for your paths; change it\n' +
  '# by running install again (or remove it with `gitfleet uninstall`), not by hand.';

const KILL_MODE = [
  '# tmux servers that gitfleet starts, and the agents in them, live in this',
  "# unit's control group: when the unit stops, kill only gitfleet itself,",
  '# never the agents.',
  'KillMode=process',
];

/** The oneshot service and its timer: what `gitfleet install` writes. */
export function generateUnits(options: UnitOptions): UnitFile[] {
  const { o, iv, names } = validated(options);
  const service = [
    `# gitfleet: reconcile the fleet in ${o.repo} once (\`gitfleet apply\`).`,
    GENERATED,
    `# Started by ${names.timer}.`,
    '#',
    "# The exit status is the fleet's: 0 converged; 3 applied but not converged",
    '# (some agent is not Ready); 1 could not run. Any non-zero status marks this',
    '# unit failed, so `systemctl --user --failed` lists a fleet that did not',
    '# converge. Details: `journalctl --user -u <this unit>`, and status/<host>.md',
    '# in the repository.',
    '[Unit]',
    `Description=${escapeSpecifiers(`gitfleet reconcile ${o.name} (${o.repo})`)}`,
    '',
    '[Service]',
    'Type=oneshot',
    ...environment(o, iv),
    `ExecStart=${gitfleetArgv(o, 'apply').map(execArg).join(' ')}`,
    '# A stuck run must not hold back the ones after it.',
    'TimeoutStartSec=15min',
    ...KILL_MODE,
    '',
  ].join('\n');
  const timer = [
    `# gitfleet: run ${names.service} every ${iv.text}.`,
    GENERATED,
    '[Unit]',
    `Description=${escapeSpecifiers(`gitfleet reconcile ${o.name} every ${iv.text}`)}`,
    '',
    '[Timer]',
    `OnCalendar=${iv.onCalendar}`,
    '# Run at once on boot or login when a run was missed while the machine was off.',
    'Persistent=true',
    '# Hosts sharing the repository do not all fetch and commit at the same',
    '# second; the delay is fixed per host and unit, so runs stay evenly spaced.',
    `RandomizedDelaySec=${randomizedDelaySec(iv)}`,
    'FixedRandomDelay=true',
    'AccuracySec=1s',
    `Unit=${names.service}`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return [
    { name: names.service, content: service },
    { name: names.timer, content: timer },
  ];
}

/** The long-running service for `gitfleet run`: what `gitfleet install --daemon` writes. */
export function generateDaemonUnit(options: UnitOptions): UnitFile {
  const { o, names } = validated(options);
  const content = [
    `# gitfleet: keep the fleet in ${o.repo} reconciled as a daemon (\`gitfleet run\`).`,
    GENERATED,
    '#',
    '# It reconciles on every desired-state change, on fleet.yaml reconcile.schedule',
    '# (default every 5 minutes) and when a look sees a pane die; one log line per',
    `# reconcile: journalctl --user -u ${names.daemon}`,
    `# It conflicts with the timer: starting it stops ${names.timer}.`,
    '[Unit]',
    `Description=${escapeSpecifiers(`gitfleet daemon ${o.name} (${o.repo})`)}`,
    `Conflicts=${names.timer} ${names.service}`,
    '',
    '[Service]',
    'Type=exec',
    ...environment(o),
    `ExecStart=${gitfleetArgv(o, 'run').map(execArg).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=30s',
    '# A usage error (exit 64) does not go away by restarting.',
    'RestartPreventExitStatus=64',
    '# On SIGTERM it finishes the reconcile in progress, then exits 0.',
    'TimeoutStopSec=2min',
    ...KILL_MODE,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
  return { name: names.daemon, content };
}

/**
 * The crontab line that does what the timer does, for hosts without a user
 * manager. Everything gitfleet prints, errors included, is appended to
 * cron.log in the state dir (apply keeps it small: apply/log-rotate.ts): cron mail is rarely set up, and output thrown
 * away leaves nothing to read when a run fails. The state dir is made first
 * because the shell opens the log before gitfleet runs. `%` is special to cron.
 */
export function crontabLine(options: UnitOptions): string {
  const { o, iv } = validated(options);
  // Without --state-dir, gitfleet's default under cron (which sets HOME but no XDG_STATE_HOME).
  const dir = o.stateDir !== undefined ? shellWord(o.stateDir) : '"$HOME"/.local/state/gitfleet';
  const env = envVars(o, iv).map(([k, v]) => `${k}=${shellWord(v)}`);
  const command = [
    `mkdir -p -m 700 ${dir} &&`,
    ...env,
    ...gitfleetArgv(o, 'apply').map(shellWord),
    `>>${dir}/${CRON_LOG} 2>&1`,
  ].join(' ');
  return `${iv.cron} ${command.replace(/%/g, '\\%')}`;
}

/** reconciler/crontab.example */
export function generateCrontab(options: UnitOptions): UnitFile {
  const line = crontabLine(options);
  const content = [
    '# gitfleet from cron, for hosts without a systemd user manager: add the line',
    '# below with `crontab -e` (edit the paths). It runs `gitfleet apply` every',
    `# ${parseInterval(options.every).text}; what it prints, errors included, is appended to cron.log`,
    "# in gitfleet's state dir, which apply keeps under 1 MiB (the older part in",
    '# cron.log.1): `tail ~/.local/state/gitfleet/cron.log`. gitfleet takes its',
    '# own lock: a run that starts while the last one is still going fails',
    '# (exit 1) instead of overlapping it. `gitfleet install` prints this line',
    '# for your paths when it cannot reach systemd.',
    line,
    '',
  ].join('\n');
  return { name: 'crontab.example', content };
}

/** Everything in reconciler/ except its README, for the given values. */
export function reconcilerFiles(o: UnitOptions = PLACEHOLDERS): UnitFile[] {
  return [...generateUnits(o), generateDaemonUnit(o), generateCrontab(o)];
}
