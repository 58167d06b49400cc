// apply --wait, after apply committed its status: wait (src/wait.ts) with no
// lock held, so the timer's own apply is never blocked by a person waiting;
// then, only when what was seen changed, reconcile once more, which commits
// the status as it now is (and nothing when it is unchanged). Progress goes to
// stderr, one line when who is not Ready changes; --json says it all at the end.
import { reconcile, type ReconcileResult } from '../reconcile.js';
import type { WaitJson } from '../report/apply-json.js';
import { renderApplied } from '../report/apply-text.js';
import { DEFAULT_WAIT_MS, notReadyList, sameButTimes, waitUntilReady } from '../wait.js';
import type { Io } from './io.js';
import type { GlobalOptions } from './options.js';
import { reconcileOptions } from './settings.js';

export interface Waited {
  /** The run whose status is final: the second reconcile, or the first when nothing changed while waiting. */
  last: ReconcileResult;
  /** What `apply --json` says of the wait (docs/formats.md). */
  wait: WaitJson;
}

export async function waitForReady(first: ReconcileResult, opts: GlobalOptions, io: Io): Promise<Waited> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
  const say = (line: string) => {
    if (!opts.json && !opts.quiet) io.stderr(`apply --wait: ${line}\n`);
  };
  const waited = await waitUntilReady(first.status!, {
    look: first.lookAgain!,
    timeoutMs,
    progress: (r) => say(`${r.ready}/${r.total} ready; waiting for ${notReadyList(r)}`),
  });
  const r = waited.readiness;
  const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  if (waited.outcome === 'ready' && waited.waitedMs > 0)
    say(`${r.ready}/${r.total} ready after ${secs(waited.waitedMs)}`);
  if (waited.outcome === 'timeout')
    say(`timed out after ${secs(timeoutMs)}: ${r.ready}/${r.total} ready; not Ready: ${notReadyList(r)}`);
  if (waited.outcome === 'failed') say(`not waiting: an action of this apply failed; not Ready: ${notReadyList(r)}`);
  const wait: WaitJson = { outcome: waited.outcome, timeoutMs, waitedMs: waited.waitedMs, notReady: r.notReady };
  // Seen as committed: nothing to record, and no second reconcile.
  if (sameButTimes(waited.status, first.status!)) return { last: first, wait };
  const again = await reconcile(reconcileOptions(opts, io, true), 'apply');
  if (!opts.json && !opts.quiet) io.stdout(renderApplied(again));
  return {
    // The plan that was applied (the first); what both runs did; the last commit either made.
    last: {
      ...again,
      plan: first.plan,
      results: [...first.results, ...again.results],
      commit: again.commit ?? first.commit,
    },
    wait,
  };
}
