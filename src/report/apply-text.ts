// The human view of what one apply did: each action's result, the status it left, and the commit (after the plan,
// which report/plan-text.ts renders). apply prints it, and apply --wait again for its second reconcile.
import type { ReconcileResult } from '../reconcile.js';
import { shortRevision } from '../revision.js';
import { renderStatusText } from './status-text.js';

export function renderApplied(r: Pick<ReconcileResult, 'results' | 'status' | 'commit' | 'desired'>): string {
  const out = r.results.map(
    (res) =>
      `${res.ok ? 'ok    ' : 'FAILED'} ${res.action.kind} ${res.action.target}${res.error ? `: ${res.error}` : ''}\n`,
  );
  out.push(renderStatusText(r.status!));
  out.push(
    r.commit
      ? `Committed status ${shortRevision(r.commit)} to ${r.desired.config.statusBranch}.\n`
      : 'Status unchanged: no commit.\n',
  );
  return out.join('');
}
