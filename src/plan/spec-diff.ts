// Which fields of an agent's spec changed, old → new: what a plan shows for
// a restart instead of two spec hashes. Pure. Both sides are specs as fields
// (src/spec-fields.ts): the running one as tmux kept it on the session, the
// desired one from the roster. Secret values never come out: a sealed value,
// or any value under a secret-looking key (at any depth, any case; checked
// here again, so an unsealed tree is safe too), is shown as MASKED; a
// password in a URL as redact.ts masks it.
import { maskUrls } from '../redact.js';
import { type FieldValue, fieldPath, isSealed, isSecretField, type SpecFields } from '../spec-fields.js';

/** A secret value: that it is set is shown, never what it is. */
export const MASKED = { masked: true } as const;

/** A value as a plan shows it: the value, MASKED, or null where the field is not set. */
export type ShownValue =
  | string
  | number
  | boolean
  | typeof MASKED
  | ShownValue[]
  | { [key: string]: ShownValue }
  | null;

export interface FieldChange {
  /** `runtime`, `cwd`, `env.MOOD`, `argv[2]`. */
  field: string;
  old: ShownValue;
  new: ShownValue;
}

/**
 * The leaves that differ, sorted by field: mappings are compared key by key
 * and arrays index by index (an element added or removed at the end is one
 * change; one inserted in the middle changes each element after it).
 */
export function diffSpecFields(old: SpecFields, now: SpecFields, redact: readonly string[] = []): FieldChange[] {
  const out: FieldChange[] = [];
  walk(old, now, '', false, redact, out);
  return out.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

function walk(
  o: FieldValue | undefined,
  n: FieldValue | undefined,
  at: string,
  secret: boolean,
  redact: readonly string[],
  out: FieldChange[],
): void {
  if (same(o, n)) return;
  if (secret || isSealed(o) || isSealed(n)) {
    out.push({ field: at, old: o === undefined ? null : MASKED, new: n === undefined ? null : MASKED });
    return;
  }
  if (isMapping(o) && isMapping(n)) {
    for (const k of [...new Set([...Object.keys(o), ...Object.keys(n)])])
      walk(at0(o, k), at0(n, k), fieldPath(at, k), isSecretField(k, redact), redact, out);
    return;
  }
  if (Array.isArray(o) && Array.isArray(n)) {
    for (let i = 0; i < Math.max(o.length, n.length); i++) walk(o[i], n[i], fieldPath(at, i), false, redact, out);
    return;
  }
  out.push({ field: at, old: shown(o, redact), new: shown(n, redact) });
}

const at0 = (m: { [key: string]: FieldValue }, k: string): FieldValue | undefined =>
  Object.hasOwn(m, k) ? m[k] : undefined;

function isMapping(v: FieldValue | undefined): v is { [key: string]: FieldValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isSealed(v);
}

/** A whole value as shown (a mapping that became a string, say): its secrets masked all the way down. */
function shown(v: FieldValue | undefined, redact: readonly string[]): ShownValue {
  if (v === undefined) return null;
  if (typeof v === 'string') return maskUrls(v);
  if (v === null || typeof v !== 'object') return v;
  if (isSealed(v)) return MASKED;
  if (Array.isArray(v)) return v.map((x) => shown(x, redact));
  const out: { [key: string]: ShownValue } = {};
  for (const [k, x] of Object.entries(v)) out[k] = isSecretField(k, redact) ? MASKED : shown(x, redact);
  return out;
}

function same(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  const bm = b as { [key: string]: FieldValue };
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(bm, k) && same((a as typeof bm)[k], bm[k]));
}

export function isMasked(v: ShownValue): v is typeof MASKED {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && (v as { masked?: unknown }).masked === true;
}
