// `gitfleet install` / `uninstall`: write gitfleet's own units (units.ts)
// into the user's systemd directory and enable the timer through
// `systemctl --user`. Idempotent: files are written only when their content
// changed, the manager is reloaded once and only then, and a timer already
// enabled and active is left alone. Every process starts in exec.ts.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, TerminalError, UsageError } from '../errors.js';
import { run, type RunResult } from '../exec.js';
import { readText, writeAtomic } from '../files.js';
import { Repo } from '../git/repo.js';
import { Systemctl } from '../systemd/client.js';
import { userUnitDir } from '../systemd/paths.js';
import {
  checkName,
  crontabLine,
  defaultName,
  generateDaemonUnit,
  generateUnits,
  parseInterval,
  unitNames,
  type UnitFile,
  type UnitOptions,
} from './units.js';

export interface InstallOptions {
  repo: string;
  branch: string | null;
  stateDir: string;
  every: string;
  /** `--name`, or null for the repository's name. */
  name: string | null;
  dryRun: boolean;
  /** Absolute paths of node and of gitfleet's dist/cli.js. */
  node: string;
  cli: string;
  home: string;
  /** The installer's environment: PATH, TMUX_TMPDIR, XDG_CONFIG_HOME, and what systemctl needs to reach the manager. */
  env: NodeJS.ProcessEnv;
  /** --daemon: the `gitfleet run` service (with these run options) instead of the timer and its oneshot service. */
  daemon?: { listen: string | null; webhookSecretFile: string | null; logFormat: string | null } | null;
}

export type FileAction = 'created' | 'updated' | 'unchanged' | 'removed' | 'absent';

export interface InstallResult {
  name: string;
  /** --daemon: `service` is the daemon's unit, and `timer` the one disabled in its favour. */
  daemon: boolean;
  repo: string;
  unitDir: string;
  service: string;
  timer: string;
  every: string;
  onCalendar: string;
  dryRun: boolean;
  /** What happened (or, with --dry-run, would happen) to each file. */
  files: { name: string; path: string; action: FileAction; content: string }[];
  /** systemctl --user commands run, in order (none with --dry-run). */
  systemctl: string[];
  /** False when everything was already in place. */
  changed: boolean;
  crontab: string;
}

export interface UninstallResult {
  name: string;
  unitDir: string;
  service: string;
  timer: string;
  dryRun: boolean;
  files: { name: string; path: string; action: FileAction }[];
  systemctl: string[];
  changed: boolean;
}

/** The unit values for these options (pure once the repository was checked). */
export function unitOptions(o: InstallOptions, name: string): UnitOptions {
  return {
    node: o.node,
    cli: o.cli,
    repo: path.resolve(o.repo),
    ...(o.branch !== null ? { branch: o.branch } : {}),
    stateDir: o.stateDir,
    every: o.every,
    name,
    path: o.env.PATH || '/usr/local/bin:/usr/bin:/bin',
    ...(o.env.LANG ? { lang: o.env.LANG } : {}),
    ...(o.env.TMUX_TMPDIR ? { tmuxTmpdir: path.resolve(o.env.TMUX_TMPDIR) } : {}),
    ...(o.daemon?.listen ? { listen: o.daemon.listen } : {}),
    ...(o.daemon?.webhookSecretFile ? { webhookSecretFile: path.resolve(o.daemon.webhookSecretFile) } : {}),
    ...(o.daemon?.logFormat ? { logFormat: o.daemon.logFormat } : {}),
  };
}

export async function install(o: InstallOptions): Promise<InstallResult> {
  // Check every input before touching anything.
  const iv = parseInterval(o.every);
  if (o.name !== null) checkName(o.name);
  await Repo.open(o.repo); // refuses remote URLs; the repository must exist
  await assertFile(o.cli, 'gitfleet CLI', 'build it first: npm run build');
  const name = o.name ?? defaultName(path.resolve(o.repo));
  const values = unitOptions(o, name);
  const daemon = !!o.daemon;
  const units = daemon ? [generateDaemonUnit(values)] : generateUnits(values);
  const names = unitNames(name);
  const unitDir = userUnitDir(o.env, o.home);
  const result: InstallResult = {
    name,
    daemon,
    repo: values.repo,
    unitDir,
    service: daemon ? names.daemon : names.service,
    timer: names.timer,
    every: iv.text,
    onCalendar: iv.onCalendar,
    dryRun: o.dryRun,
    files: [],
    systemctl: [],
    changed: false,
    crontab: crontabLine(values),
  };
  for (const u of units) {
    const file = path.join(unitDir, u.name);
    const old = await readText(file);
    result.files.push({
      name: u.name,
      path: file,
      content: u.content,
      action: old === null ? 'created' : old === u.content ? 'unchanged' : 'updated',
    });
  }
  if (o.dryRun) {
    result.changed = result.files.some((f) => f.action !== 'unchanged');
    return result;
  }

  const sd = new UserSystemd(o.env, result.systemctl);
  await sd.reachable(() => cronFallback(result.crontab));
  // Write the changed files, reload the manager once, then enable and start the timer.
  const changedFiles = result.files.filter((f) => f.action !== 'unchanged');
  await mkdir(unitDir, { recursive: true });
  for (const f of changedFiles) await writeAtomic(f.path, f.content);
  if (changedFiles.length > 0) await sd.must('daemon-reload');
  if (daemon) await startDaemon(sd, names, changedFiles.length > 0);
  else await startTimer(sd, names, changedFiles);
  result.changed = changedFiles.length > 0 || result.systemctl.some((c) => !c.startsWith('show'));
  return result;
}

