// The written status (status/<host>.json): what gitfleet saw and did, in a
// versioned shape people and other hosts read. Times move only on a
// transition, so a converged fleet's status never changes.
import type { Problem } from '../errors.js';
import type { HeldPrune } from '../plan/types.js';
import type { Condition } from './condition-kinds.js';
import type { StaleReconciler } from './liveness.js';

// Conditions, their types and reasons are declared in condition-kinds.ts.
export type { Condition } from './condition-kinds.js';

export interface AgentRecord {
  name: string;
  host: string;
  tenant_id: string;
  socket: string;
  runtime: string;
  source: string;
  enabled: boolean;
  specHash: string;
  session: {
    name: string;
    alive: boolean;
    pid: number | null;
    command: string | null;
    exitStatus: number | null;
    spec: string | null;
  };
  /**
   * Heartbeat protocol v1, when the runtime declares it (null: judged by pane and process alone). No ages: they
   * would change every run.
   */
  heartbeat: { intervalSeconds: number; health: 'healthy' | 'stale' | 'unknown' | 'invalid' } | null;
  /** supervisor: systemd: the agent's unit as systemd sees it (null in tmux mode). */
  unit: UnitRecord | null;
  restarts: number;
  /** Consecutive respawns and when the last one happened (CrashLoopBackOff). */
  backoff: { streak: number; lastRestart: string } | null;
  conditions: Condition[];
}

export interface UnitRecord {
  name: string;
  /** ActiveState, SubState, UnitFileState. */
  active: string;
  sub: string;
  enabled: string;
}

export interface SocketRecord {
  name: string;
  observed: boolean;
  error: string | null;
  serverRunning: boolean;
  /** The tmux server's pid: it changes when the server was restarted. */
  serverPid: number | null;
  holder: string;
  /** supervisor: systemd: the unit that runs this socket's server, with its automatic restarts. */
  unit: (UnitRecord & { restarts: number | null }) | null;
}

export interface SupervisorStatus {
  mode: 'systemd' | 'tmux';
  reason: string;
  observed: boolean;
  error: string | null;
  /** systemd mode: whether the user lingers (units run without a login); null when unknown or in tmux mode. */
  linger: boolean | null;
  /** What turns lingering on, when it is off. */
  lingerFix: string | null;
}

export interface UnmanagedSession {
  socket: string;
  session: string;
  command: string;
  fleet: string | null;
}

export interface FileRecord {
  path: string;
  /** Blob in force: the current one when valid, else the last-known-good one (or null). */
  blob: string | null;
  valid: boolean;
  usingLastKnownGood: boolean;
  problems: Problem[];
}

export interface StatusDoc {
  formatVersion: 1;
  fleet: string;
  host: string;
  tenant_id: string;
  desiredRevision: string;
  converged: boolean;
  /**
   * Present (true) only while the fleet is not converged merely because agents are starting (Progressing, within
   * their heartbeat start-up grace): apply and status exit 0 then.
   */
  progressing?: true;
  summary: { agents: number; ready: number; notReady: number; disabled: number; unmanaged: number; errors: number };
  supervisor: SupervisorStatus;
  agents: AgentRecord[];
  sockets: SocketRecord[];
  unmanaged: UnmanagedSession[];
  files: FileRecord[];
  errors: Problem[];
  /** Deletes held back until a person confirms the revision (PruneHeld); absent in older status files. */
  pruneHeld?: HeldPrune[];
  /**
   * The other reconcilers of this repository this one judges stale (status/liveness.ts): absent while none is.
   * Their times move only when one goes stale or comes back.
   */
  staleReconcilers?: StaleReconciler[];
}
