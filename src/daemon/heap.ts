// The daemon collects its garbage whenever a job (a reconcile, a look) ends, before it idles (issue #12).
//
// Why: V8 sizes its young generation by how much survived its scavenges since the last resize, summed over the
// process's life, and grows it (1 -> 16 MiB per semi-space in Node 20) but shrinks it only at a full collection
// when little is being allocated, or under memory pressure. A daemon that reconciles now and then allocates a
// few MiB per reconcile (git objects, tmux output, a plan) and keeps little of it, yet its full collections are
// rare (the old generation's limit grows with it), so an idle Node process never gives the young generation back:
// measured with bench/daemon.mjs, RSS went from 74 MiB after 10 webhook reconciles to 104 MiB after 1000, of which
// +24 MiB was the young generation (8 -> 32 MiB of semi-spaces) and the rest old-generation garbage waiting for a
// collection; heap snapshots at 10 and 1000 showed no retained object growing but compiled code (+1.6 MiB).
//
// A full collection after each job frees what the job allocated while it is garbage for sure, and starts the next
// job in an empty young generation, so only the pages one job touches stay resident; when jobs are minutes apart
// V8 also shrinks the young generation at that collection (its allocation rate is low). It costs a few ms per
// job (a heap of ~13 MiB), next to a reconcile's ~100 ms. Alternatives measured, and why not:
// - `--max-semi-space-size=1` or `2` (only settable at start, not by gitfleet): objects that would die young get
//   promoted, and the old generation fills with them to ~40 MiB before V8 collects it: RSS +20 % after 1000.
// - the inspector's HeapProfiler.collectGarbage (a low-memory notification): shrinks the young generation to
//   1 MiB each time, but runs two full, compacting collections: several times the cost for the same RSS.
import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = () => void;
let collect: Collect | null = null;

/** A full, synchronous garbage collection. */
export function collectGarbage(): void {
  collect ??= gcFunction();
  collect();
}

/**
 * V8's `gc` (what `node --expose-gc` puts on the global object): taken from a fresh context made while the flag is
 * on, and the flag turned off again, so nothing else (another vm context) sees a `gc` it did not ask for.
 */
function gcFunction(): Collect {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Collect;
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as Collect;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}
