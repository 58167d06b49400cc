// systemd mode: a phase of unit enables or starts is one `systemctl --user` call for all its units, and falls
// back to one call per unit when it fails (apply/systemd.ts applyUnitBatch). A fake systemctl records the calls.
import { describe, expect, it } from 'vitest';
import { applyActions } from '../../src/apply/apply.js';
import type { DesiredState } from '../../src/desired/types.js';
import type { RunResult } from '../../src/exec.js';
import type { Action } from '../../src/plan/types.js';
import { Systemctl } from '../../src/systemd/client.js';

class FakeSystemctl extends Systemctl {
  readonly calls: string[][] = [];
  constructor(private readonly failing: string | null = null) {
    super({});
  }
  override async call(...args: string[]): Promise<RunResult> {
    this.calls.push(args);
    const fails = this.failing !== null && args.includes(this.failing);
    return fails
      ? { exitCode: 1, stdout: '', stderr: `Failed to ${args[0]} ${this.failing}: Unit not found.`, timedOut: false }
      : { exitCode: 0, stdout: '', stderr: '', timedOut: false };
  }
}

const unitAction = (kind: 'enable_unit' | 'start_unit', unit: string, role: 'agent' | 'holder' = 'agent'): Action => ({
  kind,
  target: unit,
  reason: 'missing',
  apply: { unit, role },
  detail: {},
});

const UNITS = ['gitfleet-agent@a.s.service', 'gitfleet-agent@b.s.service', 'gitfleet-agent@c.s.service'];
const actions = [...UNITS.map((u) => unitAction('enable_unit', u)), ...UNITS.map((u) => unitAction('start_unit', u))];

async function apply(sd: FakeSystemctl, planned: readonly Action[] = actions) {
  const seen: string[] = [];
  const results = await applyActions(planned, { rosters: [] } as unknown as DesiredState, {
    fleet: 'f',
    path: '/usr/bin:/bin',
    stateDir: '/nonexistent-state',
    clock: () => new Date('2026-11-21T00:00:00Z'),
    units: { systemctl: sd, files: new Map() },
    onStart: async (a) => void seen.push(`start ${a.kind} ${a.target}`),
    onResult: async (r) => void seen.push(`result ${r.action.kind} ${r.action.target}`),
  });
  return { results, seen };
}

describe('unit applier batches a phase of enables or starts', () => {
  it('one enable and one start for all units, each action with its own command', async () => {
    const sd = new FakeSystemctl();
    const { results, seen } = await apply(sd);
    expect(sd.calls).toEqual([
      ['enable', ...UNITS],
      ['start', ...UNITS],
    ]);
    expect(results.map((r) => [r.action.kind, r.ok, r.command])).toEqual(
      actions.map((a) => [a.kind, true, [`systemctl --user ${a.kind.replace('_unit', '')} ${a.target}`]]),
    );
    const order = (verb: string) => UNITS.map((u) => `${verb} ${u}`);
    expect(seen).toEqual([
      ...order('start enable_unit').concat(order('result enable_unit')),
      ...order('start start_unit').concat(order('result start_unit')),
    ]);
  });

  it('a failed batch runs each unit alone: the failing unit is the one failed result', async () => {
    const sd = new FakeSystemctl(UNITS[1]!);
    const { results } = await apply(sd);
    expect(sd.calls).toEqual([
      ['enable', ...UNITS],
      ...UNITS.map((u) => ['enable', u]),
      ['start', ...UNITS],
      ...UNITS.map((u) => ['start', u]),
    ]);
    expect(results.filter((r) => !r.ok).map((r) => [r.action.kind, r.action.target, r.error])).toEqual([
      ['enable_unit', UNITS[1], expect.stringMatching(/enable gitfleet-agent@b.s.service failed .*Unit not found/)],
      ['start_unit', UNITS[1], expect.stringMatching(/start gitfleet-agent@b.s.service failed .*Unit not found/)],
    ]);
    expect(results.map((r) => r.command)).toEqual(
      actions.map((a) => [`systemctl --user ${a.kind.replace('_unit', '')} ${a.target}`]),
    );
  });

  it("a cold start's server unit goes in the same enable and start as its agents, first in the start", async () => {
    // Plan order (plan/plan.ts): agents' enables, the server's enable, its start, then the agents' starts.
    const server = 'gitfleet-f-tmux@s.service';
    const planned = [
      ...UNITS.map((u) => unitAction('enable_unit', u)),
      unitAction('enable_unit', server, 'holder'),
      unitAction('start_unit', server, 'holder'),
      ...UNITS.map((u) => unitAction('start_unit', u)),
    ];
    const sd = new FakeSystemctl();
    const { results } = await apply(sd, planned);
    expect(sd.calls).toEqual([
      ['enable', ...UNITS, server],
      ['start', server, ...UNITS],
    ]);
    expect(results.map((r) => [r.action.kind, r.action.target, r.ok])).toEqual(
      planned.map((a) => [a.kind, a.target, true]),
    );
  });

  it('other unit actions of the server keep a phase of their own (they run concurrently within one)', async () => {
    const server = 'gitfleet-f-tmux@s.service';
    const stop = (unit: string, role: 'agent' | 'holder'): Action => ({
      kind: 'stop_unit',
      target: unit,
      reason: 'not_in_roster',
      apply: { unit, role },
      detail: {},
    });
    const sd = new FakeSystemctl();
    await apply(sd, [stop(UNITS[0]!, 'agent'), stop(server, 'holder')]);
    // The agent's disable and reset-failed both ran before the server's.
    expect(sd.calls.map((c) => c.at(-1))).toEqual([UNITS[0], UNITS[0], server, server]);
  });
});
