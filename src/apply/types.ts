import type { Action } from '../plan/types.js';

/** What happened when apply ran one action. */
export interface ActionResult {
  action: Action;
  ok: boolean;
  error: string | null;
  startedAt: string;
  finishedAt: string;
  /** The command that ran, with secret values redacted. */
  command: string[];
}
