// What the commands that reconcile or start agents run with: the options
// reconcile() takes, and the pinned PATH, LANG, TMUX_TMPDIR and programs.
import { currentSettings, type Pinned, settingsFor } from '../pinned.js';
import type { ReconcileOptions } from '../reconcile.js';
import { CLI_PATH } from './cli-path.js';
import type { Io } from './io.js';
import { type GlobalOptions, panePath } from './options.js';

/** apply (`pin`) pins what the environment gives now at its first run; every run then uses the pinned values. */
export function reconcileOptions(opts: GlobalOptions, io: Io, pin = false): ReconcileOptions {
  // -v: each phase's time on stderr, so stdout stays the same report.
  const trace = opts.verbose ? { trace: (phase: string, ms: number) => io.stderr(`· ${phase}: ${ms} ms\n`) } : {};
  return { ...opts, clock: () => new Date(), env: io.env, pinned: pinnedSettings(opts, io, pin), ...trace };
}

/** PATH, LANG, TMUX_TMPDIR and programs for panes and units: pinned in the state dir (src/pinned.ts). */
export function pinnedSettings(opts: GlobalOptions, io: Io, write = false): Pinned {
  const here = { panePath: panePath(io.env, opts.home), node: process.execPath, cli: CLI_PATH };
  const current = currentSettings(io.env, here);
  return settingsFor(opts.stateDir, current, { write, repin: opts.repin });
}
