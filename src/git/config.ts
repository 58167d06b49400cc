// The one setting gitfleet reads from a repository's own config file: core.bare (Repo.open: does a `.git`
// folder have a work tree beside it). Parsed as little as that needs; includes and other sections are passed
// over, as isomorphic-git's getConfig did not follow includes either.

/**
 * A boolean in `[section]` (not a subsection) of a git config file's text: the last one set wins, as in git.
 * Spellings as git's: true/yes/on/1 and false/no/off/0 (any case), a key alone is true; undefined when it is
 * not set or not a boolean.
 */
export function configBoolean(text: string, section: string, key: string): boolean | undefined {
  let inSection = false;
  let found: boolean | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[\s*([A-Za-z0-9.-]+)(\s+"(?:[^"\\]|\\.)*")?\s*\]\s*(.*)$/.exec(line);
    let rest = line;
    if (header) {
      inSection = header[1]!.toLowerCase() === section.toLowerCase() && header[2] === undefined;
      rest = header[3]!; // git allows a setting on the header's line
    }
    if (!inSection) continue;
    const m = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(rest);
    if (!m || m[1]!.toLowerCase() !== key.toLowerCase()) continue;
    if (m[2] === undefined) {
      found = true;
      continue;
    }
    const value = m[2]
      .replace(/\s*[#;].*$/, '')
      .replace(/^"(.*)"$/, '$1')
      .trim()
      .toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(value)) found = true;
    else if (['false', 'no', 'off', '0', ''].includes(value)) found = false;
  }
  return found;
}
