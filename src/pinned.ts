// Settings from the calling environment that end up inside generated unit
// and spec files, and in the panes: PATH for panes and units, LANG,
// TMUX_TMPDIR, and the node, gitfleet and tmux programs the units run. Taken
// from the environment once, at the first apply, and kept in
// <stateDir>/pinned.json; every later run uses the pinned values. Otherwise an
// apply from the timer and one from a shell (different PATH, LANG, node)
// would rewrite the units each time: a daemon-reload and a status commit per
// run. `gitfleet apply --repin` (or deleting the file) takes the current
// environment again.
import {
  accessSync,
  constants,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { TerminalError } from './errors.js';

export interface Pinned {
  formatVersion: 1;
  /** PATH for panes that declare none, and for the units. */
  path: string;
  lang: string | null;
  tmuxTmpdir: string | null;
  /** Absolute paths: node, gitfleet's built CLI, tmux. */
  node: string;
  cli: string;
  tmux: string;
}

export const pinnedFile = (stateDir: string): string => path.join(stateDir, 'pinned.json');

/** The values the environment gives now (what the first apply pins). */
export function currentSettings(env: NodeJS.ProcessEnv, o: { panePath: string; node: string; cli: string }): Pinned {
  return {
    formatVersion: 1,
    path: o.panePath,
    lang: env.LANG || null,
    tmuxTmpdir: env.TMUX_TMPDIR ? path.resolve(env.TMUX_TMPDIR) : null,
    node: o.node,
    cli: o.cli,
    tmux: which('tmux', env.PATH ?? '') ?? '/usr/bin/tmux',
  };
}

/** The pinned settings; 'missing' without a file, 'unusable' for one gitfleet cannot read (it is replaced). */
export function readPinned(stateDir: string): Pinned | 'missing' | 'unusable' {
  let text: string;
  try {
    text = readFileSync(pinnedFile(stateDir), 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unusable';
  }
  try {
    const p = JSON.parse(text) as Partial<Pinned>;
    const str = (v: unknown) => typeof v === 'string' && v.length > 0;
    const opt = (v: unknown) => v === null || str(v);
    const ok =
      p?.formatVersion === 1 &&
      str(p.path) &&
      opt(p.lang) &&
      opt(p.tmuxTmpdir) &&
      str(p.node) &&
      str(p.cli) &&
      str(p.tmux);
    return ok ? (p as Pinned) : 'unusable';
  } catch {
    return 'unusable';
  }
}

/**
 * What this run uses. Read-only runs (plan, ps) use the pinned values, or
 * the current ones if nothing is pinned yet. apply (`write`) pins the
 * current values when nothing usable is pinned, or with `repin`. A pinned
 * program that no longer exists (node or gitfleet moved, tmux reinstalled)
 * would break every unit: that one value is taken from now instead (and
 * apply rewrites the file).
 */
export function settingsFor(stateDir: string, current: Pinned, o: { write: boolean; repin?: boolean }): Pinned {
  const pinned = o.repin ? 'unusable' : readPinned(stateDir);
  if (typeof pinned === 'string') {
    if (!o.write) return current;
    writePinned(stateDir, current, pinned === 'missing' ? 'create' : 'replace');
    // Another apply may have pinned first (create never overwrites): use what is on disk.
    const now = readPinned(stateDir);
    return typeof now === 'string' ? current : now;
  }
  const healed: Pinned = {
    ...pinned,
    node: usable(pinned.node, constants.X_OK) ? pinned.node : current.node,
    cli: usable(pinned.cli, constants.R_OK) ? pinned.cli : current.cli,
    tmux: usable(pinned.tmux, constants.X_OK) ? pinned.tmux : current.tmux,
  };
  const changed = healed.node !== pinned.node || healed.cli !== pinned.cli || healed.tmux !== pinned.tmux;
  if (o.write && changed) writePinned(stateDir, healed, 'replace');
  return healed;
}

/** Mode 0600 (it names the user's PATH and programs), written beside and renamed or linked into place. */
function writePinned(stateDir: string, p: Pinned, how: 'create' | 'replace'): void {
  const file = pinnedFile(stateDir);
  const tmp = path.join(stateDir, `.pinned.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, `${JSON.stringify(p, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    if (how === 'replace') renameSync(tmp, file);
    else {
      try {
        linkSync(tmp, file); // fails if the file exists: the first pin wins
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      unlinkSync(tmp);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not written */
    }
    throw new TerminalError(`--state-dir ${stateDir}: cannot write ${path.basename(file)}: ${(e as Error).message}`);
  }
}

function usable(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}

function which(program: string, PATH: string): string | null {
  for (const dir of PATH.split(':').filter((d) => path.isAbsolute(d))) {
    const p = path.join(dir, program);
    if (usable(p, constants.X_OK)) return p;
  }
  return null;
}
