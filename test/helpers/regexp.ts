/**
 * One RegExp from pieces written as literals, so that a long pattern can span lines with its escapes as they are
 * (each piece must be a valid pattern alone: split between groups, not inside one). Flags: those of any piece.
 */
export function joinedRegExp(...parts: RegExp[]): RegExp {
  const flags = [...new Set(parts.flatMap((p) => [...p.flags]))].join('');
  return new RegExp(parts.map((p) => p.source).join(''), flags);
}
