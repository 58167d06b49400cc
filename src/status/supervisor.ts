// What keeps the agents running, as the status reports it: the supervisor
// block (with the linger fix when it is off) and, with `supervisor: systemd`,
// the unit records that agents and sockets carry. Pure.
import type { UnitState } from '../observe/systemd.js';
import { supervisorInfo, type SupervisorInput } from '../plan/units.js';
import type { SupervisorStatus, UnitRecord } from './types.js';

/** The units systemd showed; null in tmux mode or when the user manager could not be observed. */
export function observedUnits(sup: SupervisorInput): ReadonlyMap<string, UnitState> | null {
  return sup.mode === 'systemd' && sup.observed.ok ? sup.observed.units : null;
}

/**
 * A unit as systemd shows it (null in tmux mode): its state unknown when
 * systemd was not observed, not-found when systemd does not know the unit.
 */
export function unitRecord(sup: SupervisorInput, name: string): UnitRecord | null {
  if (sup.mode !== 'systemd') return null;
  const units = observedUnits(sup);
  const u = units?.get(name);
  return {
    name,
    active: u?.active ?? 'unknown',
    sub: u?.sub ?? 'unknown',
    enabled: u?.enabled || (units ? 'not-found' : 'unknown'),
  };
}

export function supervisorStatus(sup: SupervisorInput, tenant: string): SupervisorStatus {
  const linger = sup.mode === 'systemd' && sup.observed.ok ? sup.observed.linger : null;
  return {
    ...supervisorInfo(sup),
    linger,
    lingerFix: linger === false ? `loginctl enable-linger ${tenant}` : null,
  };
}
