// The unit and spec files the desired state makes in systemd mode: the
// fleet's two templates, and a drop-in and a spec file per enabled agent.
// Desired, not observed: the planner compares them with the files the
// observer read from disk. Pure; the one observed input, the tmux version,
// is passed in (it decides how the server unit runs tmux).
import type { AgentSpec } from '../desired/types.js';
import type { Pinned } from '../pinned.js';
import { type FleetUnitContext, fleetFiles, type GeneratedFile, tmuxHasForeground } from './fleet-units.js';

export interface DesiredFilesContext {
  fleet: string;
  stateDir: string;
  unitDir: string;
  /** What the files embed (PATH, LANG, TMUX_TMPDIR, programs): pinned in the state dir, not the caller's. */
  pinned: Pinned;
  /** The version a running tmux server reported, else `tmux -V`. */
  tmuxVersion: string;
}

/** Every file gitfleet would write for these in-scope agents, by path (disabled agents get none). */
export function desiredUnitFiles(agents: readonly AgentSpec[], c: DesiredFilesContext): Map<string, GeneratedFile> {
  const ctx: FleetUnitContext = {
    fleet: c.fleet,
    node: c.pinned.node,
    cli: c.pinned.cli,
    tmux: c.pinned.tmux,
    stateDir: c.stateDir,
    unitDir: c.unitDir,
    path: c.pinned.path,
    ...(c.pinned.lang ? { lang: c.pinned.lang } : {}),
    ...(c.pinned.tmuxTmpdir ? { tmuxTmpdir: c.pinned.tmuxTmpdir } : {}),
    tmuxForeground: tmuxHasForeground(c.tmuxVersion),
  };
  return fleetFiles(
    ctx,
    agents.filter((a) => a.enabled),
  );
}
