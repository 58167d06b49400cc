// Which supervisor keeps the agents running on this host, and what it runs:
// fleet.yaml's `supervisor`, or for `auto` whether a systemd user manager
// answers. The one `systemctl --user show` call is both the check and the
// observation of the fleet's units. Facts only: the files the desired state
// makes are rendered on the desired side (systemd/desired-files.ts).
import path from 'node:path';
import type { AgentSpec, DesiredState } from '../desired/types.js';
import { specPath } from '../paths.js';
import type { StatusDoc } from '../status/types.js';
import { agentTemplate, agentUnit, dropInPath, holderTemplate, holderUnit } from '../systemd/fleet-units.js';
import { userUnitDir } from '../systemd/paths.js';
import { tmuxVersion } from '../tmux/client.js';
import { observeSystemd, type SystemdObservation, type SystemdQuery } from './systemd.js';
import type { SocketObservation } from './tmux.js';

export interface SupervisorOptions {
  stateDir: string;
  home: string;
  tenant: string;
  env: NodeJS.ProcessEnv;
}

export type SupervisorObservation =
  | { mode: 'tmux'; reason: string }
  | {
      mode: 'systemd';
      reason: string;
      observed: SystemdObservation;
      unitDir: string;
      /** The query that observes the units again after apply. */
      query: SystemdQuery;
      /** The version a running tmux server reported, else `tmux -V`. */
      tmuxVersion: string;
    };

export async function observeSupervisor(
  desired: DesiredState,
  agents: readonly AgentSpec[],
  sockets: readonly string[],
  tmuxObserved: ReadonlyMap<string, SocketObservation>,
  previous: StatusDoc | null,
  o: SupervisorOptions,
): Promise<SupervisorObservation> {
  const setting = desired.config.supervisor;
  if (setting === 'tmux') return { mode: 'tmux', reason: 'fleet.yaml: supervisor: tmux' };
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
    return { mode: 'tmux', reason: `auto: no systemd user manager (${firstLine(observed.error)})` };
  else reason = 'auto: the systemd user manager answers, but observing the units failed';
  return { mode: 'systemd', reason, observed, unitDir, query, tmuxVersion: await serverVersion(tmuxObserved) };
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
