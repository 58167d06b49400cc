// Which supervisor keeps the agents running on this host, and what it runs:
// fleet.yaml's `supervisor`, or for `auto` whether a systemd user manager
// answers. The one `systemctl --user show` call is both the check and the
// observation of the fleet's units.
import path from 'node:path';
import type { AgentSpec, DesiredState } from '../desired/types.js';
import { tmuxVersion } from '../tmux/client.js';
import { userUnitDir } from '../install/install.js';
import { specPath } from '../paths.js';
import type { Pinned } from '../pinned.js';
import type { SupervisorInput } from '../plan/units.js';
import type { StatusDoc } from '../status/types.js';
import {
  agentTemplate,
  agentUnit,
  dropInPath,
  fleetFiles,
  holderTemplate,
  holderUnit,
  tmuxHasForeground,
  type FleetUnitContext,
} from '../systemd/fleet-units.js';
import { observeSystemd, type SystemdQuery } from './systemd.js';
import type { SocketObservation } from './tmux.js';

export interface SupervisorOptions {
  stateDir: string;
  home: string;
  tenant: string;
  /** What the generated files embed (PATH, LANG, TMUX_TMPDIR, programs): pinned in the state dir, not the caller's. */
  pinned: Pinned;
  env: NodeJS.ProcessEnv;
}

export interface SupervisorSetup {
  input: SupervisorInput;
  /** systemd mode: the query that observes the units again after apply. */
  query?: SystemdQuery;
}

export async function observeSupervisor(
  desired: DesiredState,
  agents: readonly AgentSpec[],
  sockets: readonly string[],
  tmuxObserved: ReadonlyMap<string, SocketObservation>,
  previous: StatusDoc | null,
  o: SupervisorOptions,
): Promise<SupervisorSetup> {
  const setting = desired.config.supervisor;
  if (setting === 'tmux') return { input: { mode: 'tmux', reason: 'fleet.yaml: supervisor: tmux' } };
  const fleet = desired.config.fleet;
  const unitDir = userUnitDir(o.env, o.home);
  const enabled = agents.filter((a) => a.enabled);
  const query: SystemdQuery = {
    fleet,
    unitDir,
    units: [
      ...agents.map((a) => agentUnit(fleet, a)),
      ...sockets.map((s) => holderUnit(fleet, s)),
      ...(previous?.agents ?? []).flatMap((r) => (r.unit ? [r.unit.name] : [])),
    ],
    files: [
      path.join(unitDir, holderTemplate(fleet)),
      path.join(unitDir, agentTemplate(fleet)),
      ...enabled.flatMap((a) => [
        dropInPath({ unitDir, fleet }, a),
        specPath(o.stateDir, { fleet, socket: a.socket, session: a.session }),
      ]),
    ],
    user: o.tenant,
    env: o.env,
  };
  const observed = await observeSystemd(query);
  let reason: string;
  if (setting === 'systemd') reason = 'fleet.yaml: supervisor: systemd';
  else if (observed.ok) reason = 'auto: the systemd user manager answers';
  else if (previous?.supervisor?.mode === 'systemd')
    reason = 'auto: systemd at the last run, and its user manager does not answer now';
  else if (observed.unreachable)
    return { input: { mode: 'tmux', reason: `auto: no systemd user manager (${firstLine(observed.error)})` } };
  else reason = 'auto: the systemd user manager answers, but observing the units failed';

  const ctx: FleetUnitContext = {
    fleet,
    node: o.pinned.node,
    cli: o.pinned.cli,
    tmux: o.pinned.tmux,
    stateDir: o.stateDir,
    unitDir,
    path: o.pinned.path,
    ...(o.pinned.lang ? { lang: o.pinned.lang } : {}),
    ...(o.pinned.tmuxTmpdir ? { tmuxTmpdir: o.pinned.tmuxTmpdir } : {}),
    tmuxForeground: tmuxHasForeground(await serverVersion(tmuxObserved)),
  };
  return {
    input: { mode: 'systemd', reason, observed, files: fleetFiles(ctx, enabled), unitDir, stateDir: o.stateDir },
    query,
  };
}

/** The version a running server reported, else `tmux -V` (one process, only when no server runs). */
async function serverVersion(observed: ReadonlyMap<string, SocketObservation>): Promise<string> {
  for (const o of observed.values()) if (o.ok && o.version) return o.version;
  return tmuxVersion();
}

/** The manager's own words: the first line, without the command that printed them. */
function firstLine(s: string): string {
  return s
    .replace(/^systemctl --user show failed \(exit \d+\): /, '')
    .split('\n')[0]!
    .trim();
}
