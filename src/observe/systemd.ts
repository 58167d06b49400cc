// Observe the fleet's systemd --user units: one `systemctl --user show` for
// all of them, plus file reads (the unit files and spec files gitfleet
// wrote, the .wants links that say what is enabled, the linger flag).
// A manager that cannot be reached is a failed observation, never "no units".
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { RunResult } from '../exec.js';
import { failureMessage, isUnreachable, parseShow, Systemctl } from '../systemd/client.js';
import { classifyUnit } from '../systemd/fleet-units.js';

export interface UnitState {
  name: string;
  /** loaded, not-found, masked ... */
  load: string;
  /** active, inactive, failed, activating ... */
  active: string;
  sub: string;
  /** enabled, disabled, static ... ('' when systemd does not know the unit file) */
  enabled: string;
  /** Automatic restarts since the unit was started (the server units' crash count). */
  restarts: number | null;
  mainPid: number | null;
}

export type SystemdObservation =
  | {
      ok: true;
      units: Map<string, UnitState>;
      /** Contents of the files gitfleet keeps for this fleet, by absolute path (absent: no file). */
      files: Map<string, string>;
      /** This fleet's units found on disk (drop-ins, .wants links), whatever the roster says now. */
      found: string[];
      /** Lingering for the user: units run without a login session (null: unknown). */
      linger: boolean | null;
    }
  | { ok: false; error: string; unreachable: boolean };

export const SHOW_PROPS = [
  'Id',
  'LoadState',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'NRestarts',
  'MainPID',
] as const;

export interface SystemdQuery {
  fleet: string;
  unitDir: string;
  /** Units to show besides those found on disk. */
  units: readonly string[];
  /** Files whose contents to read (unit files, drop-ins, spec files). */
  files: readonly string[];
  user: string;
  env: NodeJS.ProcessEnv;
}

export async function observeSystemd(q: SystemdQuery): Promise<SystemdObservation> {
  try {
    return await observe(q);
  } catch (e) {
    // Unreadable unit dir or spec file: not "no units", a failed observation.
    return { ok: false, error: errorMessage(e), unreachable: false };
  }
}

async function observe(q: SystemdQuery): Promise<SystemdObservation> {
  const [found, linger] = await Promise.all([findUnits(q.fleet, q.unitDir), lingerEnabled(q.user)]);
  const names = [...new Set([...q.units, ...found])].sort();
  const sd = new Systemctl(q.env);
  const args = ['show', ...SHOW_PROPS.flatMap((p) => ['-p', p]), ...names];
  let res: RunResult;
  try {
    // With no unit to show, `show` reads the manager itself: still a reachability check.
    res = await sd.call(...args);
  } catch (e) {
    return { ok: false, error: errorMessage(e), unreachable: true };
  }
  if (res.exitCode !== 0) {
    return { ok: false, error: failureMessage(['show'], res), unreachable: isUnreachable(res.stderr) };
  }
  const units = new Map<string, UnitState>();
  for (const p of parseShow(res.stdout)) {
    if (!p.Id || !names.includes(p.Id)) continue;
    units.set(p.Id, {
      name: p.Id,
      load: p.LoadState ?? '',
      active: p.ActiveState ?? '',
      sub: p.SubState ?? '',
      enabled: p.UnitFileState ?? '',
      restarts: p.NRestarts ? Number(p.NRestarts) : null,
      mainPid: p.MainPID && p.MainPID !== '0' ? Number(p.MainPID) : null,
    });
  }
  const dropIns = found.map((u) => path.join(q.unitDir, `${u}.d`, 'gitfleet.conf'));
  const files = await readFiles([...new Set([...q.files, ...dropIns])]);
  return { ok: true, units, files, found, linger };
}

/** This fleet's units with a drop-in (agents) or a .wants link (enabled agents and servers). */
async function findUnits(fleet: string, unitDir: string): Promise<string[]> {
  const out = new Set<string>();
  for (const e of await list(unitDir)) {
    if (e.endsWith('.service.d') && classifyUnit(fleet, e.slice(0, -2))) out.add(e.slice(0, -2));
  }
  for (const e of await list(path.join(unitDir, 'default.target.wants'))) {
    if (classifyUnit(fleet, e)) out.add(e);
  }
  return [...out].sort();
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

async function readFiles(files: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    files.map(async (f) => {
      try {
        out.set(f, await readFile(f, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }),
  );
  return out;
}

/** logind keeps a flag file per lingering user; read it directly (loginctl needs a system bus). */
async function lingerEnabled(user: string): Promise<boolean | null> {
  try {
    await stat(path.join('/var/lib/systemd/linger', user));
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? false : null;
  }
}
