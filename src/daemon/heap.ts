// The daemon frees what a job allocated when the job ends, before it idles or starts the next (issue #12).
//
// Why: V8 grows its young generation (1 -> 16 MiB per semi-space in Node 20) once the bytes that survived its
// scavenges, summed over the process's life, exceed its size, and shrinks it only at a full collection while
// little is being allocated, or under memory pressure; and it lets the old generation fill with promoted garbage
// to 2-4 times its live size before a full collection. A daemon allocates a few MiB per reconcile (git objects,
// tmux output, a plan) and keeps almost none of it, yet makes few full collections, so nothing was given back:
// bench/daemon.mjs measured RSS 74 MiB after 10 webhook reconciles, 104 MiB after 1000: +24 MiB young generation
// (8 -> 32 MiB of semi-spaces), +2.5 MiB old-generation garbage, +1.3 MiB compiled code, +2 MiB outside the
// heap. Heap snapshots at 10 and 1000 showed no retained object growing but compiled code: V8's sizing, no leak.
//
// So, at the end of each job:
// - a reconcile (the schedule's, every few minutes, or a change's): a full collection. The next job allocates
//   from the start of an empty young generation, so only the pages one job touches stay resident, however large
//   V8 has made it; promoted garbage goes at once; and with reconciles minutes apart V8 also shrinks the young
//   generation at that collection. Measured: RSS 72.0 MiB after 10, 75.8 after 1000 (+5.2 %); the daemon's CPU
//   per no-op reconcile 60 -> 100 ms (a ~13 MiB heap, marked on helper threads too): ~0.5 s an hour at the
//   default 5-minute schedule, more only in a storm of changes.
// - a look (every 15 s by default, small): a scavenge, ~1-3 ms; what it promotes waits for the next reconcile.
// Measured and not taken: `--max-semi-space-size=1` or `2` (only settable when node starts; the old generation
// then fills with promoted garbage to ~40 MiB before V8 collects it: +20 % after 1000); a scavenge after every
// job with a full collection only once the heap grew by a slack (+10 %, the young generation's pages still
// creep); the inspector's HeapProfiler.collectGarbage (a low-memory notification: two compacting collections).
import v8 from 'node:v8';
import vm from 'node:vm';

/** V8's `gc`: a full collection, or `{ type: 'minor' }` a scavenge of the young generation only. */
export type Gc = (options?: { type: 'minor' }) => void;

/** After a job of this kind: the collection heap.ts's header explains. */
export function collectAfter(job: 'reconcile' | 'look', gc?: Gc): void {
  try {
    const collect = gc ?? exposedGc();
    if (job === 'reconcile') collect();
    else collect({ type: 'minor' });
  } catch {
    // A node without V8's gc for us: the daemon runs on, only its memory settles later.
  }
}

let exposed: Gc | null = null;

/**
 * V8's `gc` (what `node --expose-gc` puts on the global object): taken from a fresh context made while the flag is
 * on, and the flag turned off again, so nothing else (another vm context) sees a `gc` it did not ask for.
 */
function exposedGc(): Gc {
  if (!exposed) {
    const global = (globalThis as { gc?: unknown }).gc;
    exposed = typeof global === 'function' ? (global as Gc) : gcFromContext();
  }
  return exposed;
}

function gcFromContext(): Gc {
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as Gc;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}
