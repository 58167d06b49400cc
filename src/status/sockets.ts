// The sockets the status keeps watching, and the sessions on them that this
// fleet did not start. A socket stays in the status while the next run must
// still look at it (socketsToObserve reads the previous status). Pure.
import type { DesiredState } from '../desired/types.js';
import type { SocketObservation } from '../observe/tmux.js';
import { socketsToObserve } from '../plan/scope.js';
import { UP } from '../plan/units.js';
import { holderUnit } from '../systemd/fleet-units.js';
import type { StatusInput } from './input.js';
import { observedUnits, unitRecord } from './supervisor.js';
import type { SocketRecord, StatusDoc, UnmanagedSession } from './types.js';

type SocketInput = Pick<StatusInput, 'desired' | 'observed' | 'previous'>;

/** The session that keeps the server up: the roster's, else the one the last run recorded. */
function holderOf(name: string, desired: DesiredState, previous: StatusDoc | null): string {
  return (
    desired.rosters.find((r) => r.socket === name)?.holder ??
    previous?.sockets.find((s) => s.name === name)?.holder ??
    ''
  );
}

/** Sessions this fleet did not start (its holder and `agent watch` views aside), by socket and session. */
export function unmanagedSessions({ desired, observed, previous }: SocketInput): UnmanagedSession[] {
  const unmanaged: UnmanagedSession[] = [];
  for (const name of socketsToObserve(desired, previous)) {
    const obs = observed.tmux.get(name);
    if (!obs?.ok) continue;
    const holder = holderOf(name, desired, previous);
    for (const p of obs.sessions.values()) {
      if (p.fleet !== desired.config.fleet && p.session !== holder && !p.watchOf) {
        unmanaged.push({ socket: name, session: p.session, command: p.currentCommand, fleet: p.fleet });
      }
    }
  }
  return unmanaged.sort((a, b) => (`${a.socket}/${a.session}` < `${b.socket}/${b.session}` ? -1 : 1));
}

/**
 * The sockets to keep watching. Sockets with no agents declared and nothing
 * of ours left need not be watched any longer; a server unit still enabled or
 * running (its stop may wait for unmanaged sessions) keeps its socket watched.
 */
export function watchedSockets(input: SocketInput): SocketRecord[] {
  const { desired, observed, previous } = input;
  const unitUp = (s: SocketRecord) => !!s.unit && (UP.includes(s.unit.active) || s.unit.enabled === 'enabled');
  return socketsToObserve(desired, previous)
    .map((name) => socketRecord(name, input))
    .filter(
      (s) =>
        desired.rosters.some((r) => r.socket === s.name) ||
        !s.observed ||
        hasOurs(observed.tmux.get(s.name), desired.config.fleet) ||
        unitUp(s),
    );
}

function socketRecord(name: string, { desired, observed, previous }: SocketInput): SocketRecord {
  const obs = observed.tmux.get(name);
  const unit = unitRecord(observed.supervisor, holderUnit(desired.config.fleet, name));
  const restarts = (unitName: string) => observedUnits(observed.supervisor)?.get(unitName)?.restarts ?? null;
  return {
    name,
    observed: !!obs?.ok,
    error: obs && !obs.ok ? obs.error : null,
    serverRunning: obs?.ok ? obs.serverRunning : false,
    serverPid: obs?.ok ? obs.serverPid : null,
    holder: holderOf(name, desired, previous),
    unit: unit ? { ...unit, restarts: restarts(unit.name) } : null,
  };
}

function hasOurs(obs: SocketObservation | undefined, fleet: string): boolean {
  return !!obs && obs.ok && [...obs.sessions.values()].some((p) => p.fleet === fleet);
}
