// Secret values never leave gitfleet: plan output, evidence, status and
// gitfleet's own messages show commands and environments through these
// functions. Pure. Masking only changes what is shown; the agent always gets
// the real values (apply reads them from the desired state, never from here).
//
// What counts as secret:
// - a flag or env name with a secret word as one of its parts (split on '-',
//   '_', '.' and camelCase): TOKEN, KEY, SECRET, PASSWORD, PASSWD, PASS,
//   PASSPHRASE, CREDENTIAL(S), AUTH, AUTHORIZATION, PAT, or a part that ends in
//   TOKEN, SECRET, PASSWORD, PASSWD, CREDENTIAL(S) or KEY (APIKEY, ACCESSKEY).
//   Plural TOKENS is not one (--max-tokens is a count). A false positive
//   (MONKEY, --hotkey) only hides a harmless value from the record;
// - any name the runtime lists under `redact:` (case-insensitive);
// - the password in a URL's `user:pass@`, a lone user in an http(s) URL
//   (`https://<token>@host`), and secret-named query parameters.
//
// In an argv: `--flag=value` and `--flag value` (the next element, unless it
// is itself a long option), `NAME=value` elements with a secret NAME, also
// inside another flag's value (`--env=GH_TOKEN=x`). Single-letter flags are
// too ambiguous to guess (-p is a port, a prompt or --print): one is masked
// only when listed under `redact:`, then also in its attached form (-pVALUE).

export const MASK = '<redacted>';

const WORDS = new Set([
  ...['TOKEN', 'KEY', 'SECRET', 'PASSWORD', 'PASSWD', 'PASS', 'PASSPHRASE'],
  ...['CREDENTIAL', 'CREDENTIALS', 'AUTH', 'AUTHORIZATION', 'PAT'],
]);
const SUFFIX = /(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|KEY)$/;

/** A flag (--api-key, -p) or variable name (GH_TOKEN, apiKey) whose value is secret by its name alone. */
export function isSecretName(name: string): boolean {
  const parts = name
    .replace(/^-+/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p.toUpperCase());
  return parts.some((p) => WORDS.has(p) || SUFFIX.test(p));
}

/** The `redact:` list as a lookup: flags and names, case-insensitive. */
function listed(extra: readonly string[]): (name: string) => boolean {
  const set = new Set(extra.map((x) => x.toLowerCase()));
  return (name) => set.has(name.toLowerCase());
}

const secret = (name: string, isListed: (n: string) => boolean): boolean => isSecretName(name) || isListed(name);

/** Passwords in URLs and secret-named query parameters, anywhere in a string. */
export function maskUrls(s: string): string {
  return s
    .replace(/\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#@]*)@/g, `$1$2:${MASK}@`)
    .replace(/\b(https?:\/\/)([^\s/?#@:]+)@/gi, `$1${MASK}@`)
    .replace(/([?&])([^=&#\s]+)=([^&#\s]*)/g, (m, sep: string, k: string) =>
      isSecretName(k) ? `${sep}${k}=${MASK}` : m,
    );
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;

/** One value: `NAME=value` with a secret NAME, else its URLs. */
function maskValue(v: string, isListed: (n: string) => boolean): string {
  const m = ASSIGNMENT.exec(v);
  if (m && secret(m[1]!, isListed)) return `${m[1]}=${MASK}`;
  return maskUrls(v);
}

/** An argv as it may be shown: secret values replaced by MASK, the rest as it was. */
export function maskArgv(argv: readonly string[], extra: readonly string[] = []): string[] {
  const isListed = listed(extra);
  const shorts = extra.filter((x) => /^-[A-Za-z0-9]$/.test(x));
  const out: string[] = [];
  let maskNext = false;
  for (const x of argv) {
    if (maskNext && !x.startsWith('--')) {
      out.push(MASK);
      maskNext = false;
      continue;
    }
    maskNext = false;
    if (x.startsWith('-') && x !== '-' && x !== '--') {
      const eq = x.indexOf('=');
      const flag = eq < 0 ? x : x.slice(0, eq);
      const isLong = x.startsWith('--');
      const isSecret = (isLong || flag.length > 2 || isListed(flag)) && secret(flag, isListed);
      if (isSecret && eq >= 0) out.push(`${flag}=${MASK}`);
      else if (isSecret) {
        out.push(x);
        maskNext = true;
      } else {
        const short = !isLong ? shorts.find((s) => x.startsWith(s) && x.length > 2) : undefined;
        if (short) out.push(`${short}${MASK}`);
        else out.push(eq < 0 ? maskUrls(x) : `${flag}=${maskValue(x.slice(eq + 1), isListed)}`);
      }
      continue;
    }
    out.push(maskValue(x, isListed));
  }
  return out;
}

/** An environment as it may be shown: values of secret names masked, URLs in the others. */
export function maskEnv(env: Readonly<Record<string, string>>, extra: readonly string[] = []): Record<string, string> {
  const isListed = listed(extra);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = secret(k, isListed) ? MASK : maskUrls(v);
  return out;
}

/** Whether an env variable's value is secret by its name or the `redact:` list. */
export function isSecretEnv(name: string, extra: readonly string[] = []): boolean {
  return secret(name, listed(extra));
}

/** Shell-like words of a command line as written: quoted parts (even unclosed ones) stay inside their word. */
const WORD = /(?:[^\s'"]+|'[^']*'?|"(?:[^"\\]|\\.)*"?)+/g;

/** A command line as typed (say, in an error about it), with secret values masked word by word; spacing kept. */
export function maskCommandLine(line: string, extra: readonly string[] = []): string {
  const words = line.match(WORD) ?? [];
  const masked = maskArgv(words, extra);
  let i = 0;
  return line.replace(WORD, () => masked[i++]!);
}
