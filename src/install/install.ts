// `gitfleet install` / `uninstall`: write gitfleet's own units (units.ts)
// into the user's systemd directory and enable the timer through
// `systemctl --user`. Idempotent: files are written only when their content
// changed, the manager is reloaded once and only then, and a timer already
// enabled and active is left alone. Every process starts in exec.ts.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { errorMessage, TerminalError, UsageError } from '../errors.js';
import { run, type RunResult } from '../exec.js';
import { readText, writeAtomic } from '../files.js';
import { Repo } from '../git/repo.js';
import type { RemoteSettings } from '../git/remote-settings.js';
import { isRemoteRepo, parseRemoteUrl, redactUrl } from '../git/remote-url.js';
import { CRON_LOG, cronLogPath } from '../paths.js';
import { CRON_LOG_CAP } from '../apply/log-rotate.js';
import { readSource } from '../reconcile.js';
import { Systemctl } from '../systemd/client.js';
import { userUnitDir } from '../systemd/paths.js';
import { execArg } from '../systemd/syntax.js';
import { remoteUnitEnv } from './remote-env.js';
import {
  checkName,
  crontabLine,
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
  /** `--name`, or null for the fleet's name (fleet.yaml `fleet:`, else `fleet-<root commit>`). */
  name: string | null;
  /** `--host`: whose status the fleet's settings are read with (as apply would). */
  host: string;
  dryRun: boolean;
  /** Absolute paths of node and of gitfleet's dist/cli.js. */
  node: string;
  cli: string;
  home: string;
  /** The installer's environment: PATH, TMUX_TMPDIR, XDG_CONFIG_HOME, and what systemctl needs to reach the manager. */
  env: NodeJS.ProcessEnv;
  /** How to reach a remote `repo` (git/remote-settings.ts): checked, and its paths and knobs put in the units. */
  remote: RemoteSettings;
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

/** `--repo` as the units run it: a path made absolute, or the remote URL as gitfleet normalises it. */
function repoArg(o: Pick<InstallOptions, 'repo' | 'remote'>): string {
  return isRemoteRepo(o.repo) ? parseRemoteUrl(o.repo, o.remote).url : path.resolve(o.repo);
}

/** The unit values for these options (pure once the repository was checked). */
export function unitOptions(o: InstallOptions, name: string): UnitOptions {
  const remote = isRemoteRepo(o.repo) ? parseRemoteUrl(o.repo, o.remote) : null;
  return {
    node: o.node,
    cli: o.cli,
    repo: repoArg(o),
    ...(remote ? { remoteEnv: remoteUnitEnv(remote, o.remote, o.env) } : {}),
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
  const remote = isRemoteRepo(o.repo);
  // A remote URL and its settings (a token only in the environment is refused) before any network; a path
  // must be a repository.
  if (remote) remoteUnitEnv(parseRemoteUrl(o.repo, o.remote), o.remote, o.env);
  else await Repo.open(o.repo);
  await assertFile(o.cli, 'gitfleet CLI', 'build it first: npm run build');
  // A remote repository is read even when --name names the units: units that cannot reach it would fail every run.
  const read = remote || o.name === null ? await fleetName(o) : null;
  const name = o.name ?? read!;
  const values = unitOptions(o, name);
  const daemon = !!o.daemon;
  const units = daemon ? [generateDaemonUnit(values)] : generateUnits(values);
  const names = unitNames(name);
  const unitDir = userUnitDir(o.env, o.home);
  await assertOwnName(path.join(unitDir, names.service), values.repo, name, o.name !== null);
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
  await sd.reachable(() => cronFallback(result.crontab, o.stateDir));
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
  let readable = true;
  try {
    // A remote URL is checked, not reached: only when no unit runs it is it read for the fleet's name.
    if (isRemoteRepo(o.repo)) parseRemoteUrl(o.repo, o.remote);
    else await Repo.open(o.repo);
  } catch (e) {
    // A repository that is gone can still be uninstalled: by the units that run it, or by --name.
    if (e instanceof UsageError) throw e;
    readable = false;
  }
  const unitDir = userUnitDir(o.env, o.home);
  const name = o.name ?? (await installedName(unitDir, repoArg(o), readable ? o : null));
  const names = unitNames(name);
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

function cronFallback(line: string, stateDir: string): string {
  return (
    `Without systemd, reconcile from cron instead: run crontab -e and add this line:\n${line}\n` +
    `What each run prints, errors included, is appended to ${cronLogPath(stateDir)} ` +
    `(apply keeps it under ${CRON_LOG_CAP / 1024 / 1024} MiB, the older part in ${CRON_LOG}.1).`
  );
}

// ---- names ----------------------------------------------------------------

/**
 * The units' default name: the fleet's, read as apply reads it (fleet.yaml `fleet:` on the branch apply
 * follows, else `fleet-<root commit>`), so `systemctl --user list-timers` shows what people call the fleet, and
 * moving or renaming the repository's folder does not make a second pair.
 */
async function fleetName(o: FleetRead, uninstalling = false): Promise<string> {
  const remote = isRemoteRepo(o.repo);
  // A remote repository is fetched into a throwaway clone, not the state dir's: a reconciler running from it may
  // be fetching under its lock right now (install runs again to change a setting), and an install that fails
  // leaves nothing behind. The first run fetches it once more.
  const scratch = remote ? await mkdtemp(path.join(tmpdir(), 'gitfleet-install-')) : null;
  try {
    const src = await readSource({
      repo: o.repo,
      branch: o.branch,
      host: o.host,
      tenant: userInfo().username,
      home: o.home,
      remote: o.remote,
      ...(scratch ? { stateDir: scratch } : {}),
    });
    return src.desired.config.fleet;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (remote)
      throw new TerminalError(
        `cannot read the fleet from ${redactUrl(o.repo)}: ${errorMessage(e)}. ` +
          (uninstalling
            ? "No unit runs this URL, and its fleet name could not be read: give the units' name with --name NAME"
            : 'Nothing was written: install reads the repository first, as the units would; fix that and run ' +
              'install again'),
      );
    throw new TerminalError(
      `cannot read the fleet's name from ${path.resolve(o.repo)}: ${errorMessage(e)}; ` +
        'the units are named after the fleet: push a first commit, or name them with --name',
    );
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

type FleetRead = Pick<InstallOptions, 'repo' | 'branch' | 'host' | 'home' | 'remote'>;

/** Whether a gitfleet service file's ExecStart reconciles `repo`. */
function runsRepo(content: string, repo: string): boolean {
  const exec = content.split('\n').find((l) => l.startsWith('ExecStart='));
  const arg = ` --repo ${execArg(repo)}`;
  return exec !== undefined && (exec.includes(`${arg} `) || exec.endsWith(arg));
}

/**
 * Two repositories may hold fleets of one name (a fleet is its name plus its root commit): installing the second
 * must not silently take over the first one's units.
 */
async function assertOwnName(serviceFile: string, repo: string, name: string, named: boolean): Promise<void> {
  const old = await readText(serviceFile);
  if (old === null || runsRepo(old, repo)) return;
  const exec = old.split('\n').find((l) => l.startsWith('ExecStart=')) ?? '(no ExecStart)';
  throw new TerminalError(
    `${serviceFile} reconciles another repository (${exec}); ` +
      (named ? 'choose another --name' : 'two fleets share this name: give this one its units with --name NAME') +
      `, or, if this is that fleet moved, remove the old units first: gitfleet uninstall --name ${name}`,
  );
}

/** uninstall without --name: the units that run this repository, else (when it is readable) the fleet's name. */
async function installedName(unitDir: string, repo: string, readable: FleetRead | null): Promise<string> {
  const found: string[] = [];
  const files = await readdir(unitDir).catch(() => [] as string[]);
  for (const f of files.sort()) {
    const m = /^gitfleet-reconcile-([A-Za-z0-9_.-]+)\.service$/.exec(f);
    const content = m ? await readText(path.join(unitDir, f)) : null;
    if (m && content !== null && runsRepo(content, repo)) found.push(m[1]!);
  }
  if (found.length > 1)
    throw new UsageError(`several units reconcile ${repo}: ${found.join(', ')}; say which with --name NAME`);
  if (found.length === 1) return found[0]!;
  if (readable) return fleetName(readable, true);
  throw new TerminalError(`no gitfleet unit in ${unitDir} reconciles ${repo}; give the units' name with --name NAME`);
}

// ---- files ----------------------------------------------------------------

async function assertFile(file: string, what: string, hint: string): Promise<void> {
  if ((await readText(file).catch(() => null)) === null) throw new TerminalError(`${what} ${file} not found; ${hint}`);
}
