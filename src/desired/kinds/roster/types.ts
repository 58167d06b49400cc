// The roster kind's normalised type: every field required, defaults applied.
import type { SpecFields } from '../../../spec-fields.js';

export type UpdatePolicy = 'on-idle' | 'recreate' | 'manual';

export interface AgentSpec {
  name: string;
  /** tmux session name: the agent name with '.' replaced (tmux forbids it). */
  session: string;
  socket: string;
  /** The file that declares this agent, and the position of its entry. */
  source: { file: string; line: number; col: number };
  runtime: string;
  /** What the pane execs. */
  argv: string[];
  /** Working directory, '~' already expanded. */
  cwd: string;
  /** Declared environment (roster), not including what gitfleet adds. */
  env: Record<string, string>;
  host: string | null;
  tenant: string | null;
  enabled: boolean;
  update: UpdatePolicy;
  class: string | null;
  resetCommand: string | null;
  resetBetweenTasks: boolean;
  /** Seconds between heartbeats the runtime writes; null when it writes none. */
  heartbeatInterval: number | null;
  /**
   * Seconds after the session starts during which no heartbeat yet is Progressing, not a failure (runtime
   * `heartbeat_grace`, default 3 intervals); null when the runtime writes none.
   */
  heartbeatGrace: number | null;
  /** What the pane's current command may be while the runtime runs (else: drift). */
  processNames: string[];
  /** Seconds without pane output after which the agent counts as idle. */
  idleAfter: number;
  /** Flags and env names whose values are never shown (runtime `redact:`; see src/redact.ts). */
  redact: string[];
  /** Hash of everything that changes what runs in the pane. */
  specHash: string;
  /** The same spec as fields, secrets sealed (src/spec-fields.ts): kept on the session, diffed by the plan. */
  fields: SpecFields;
}

export interface Roster {
  file: string;
  socket: string;
  holder: string;
  /** Where tmux.holder_session is written; null when the default holder applies. */
  holderAt: { line: number; col: number } | null;
  transport: 'tmux';
  agents: AgentSpec[];
}
