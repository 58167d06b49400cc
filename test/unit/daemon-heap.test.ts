// The daemon's collection after each job (src/daemon/heap.ts), in this process's own heap.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { collectAfter, type Gc } from '../../src/daemon/heap.js';

const used = () => v8.getHeapStatistics().used_heap_size;

describe('collectAfter', () => {
  it('a reconcile: a full collection; a look: a scavenge only', () => {
    const calls: unknown[] = [];
    const gc: Gc = (options) => calls.push(options ?? 'full');
    collectAfter('reconcile', gc);
    collectAfter('look', gc);
    expect(calls).toEqual(['full', { type: 'minor' }]);
  });

  it("after a reconcile, what it no longer references is freed there and then (V8's own gc)", () => {
    collectAfter('reconcile');
    const before = used();
    // ~24 MiB of small objects, as a reconcile makes them; kept through any scavenge while being made, then dropped.
    let garbage: { i: number; s: string }[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` }));
    expect(used() - before).toBeGreaterThan(8 * 2 ** 20);
    expect(garbage).toHaveLength(300_000);
    garbage = null;
    collectAfter('reconcile');
    expect(used() - before).toBeLessThan(2 * 2 ** 20);
  });

  it('after a look, the young generation is emptied by a scavenge', () => {
    const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
    collectAfter('look');
    let garbage: number[][] | null = [];
    for (let i = 0; i < 20_000; i++) garbage.push([i, i + 1]);
    expect(young()).toBeGreaterThan(512 * 1024);
    garbage = null;
    collectAfter('look');
    expect(young()).toBeLessThan(128 * 1024);
  });

  it('leaves no `gc` behind for other code: the flag it needed is off again', () => {
    collectAfter('reconcile');
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
