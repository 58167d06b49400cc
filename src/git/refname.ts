// Branch names become ref paths (`refs/heads/<name>`) and file names under
// the git dir, so they are checked against git's own rules
// (git-check-ref-format(1)) before anything uses them: "../../config" must
// never name a file, and "a..b" never an invalid ref.

/** Why `name` is not a usable branch name, or null when it is. */
export function branchNameProblem(name: string): string | null {
  const bad = (why: string) =>
    `branch "${printable(name)}" ${why}; allowed: a git branch name (git check-ref-format --branch)`;
  if (name.length === 0) return bad('is empty');
  if (name.length > 200) return bad('is longer than 200 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name))
    return bad('contains a space, a control character or one of ~ ^ : ? * [ \\');
  if (name.startsWith('-')) return bad('starts with "-"');
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//'))
    return bad('starts or ends with "/" or has an empty part');
  if (name.includes('..')) return bad('contains ".."');
  if (name.includes('@{') || name === '@') return bad('contains "@{" or is "@"');
  if (name.endsWith('.')) return bad('ends with "."');
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return bad(`has a part starting with "." ("${printable(part)}")`);
    if (part.endsWith('.lock')) return bad(`has a part ending with ".lock" ("${printable(part)}")`);
  }
  if (name === 'HEAD' || name.startsWith('refs/'))
    return bad('is "HEAD" or starts with "refs/" (give the short name, e.g. main)');
  return null;
}

/** A name as it may be shown: control characters escaped. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
