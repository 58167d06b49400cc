// The daemon's log: one line per reconcile (time, trigger, outcome, actions, duration), and one per notable
// event (started, webhook refused, stopping). Human `key=value` lines, or JSON lines (--log-format json) for a
// log shipper. Lines go to standard output (the journal, under systemd); URLs are masked, bodies never logged.
import { maskUrls } from '../redact.js';

export type LogFormat = 'human' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['human', 'json'];

/** How a reconcile ended, as its log line and /metrics name it. */
export type ReconcileOutcome = 'ok' | 'not-converged' | 'invalid' | 'transient' | 'terminal' | 'error';

export interface ReconcileLine {
  trigger: string;
  outcome: ReconcileOutcome;
  /** Actions applied (failed ones included). */
  actions: number;
  failed: number;
  durationMs: number;
  revision: string | null;
  commit: string | null;
  error: string | null;
}

type Fields = Record<string, string | number | boolean | null>;

export class DaemonLog {
  constructor(
    private readonly format: LogFormat,
    private readonly write: (line: string) => void,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  reconcile(l: ReconcileLine): void {
    this.event('reconcile', {
      trigger: l.trigger,
      outcome: l.outcome,
      actions: l.actions,
      ...(l.failed ? { failed: l.failed } : {}),
      duration_ms: Math.round(l.durationMs),
      revision: l.revision?.slice(0, 12) ?? null,
      ...(l.commit ? { commit: l.commit.slice(0, 12) } : {}),
      ...(l.error ? { error: l.error } : {}),
    });
  }

  event(event: string, fields: Fields = {}): void {
    const time = this.clock().toISOString();
    const clean = Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? maskUrls(v) : v]),
    );
    if (this.format === 'json') {
      this.write(`${JSON.stringify({ time, event, ...clean })}\n`);
      return;
    }
    const parts = Object.entries(clean)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]|^$/.test(v) ? JSON.stringify(v) : v}`);
    this.write(`${[time, event, ...parts].join(' ')}\n`);
  }
}