/** Enable and start the timer; restart it when its file changed (a new schedule takes effect now). */
async function startTimer(sd: UserSystemd, names: ReturnType<typeof unitNames>, changedFiles: { name: string }[]) {
  const state = await sd.show(names.timer, ['UnitFileState', 'ActiveState']);
  if (state.UnitFileState !== 'enabled' || state.ActiveState !== 'active') {
    await sd.must('enable', '--now', names.timer);
  } else if (changedFiles.some((f) => f.name === names.timer)) {
    await sd.must('restart', names.timer); // a new schedule takes effect now
  }
}

/**
 * The daemon replaces the timer: the timer is disabled first (the units conflict, and an enabled timer would
 * stop the daemon at its next run), then the daemon enabled and started, or restarted when its file changed.
 */
async function startDaemon(sd: UserSystemd, names: ReturnType<typeof unitNames>, changed: boolean) {
  const timer = await sd.show(names.timer, ['UnitFileState', 'ActiveState']);
  if (timer.UnitFileState === 'enabled' || timer.ActiveState === 'active')
    await sd.must('disable', '--now', names.timer);
  const state = await sd.show(names.daemon, ['UnitFileState', 'ActiveState']);
  if (state.UnitFileState !== 'enabled' || state.ActiveState !== 'active')
    await sd.must('enable', '--now', names.daemon);
  else if (changed) await sd.must('restart', names.daemon);
}

export async function uninstall(o: Omit<InstallOptions, 'every'>): Promise<UninstallResult> {
  if (o.name !== null) checkName(o.name);
  try {
    await Repo.open(o.repo); // refuses remote URLs
  } catch (e) {
    // A repository that is gone can still be uninstalled by its name.
    if (e instanceof UsageError) throw e;
  }
  const name = o.name ?? defaultName(path.resolve(o.repo));
  const names = unitNames(name);
  const unitDir = userUnitDir(o.env, o.home);
  const daemon = !!o.daemon;
  const result: UninstallResult = {
    name,
    unitDir,
    service: daemon ? names.daemon : names.service,
    timer: names.timer,
    dryRun: o.dryRun,
    files: [],
    systemctl: [],
    changed: false,
  };
  for (const unit of daemon ? [names.daemon] : [names.timer, names.service]) {
    const file = path.join(unitDir, unit);
    result.files.push({ name: unit, path: file, action: (await readText(file)) === null ? 'absent' : 'removed' });
  }
  const present = result.files.some((f) => f.action === 'removed');
  if (o.dryRun || !present) return { ...result, changed: present };

  const sd = new UserSystemd(o.env, result.systemctl);
  await sd.reachable(() => 'Without systemd, remove the gitfleet line from your crontab instead (crontab -e).');
  // Stop first (the unit files must still be there for disable), remove, reload.
  // The daemon finishes its reconcile in progress on SIGTERM; the agents' tmux servers stay (KillMode=process).
  if (daemon) await sd.must('disable', '--now', names.daemon);
  else if (result.files[0]!.action === 'removed') await sd.must('disable', '--now', names.timer);
  // Stops a run in progress; with KillMode=process the agents' tmux servers stay.
  const stop = await sd.call('stop', result.service);
  if (stop.exitCode !== 0 && !/not loaded/i.test(stop.stderr)) throw sd.failure(['stop', result.service], stop);
  for (const f of result.files) if (f.action === 'removed') await rm(f.path, { force: true });
  await sd.must('daemon-reload');
  // Forget a failed last run; fails harmlessly when there was none.
  await sd.call('reset-failed', ...(daemon ? [names.daemon] : [names.service, names.timer]));
  result.changed = true;
  return result;
}

/** Files as printed by --dry-run and by install's human view. */
export function renderFiles(files: readonly (UnitFile & { path: string })[]): string {
  return files.map((f) => `# ${f.path}\n${f.content}`).join('\n');
}

// ---- systemctl --user -----------------------------------------------------

/** systemctl --user, plus a reachability check that says what to do without the manager. */
class UserSystemd extends Systemctl {
  constructor(
    env: NodeJS.ProcessEnv,
    private readonly out: string[],
  ) {
    super(env);
  }

  override async call(...args: string[]): Promise<RunResult> {
    const r = await super.call(...args);
    this.out.push(args.join(' '));
    return r;
  }

  /** Fail with what to do when the user manager cannot be reached; `fallback` says what works without it. */
  async reachable(fallback: () => string): Promise<void> {
    let why: string;
    try {
      const r = await run(this.argv(['show', '-p', 'Version']), { env: this.envVars, timeoutMs: 30_000 });
      if (r.exitCode === 0) return;
      why = (r.stderr || r.stdout).trim() || `exit ${r.exitCode}`;
    } catch (e) {
      why = errorMessage(e);
    }
    throw new TerminalError(
      `cannot reach the systemd user manager (systemctl --user: ${why}).\n` +
        'Run this from a login session of the user the fleet runs as (so XDG_RUNTIME_DIR=/run/user/$(id -u) is set), ' +
        'and enable lingering so the timer also runs while nobody is logged in: loginctl enable-linger $USER.\n' +
        fallback(),
    );
  }
}

function cronFallback(line: string): string {
  return `Without systemd, reconcile from cron instead: run crontab -e and add this line:\n${line}`;
}

// ---- files ----------------------------------------------------------------

async function assertFile(file: string, what: string, hint: string): Promise<void> {
  if ((await readText(file).catch(() => null)) === null) throw new TerminalError(`${what} ${file} not found; ${hint}`);
}
