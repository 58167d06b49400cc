// Which supervisor keeps the agents running, as the planner is given it: a
// leaf module, so the planner's input types and the unit planner need not
// import each other.
import type { SystemdObservation } from '../observe/systemd.js';
import type { GeneratedFile } from '../systemd/fleet-units.js';
import type { SupervisorInfo } from './types.js';

export type SupervisorInput =
  | { mode: 'tmux'; reason: string }
  | {
      mode: 'systemd';
      reason: string;
      observed: SystemdObservation;
      /** Every file gitfleet would write (templates, each enabled agent's drop-in and spec), by path. */
      files: ReadonlyMap<string, GeneratedFile>;
      unitDir: string;
      stateDir: string;
    };

/** Unit states counted as running: the planner does not start them again, the status does not call them inactive. */
export const UP: readonly string[] = ['active', 'reloading', 'activating'];

export const TMUX_MODE: SupervisorInput = { mode: 'tmux', reason: 'default' };

export function supervisorInfo(s: SupervisorInput): SupervisorInfo {
  if (s.mode === 'tmux') return { mode: 'tmux', reason: s.reason, observed: true, error: null };
  return { mode: 'systemd', reason: s.reason, observed: s.observed.ok, error: s.observed.ok ? null : s.observed.error };
}
