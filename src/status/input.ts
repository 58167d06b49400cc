// What the status builder is given, besides the planner's context (host,
// tenant, clock, revision): the same facts the planner had, observed again
// after apply, with what the planner decided and what apply did.
import type { ActionResult } from '../apply/types.js';
import type { DesiredState } from '../desired/types.js';
import type { Observed } from '../plan/input.js';
import type { Plan } from '../plan/types.js';
import type { StatusDoc } from './types.js';

export interface StatusInput {
  desired: DesiredState;
  /** The plan of this run: its deferred actions and held prunes show in the status. */
  plan: Plan;
  /** Everything seen after apply (tmux, the supervisor, heartbeats). */
  observed: Observed;
  /** What apply did (none for a plan-only view such as `gitfleet ps`). */
  results: readonly ActionResult[];
  /** The status this host committed last (null on a first run). */
  previous: StatusDoc | null;
}
