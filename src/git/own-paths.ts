// Pure: the paths a host's gitfleet may change in a commit it pushes. Its
// status files (status/<host>.json, .md, and per-tenant files beside them) and
// its evidence folder; anything else in a commit about to be pushed is a bug,
// and the push is refused.

export function isOwnPath(p: string, host: string): boolean {
  // evidence/<host>/... or, for another tenant of the host, evidence/<host>@<tenant>/... (status/read.ts statusName)
  const evidence = p.startsWith(`evidence/${host}`) ? p.slice(`evidence/${host}`.length) : null;
  if (evidence !== null && /^(@[^/]+)?\//.test(evidence) && !evidence.includes('..')) return true;
  const rest = p.startsWith(`status/${host}`) ? p.slice(`status/${host}`.length) : null;
  return rest !== null && /^[./@]/.test(rest) && !rest.includes('..');
}
