// An agent's spec as fields, kept beside its hash so a later plan can say
// which fields changed (plan/spec-diff.ts), not only that the hash did.
// Pure. The fields are the same four the spec hash covers (runtime, argv,
// cwd, env: desired/kinds/roster/parse.ts specHash).
//
// Where they are kept: tmux holds them on the session, in the option
// @gitfleet-spec-fields, set by the same command list that sets
// @gitfleet-spec (apply/tmux.ts). So the fields always describe what runs in
// that pane, whoever started it (apply, agent-start, agent reset), and a
// plan on this host reads them with the one list-panes it already makes. The
// committed status is not used: it records the desired spec of the last
// apply, which is not what runs while a restart waits (update: on-idle,
// manual), and it would put the fields in git history.
//
// Secrets are sealed, never kept: a value whose key is secret-looking
// (src/redact.ts isSecretName or the runtime's `redact:` list, at any depth,
// any case) and an argv element that maskArgv would mask are replaced by
// `{ sealed: <16 hex digits of sha256(field path, NUL, value)> }`, and so is
// a value with a password in a URL (maskUrls). A change of
// the secret changes the seal, so it is still seen as a change; the value
// cannot be read back. (The spec hash, which tmux and the status already
// hold, is itself a hash over these same values.)
import { createHash } from 'node:crypto';
import { isSecretEnv, maskArgv, maskUrls } from './redact.js';

/** A value of a spec as fields: JSON, with secrets sealed. */
export type FieldValue = string | number | boolean | null | Sealed | FieldValue[] | { [key: string]: FieldValue };

/** A secret value, replaced by a seal: tells a change without telling the value. */
export interface Sealed {
  sealed: string;
}

export type SpecFields = { [key: string]: FieldValue };

/** The tmux session option that keeps them. */
export const SPEC_FIELDS_OPTION = '@gitfleet-spec-fields';

export function isSealed(v: unknown): v is Sealed {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as { sealed?: unknown }).sealed === 'string'
  );
}

/** The seal of one secret value at a field path (`env.API_TOKEN`, `argv[2]`). */
export function seal(field: string, value: unknown): Sealed {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return { sealed: createHash('sha256').update(`${field}\0${text}`).digest('hex').slice(0, 16) };
}

/** `env.MOOD`, `argv[2]`: a field path as plans show it. */
export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * A key whose value is kept and shown only sealed: secret by redact.ts's rules or the runtime's `redact:` list,
 * or with TOKEN, KEY, SECRET or PASSWORD anywhere in its name (any case). The last is broader than redact.ts
 * (MAX_TOKENS, KEYBOARD): a false positive only shows a harmless change as "(secret changed)".
 */
export function isSecretField(key: string, redact: readonly string[] = []): boolean {
  return /TOKEN|KEY|SECRET|PASSWORD/i.test(key) || isSecretEnv(key, redact);
}

/** The values under secret-looking keys, at any depth, sealed; so is a string with a password in a URL. */
export function sealSecrets(v: FieldValue, redact: readonly string[] = [], at = ''): FieldValue {
  if (typeof v === 'string') return maskUrls(v) === v ? v : seal(at, v);
  if (v === null || typeof v !== 'object' || isSealed(v)) return v;
  if (Array.isArray(v)) return v.map((x, i) => sealSecrets(x, redact, fieldPath(at, i)));
  const out: { [key: string]: FieldValue } = {};
  for (const [k, x] of Object.entries(v)) {
    const p = fieldPath(at, k);
    out[k] = isSecretField(k, redact) ? (isSealed(x) ? x : seal(p, x)) : sealSecrets(x, redact, p);
  }
  return out;
}

/** What specFields needs of an agent: what runs in its pane, and what the runtime says to hide. */
export interface SpecSource {
  runtime: string;
  argv: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  redact: readonly string[];
}

/** An agent's spec as fields, secrets sealed: what tmux keeps on its session and what the plan diffs. */
export function specFields(a: SpecSource): SpecFields {
  const masked = maskArgv(a.argv, a.redact);
  const argv = a.argv.map((x, i): FieldValue => (masked[i] === x ? x : seal(fieldPath('argv', i), x)));
  return sealSecrets({ runtime: a.runtime, argv, cwd: a.cwd, env: { ...a.env } }, a.redact) as SpecFields;
}

/**
 * The fields as tmux keeps them: JSON in plain ASCII (characters beyond it
 * escaped), so no terminal encoding or list-panes separator can change them.
 */
export function encodeSpecFields(f: SpecFields): string {
  return JSON.stringify(f).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The fields read back from tmux; null when absent (a session started before they were kept) or unreadable. */
export function decodeSpecFields(text: string): SpecFields | null {
  if (text === '') return null;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as SpecFields) : null;
  } catch {
    return null;
  }
}
