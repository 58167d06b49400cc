// What the planner (and the status builder after it) is given: one object of
// facts and one context. Every observation sits in `Observed`, so a caller
// cannot leave one out and silently get a different plan.
import type { DesiredState } from '../desired/types.js';
import type { HeartbeatJudgement } from '../heartbeat/protocol.js';
import type { SocketObservation } from '../observe/tmux.js';
import type { StatusDoc } from '../status/types.js';
import type { BackoffPolicy } from './crash-loop.js';
import type { SupervisorInput } from './supervisor.js';

/** Everything gitfleet saw on this host (later also devices, locks and journals). */
export interface Observed {
  /** One observation per socket looked at (failed ones say why). */
  tmux: ReadonlyMap<string, SocketObservation>;
  /** Which supervisor keeps the agents running, and in systemd mode what it runs. */
  supervisor: SupervisorInput;
  /** Judged heartbeats of agents whose runtime writes one, by `<socket>/<session>`. */
  heartbeats: ReadonlyMap<string, HeartbeatJudgement>;
}

export interface PlanInput {
  desired: DesiredState;
  observed: Observed;
  /** The status this host committed last (null on a first run). */
  previous: StatusDoc | null;
}

/** Who plans, when, and under which rules: no observation here. */
export interface PlanContext {
  host: string;
  tenant: string;
  now: Date;
  desiredRevision: string;
  backoff: BackoffPolicy;
  /** A person confirmed the deletions of this revision's rosters (--confirm-prune, reconcile.confirm_prune). */
  pruneConfirmed: boolean;
}
