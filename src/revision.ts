// How a commit id is shown to people: one abbreviation everywhere (plan,
// apply, validate, status, ps, the dashboard, messages), so one state reads
// as one revision wherever it is printed. JSON carries the full id.
export const REVISION_DIGITS = 12;

export function shortRevision(oid: string): string {
  return oid.slice(0, REVISION_DIGITS);
}
