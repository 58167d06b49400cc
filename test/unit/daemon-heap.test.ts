// The daemon's collection after each job (src/daemon/heap.ts): it frees garbage at once, in this process's heap.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../src/daemon/heap.js';

const used = () => v8.getHeapStatistics().used_heap_size;

describe('collectGarbage', () => {
  it('frees what is no longer referenced, there and then', () => {
    collectGarbage();
    const before = used();
    // ~24 MiB of small objects, as a reconcile makes them; kept through any scavenge while being made, then dropped.
    let garbage: { i: number; s: string }[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` }));
    expect(used() - before).toBeGreaterThan(8 * 2 ** 20);
    expect(garbage).toHaveLength(300_000);
    garbage = null;
    collectGarbage();
    expect(used() - before).toBeLessThan(2 * 2 ** 20);
  });

  it('leaves no `gc` behind for other code: the flag it needed is off again', () => {
    collectGarbage();
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
