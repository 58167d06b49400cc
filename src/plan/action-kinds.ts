// Every action kind, declared once: what the rest of the code needs to know
// about it. The lists that used to be kept by hand in four places (which
// kinds start a process, which tmux runs, which count as lifecycle events
// for status, which the systemd supervisor takes over) are derived from here.

export interface ActionKindInfo {
  /** Which applier carries it out: apply/tmux.ts or apply/systemd.ts. */
  applier: 'tmux' | 'systemd';
  /** It starts a process (the agent's runtime, or its unit): apply looks again once it has. */
  starts: boolean;
  /** A lifecycle event of the agent it targets (created, restarted, respawned, stopped): status counts it. */
  lifecycle: boolean;
  /** A tmux session's lifecycle that, with `supervisor: systemd`, is carried out through its unit instead. */
  supervised: boolean;
  /**
   * The one form of this kind's `target`: `<socket>`, `<session>`, `<unit name>` and `<file path>` are the
   * action's `apply.socket`, `apply.session`, `apply.unit` and `apply.file` (test/unit/action-targets.test.ts).
   */
  target: string;
}

/**
 * In the order apply runs them (a plan is sorted by this order; the holder
 * comes up before its agents and goes after them, see plan/plan.ts).
 */
export const ACTION_KIND_TABLE = {
  delete_session: { applier: 'tmux', starts: false, lifecycle: true, supervised: true, target: '<socket>/<session>' },
  stop_unit: { applier: 'systemd', starts: false, lifecycle: true, supervised: false, target: '<unit name>' },
  install_unit: { applier: 'systemd', starts: false, lifecycle: false, supervised: false, target: '<file path>' },
  reload_units: { applier: 'systemd', starts: false, lifecycle: false, supervised: false, target: 'systemd --user' },
  enable_unit: { applier: 'systemd', starts: false, lifecycle: false, supervised: false, target: '<unit name>' },
  restart_session: { applier: 'tmux', starts: true, lifecycle: true, supervised: true, target: '<socket>/<session>' },
  restart_unit: { applier: 'systemd', starts: true, lifecycle: true, supervised: false, target: '<unit name>' },
  create_session: { applier: 'tmux', starts: true, lifecycle: true, supervised: true, target: '<socket>/<session>' },
  start_unit: { applier: 'systemd', starts: true, lifecycle: true, supervised: false, target: '<unit name>' },
  // A dead pane in a live session is tmux's business in either mode.
  respawn_pane: { applier: 'tmux', starts: true, lifecycle: true, supervised: false, target: '<socket>/<session>' },
} as const satisfies Record<string, ActionKindInfo>;

export type ActionKind = keyof typeof ACTION_KIND_TABLE;

/** The closed set of things apply can do, in the order it does them. */
export const ACTION_KINDS = Object.keys(ACTION_KIND_TABLE) as ActionKind[];

export const actionKind = (kind: ActionKind): ActionKindInfo => ACTION_KIND_TABLE[kind];
