// A roster `command` written as a command line is split into argv the way a
// shell splits words (quotes and backslashes), so the pane can exec it with
// no shell in between. Shell syntax that would need a real shell (pipes,
// redirections, expansions, ';') is refused with a clear message instead of
// being silently passed as text.

const SPECIAL = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', '{', '}']);

export function splitCommandLine(line: string, home: string): { argv: string[] } | { error: string } {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { error: 'unterminated single quote' };
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= line.length) return { error: 'unterminated double quote' };
        const d = line[i]!;
        if (d === '"') break;
        if (d === '$' || d === '`')
          return { error: `"${d}" inside double quotes needs a shell; write the command as an argv list` };
        if (d === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1]!)) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return { error: 'trailing backslash' };
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else if (c === '~' && !inWord) {
      // Unquoted ~ at the start of a word: the shell's home expansion.
      const next = line[i + 1];
      if (next !== undefined && next !== '/' && next !== ' ' && next !== '\t') {
        return { error: '"~user" needs a shell; write the path out' };
      }
      word += home;
      inWord = true;
      i++;
    } else if (c === '#' && !inWord) {
      return { error: '"#" starts a shell comment; quote it, or remove the comment' };
    } else if (SPECIAL.has(c)) {
      return {
        error: `"${c}" needs a shell; quote it, or write the command as an argv list (e.g. [sh, -c, "..."])`,
      };
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) argv.push(word);
  if (argv.length === 0) return { error: 'empty command' };
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]!)) {
    return {
      error:
        `"${argv[0]}" is a shell variable assignment; ` +
        `put variables under env: and start the command with the program`,
    };
  }
  return { argv };
}

/** Expand a leading `~` or `~/` against home (never `~user`). */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home}${path.slice(1)}`;
  return path;
}
