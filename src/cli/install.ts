// `gitfleet install` and `gitfleet uninstall`: options in, one result out,
// rendered for people or as JSON. The work is in src/install/.
import {
  install as installUnits,
  renderFiles,
  uninstall as uninstallUnits,
  type InstallOptions,
} from '../install/install.js';
import { DEFAULT_EVERY } from '../install/units.js';
import { UsageError } from '../errors.js';
import { cronLogPath } from '../paths.js';
import { CLI_PATH } from './cli-path.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import type { GlobalOptions } from './options.js';

function installOptions(opts: GlobalOptions, io: Io): InstallOptions {
  return {
    repo: opts.repo,
    branch: opts.branch,
    stateDir: opts.stateDir,
    every: opts.every ?? DEFAULT_EVERY,
    name: opts.name,
    host: opts.host,
    dryRun: opts.dryRun,
    node: process.execPath,
    cli: CLI_PATH,
    home: opts.home,
    env: io.env,
    remote: opts.remote,
    daemon: opts.daemon
      ? { listen: opts.listen, webhookSecretFile: opts.webhookSecretFile, logFormat: opts.logFormat }
      : null,
  };
}

export async function install(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  if (!opts.daemon && (opts.listen ?? opts.webhookSecretFile ?? opts.logFormat) !== null)
    throw new UsageError('--listen, --webhook-secret-file and --log-format are options of install --daemon only');
  if (opts.daemon && opts.every !== null)
    throw new UsageError('--every is not an option of install --daemon: the schedule is fleet.yaml reconcile.schedule');
  const r = await installUnits(installOptions(opts, io));
  if (opts.json) {
    io.stdout(`${JSON.stringify({ formatVersion: 1, ...r }, null, 2)}\n`);
    return EXIT.ok;
  }
  if (r.dryRun) {
    io.stdout(`${renderFiles(r.files)}\n`);
    const would = r.files.map((f) => `${f.name} ${f.action === 'unchanged' ? 'unchanged' : `would be ${f.action}`}`);
    io.stdout(`Dry run: nothing written, systemd not contacted (${would.join(', ')}).\n`);
    io.stdout(`Without systemd, the crontab line would be (its output goes to ${cronLogPath(opts.stateDir)}):\n`);
    io.stdout(`${r.crontab}\n`);
    return EXIT.ok;
  }
  for (const f of r.files) io.stdout(`${f.action.padEnd(9)} ${f.path}\n`);
  for (const c of r.systemctl.filter((c) => !c.startsWith('show '))) io.stdout(`ran       systemctl --user ${c}\n`);
  if (r.daemon) {
    io.stdout(
      r.changed
        ? `Installed: ${r.service} runs gitfleet run --repo ${r.repo} (it replaces ${r.timer}).\n` +
            `See: systemctl --user status ${r.service}; journalctl --user -u ${r.service}\n`
        : `Nothing to do: ${r.service} is installed, enabled and active.\n`,
    );
    return EXIT.ok;
  }
  if (!r.changed) {
    io.stdout(`Nothing to do: ${r.timer} is installed, enabled and active (every ${r.every}).\n`);
    return EXIT.ok;
  }
  io.stdout(`Installed: ${r.timer} runs ${r.service} (gitfleet apply --repo ${r.repo}) every ${r.every}.\n`);
  io.stdout(`See: systemctl --user list-timers ${r.timer}; journalctl --user -u ${r.service}\n`);
  io.stdout(`Timers run only while you are logged in unless lingering is on: loginctl enable-linger $USER\n`);
  return EXIT.ok;
}

export async function uninstall(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const { every: _every, ...options } = installOptions(opts, io);
  const r = await uninstallUnits(options);
  if (opts.json) {
    io.stdout(`${JSON.stringify({ formatVersion: 1, ...r }, null, 2)}\n`);
    return EXIT.ok;
  }
  if (!r.files.some((f) => f.action === 'removed')) {
    const units = opts.daemon ? r.service : `${r.timer} or ${r.service}`;
    io.stdout(`Nothing to uninstall: no ${units} in ${r.unitDir}.\n`);
    return EXIT.ok;
  }
  for (const f of r.files)
    io.stdout(`${(r.dryRun && f.action === 'removed' ? 'would remove' : f.action).padEnd(9)} ${f.path}\n`);
  for (const c of r.systemctl) io.stdout(`ran       systemctl --user ${c}\n`);
  io.stdout(
    r.dryRun
      ? 'Dry run: nothing removed, systemd not contacted.\n'
      : `Uninstalled ${opts.daemon ? r.service : `${r.timer} and ${r.service}`}; running agents were left alone.\n`,
  );
  return EXIT.ok;
}
