// The command table: every command's name, its one-line summary and whether it
// answers in JSON; the agent verbs and the options each takes. main.ts
// dispatches on it (its loaders are keyed by CommandName, so the compiler
// holds the two together), help.ts prints its list from it, and the shell
// completion scripts (completion.ts) are generated from it and from options.ts,
// so none of them can drift from the others. A leaf: no imports.

export interface CommandInfo {
  readonly summary: string;
  /** Whether --json is taken; a command that does not take it refuses it (a usage error), never ignores it. */
  readonly json: boolean;
  /** Run by programs, not people: not in --help, not completed. */
  readonly hidden?: boolean;
}

export const COMMAND_TABLE = {
  validate: {
    summary: "check the committed desired state (or the work tree's); every error with file:line:col",
    json: true,
  },
  plan: {
    summary: 'show what apply would do (exit 0 no changes, 2 changes or deferred, 1 invalid file or error)',
    json: true,
  },
  apply: {
    summary: 'reconcile once and commit status back (exit 0 converged, 3 not yet, 1 invalid file or error)',
    json: true,
  },
  run: {
    summary: 'the daemon: reconcile on every desired-state change, on a schedule, and when a pane dies',
    json: false,
  },
  status: { summary: "show this host's committed status", json: true },
  ps: { summary: 'the fleet table, observed now: tmux, systemd, process, idle time, heartbeat, flags', json: true },
  install: { summary: 'run apply from a systemd --user timer (or print the crontab line)', json: true },
  uninstall: { summary: 'remove the timer and service install wrote', json: true },
  agent: { summary: 'one agent: watch (read-only), attach, send, reset, logs', json: true },
  heartbeat: { summary: "write an agent's heartbeat file (for runtimes and wrappers)", json: true },
  completion: { summary: 'print the shell completion script: bash, zsh or fish', json: false },
  'agent-start': { summary: 'start one agent from its kept spec (run by the agent units)', json: true, hidden: true },
  __complete: { summary: 'candidates for the completion scripts (agent names)', json: false, hidden: true },
} as const satisfies Record<string, CommandInfo>;

export type CommandName = keyof typeof COMMAND_TABLE;

export function commandInfo(name: string): CommandInfo | null {
  return Object.hasOwn(COMMAND_TABLE, name) ? COMMAND_TABLE[name as CommandName] : null;
}

/** The commands people run, in --help's order. */
export const PUBLIC_COMMANDS = (Object.keys(COMMAND_TABLE) as CommandName[]).filter(
  (c) => !(COMMAND_TABLE[c] as CommandInfo).hidden,
);

/** `gitfleet agent <verb>`: what each verb is, and which of the agent options (options.ts) it takes. */
export const AGENT_VERBS = {
  watch: { summary: "read-only view of the agent's pane: cannot type into it, does not resize it", options: [] },
  attach: { summary: "take over the agent's session (types into the pane, sizes the window)", options: [] },
  send: {
    summary: 'send a message, as a bracketed paste then Enter; --verify checks it was taken',
    options: ['message', 'file', 'verify', 'timeout', 'from', 'raw', 'json'],
  },
  reset: { summary: "the runtime's reset command (verified), else restart the session", options: ['timeout', 'json'] },
  logs: {
    summary: 'the last lines the pane printed, from its log (survives screen clears)',
    options: ['lines', 'json'],
  },
} as const satisfies Record<string, { summary: string; options: readonly string[] }>;

export type Verb = keyof typeof AGENT_VERBS;
export const VERBS = Object.keys(AGENT_VERBS) as Verb[];

/** The shells `gitfleet completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** `  name   summary` lines, names padded to one column (help's command and verb lists). */
export function summaryList(entries: [string, { summary: string }][]): string {
  const width = Math.max(...entries.map(([n]) => n.length));
  return entries.map(([n, e]) => `  ${n.padEnd(width)}  ${e.summary}`).join('\n');
}
