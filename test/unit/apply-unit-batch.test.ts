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

const unitAction = (kind: 'enable_unit' | 'start_unit', unit: string): Action => ({
  kind,
  target: unit,
  reason: 'missing',
  apply: { unit, role: 'agent' },
  detail: {},
});

const UNITS = ['gitfleet-agent@a.s.service', 'gitfleet-agent@b.s.service', 'gitfleet-agent@c.s.service'];
const actions = [...UNITS.map((u) => unitAction('enable_unit', u)), ...UNITS.map((u) => unitAction('start_unit', u))];

async function apply(sd: FakeSystemctl) {
  const seen: string[] = [];
  const results = await applyActions(actions, { rosters: [] } as unknown as DesiredState, {
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
});
