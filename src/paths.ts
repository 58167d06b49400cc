// Where gitfleet keeps per-agent files in its state dir. One place, so the
// reconciler, the units it generates and the operator verbs agree.
// Layout: <stateDir>/<kind>/<fleet>/<socket>/<session>.<ext>
import path from 'node:path';

export interface AgentRef {
  fleet: string;
  socket: string;
  session: string;
}

function agentFile(stateDir: string, kind: string, a: AgentRef, ext: string): string {
  return path.join(stateDir, kind, a.fleet, a.socket, `${a.session}.${ext}`);
}

/** The spec an agent unit starts from (systemd mode): what apply last applied. */
export const specPath = (stateDir: string, a: AgentRef): string => agentFile(stateDir, 'specs', a, 'json');

/** Everything the pane printed, kept by tmux pipe-pane (survives screen clears). */
export const agentLogPath = (stateDir: string, a: AgentRef): string => agentFile(stateDir, 'logs', a, 'log');

/** Heartbeat protocol v1: `ts=<ISO-8601> pid=<pid> status=<ok|busy>`, written by the runtime. */
export const heartbeatPath = (stateDir: string, a: AgentRef): string => agentFile(stateDir, 'run', a, 'hb');

/** `<pid of the pane's sh> <exit status>` of the agent's last runtime, written by the pane wrapper (apply/tmux.ts). */
export const exitStatusPath = (stateDir: string, a: AgentRef): string => agentFile(stateDir, 'run', a, 'exit');

/** The previous log, moved aside when the log reached its cap (apply/log-rotate.ts). */
export const rotatedLogPath = (log: string): string => `${log}.1`;

/** In the state dir: what the crontab line `gitfleet install` prints appends gitfleet's output to. */
export const CRON_LOG = 'cron.log';
export const cronLogPath = (stateDir: string): string => path.join(stateDir, CRON_LOG);
