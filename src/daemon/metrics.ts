// /metrics: the daemon's Prometheus registry (prom-client), its own rather than the library's global one, so
// that nothing else registered in the process can leak into it.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReconcileOutcome } from './log.js';

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly duration = new Histogram({
    name: 'gitfleet_reconcile_duration_seconds',
    help: 'How long a full reconcile took, by what triggered it.',
    labelNames: ['trigger'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly reconciles = new Counter({
    name: 'gitfleet_reconciles_total',
    help: 'Full reconciles by outcome (ok, not-converged, invalid, transient, terminal, error).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly actions = new Counter({
    name: 'gitfleet_actions_applied_total',
    help: 'Actions applied, by kind and result (ok or failed).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  private readonly agents = new Gauge({
    name: 'gitfleet_agents',
    help: "This host's agents by state, as of the last reconcile (Ready, Disabled, PaneDead, ...).",
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  private readonly lastSuccess = new Gauge({
    name: 'gitfleet_last_success_timestamp_seconds',
    help: 'When the last reconcile that ran to its end finished (Unix time).',
    registers: [this.registry],
  });

  constructor() {
    // process_resident_memory_bytes and friends: how the daemon itself fares over weeks.
    collectDefaultMetrics({ register: this.registry });
  }

  reconciled(r: {
    trigger: string;
    outcome: ReconcileOutcome;
    durationMs: number;
    actions: readonly { kind: string; ok: boolean }[];
    /** Agents by state; null when the reconcile did not get that far. */
    agents: Map<string, number> | null;
    finishedAt: Date;
  }): void {
    this.duration.observe({ trigger: r.trigger }, r.durationMs / 1000);
    this.reconciles.inc({ outcome: r.outcome });
    for (const a of r.actions) this.actions.inc({ kind: a.kind, result: a.ok ? 'ok' : 'failed' });
    if (r.agents) {
      this.agents.reset(); // a state no agent is in any more drops out
      for (const [state, n] of r.agents) this.agents.set({ state }, n);
    }
    if (r.outcome === 'ok' || r.outcome === 'not-converged' || r.outcome === 'invalid')
      this.lastSuccess.set(r.finishedAt.getTime() / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
