// At most `limit` calls of `fn` at a time, results in the items' order: apply's
// actions, and file work. Node's fs calls run on libuv's pool of 4 threads, so
// a few at a time overlap their waits (fsync above all) where one after the
// other they add up; more than that only queue.

export async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** File writes at once: libuv's default thread pool size. */
export const FILE_CONCURRENCY = 4;
