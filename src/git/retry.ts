// Transient network failures retried with capped, jittered exponential
// backoff: a few attempts, never a hot loop, and hosts that failed together
// do not all come back at the same instant.
import { TransientError } from '../errors.js';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
  /** 0..1; Math.random by default, fixed in tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY = { baseMs: 500, capMs: 8000 } as const;

/** The wait before attempt `n + 1` (n ≥ 1): full jitter over a capped exponential. */
export function backoffMs(n: number, p: Pick<RetryPolicy, 'baseMs' | 'capMs' | 'random'>): number {
  const ceiling = Math.min(p.capMs, p.baseMs * 2 ** (n - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * (p.random ?? Math.random)());
}

/** Run `op`; a TransientError is retried up to `attempts` tries in all, anything else is thrown at once. */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, p: RetryPolicy): Promise<T> {
  const sleep = p.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (!(e instanceof TransientError) || attempt >= p.attempts) {
        if (e instanceof TransientError && p.attempts > 1)
          throw new TransientError(`${e.message} (${attempt} attempts)`, { cause: e });
        throw e;
      }
      await sleep(backoffMs(attempt, p));
    }
  }
}
