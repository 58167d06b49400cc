// Writing values into systemd unit files and /bin/sh command lines: the one
// audited place for quoting. Pure.
import path from 'node:path';
import { UsageError } from '../errors.js';

export function checkValue(what: string, value: string): void {
  if (/[\x00-\x1f\x7f]/.test(value))
    throw new UsageError(
      `${what} ${JSON.stringify(value)}: control characters (newline, tab ...) cannot go into a unit file`,
    );
}

export function checkAbsolute(what: string, value: string): void {
  checkValue(what, value);
  if (!path.isAbsolute(value)) throw new UsageError(`${what} ${JSON.stringify(value)}: must be an absolute path`);
}

/** Specifiers (`%h`, `%n` ...) are expanded in most unit settings: a literal `%` is `%%`. */
export const escapeSpecifiers = (s: string): string => s.replace(/%/g, '%%');

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One ExecStart= argument: `%` → `%%` (specifiers) and `$` → `$$`
 * (variable expansion), then double quotes with C escapes when the word holds
 * anything but plain characters (spaces, quotes, backslashes ...).
 */
export function execArg(arg: string): string {
  const s = escapeSpecifiers(arg).replace(/\$/g, '$$$$');
  if (SAFE_WORD.test(s) && !s.startsWith('@')) return s;
  return `"${cEscape(s)}"`;
}

/** Inside double quotes systemd undoes C escapes: a control character never ends the line. */
function cEscape(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Text for a comment or Description=: control characters shown as '?'. */
export const printable = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, '?');

/** One Environment= assignment, always quoted (no `$` expansion there, specifiers only). */
export function envAssignment(key: string, value: string): string {
  return `Environment="${cEscape(escapeSpecifiers(`${key}=${value}`))}"`;
}

/** One word for /bin/sh: single quotes unless plain. */
export function shellWord(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
