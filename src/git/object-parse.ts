// Pure parsing of tree, commit and tag objects into what gitfleet reads of
// them, as isomorphic-git returned them before gitfleet read objects itself
// (git/odb.ts): tree entries with isomorphic-git's spelling of modes, sorted
// by name; a commit's tree, parents, author, committer and normalized message.
import { type CommitData, commitMessage, type Signature } from './objects.js';

/**
 * One entry of a tree: `path` is its name in the tree; `mode` as isomorphic-git spells it ('040000', '100644',
 * '100755', '120000', '160000'), the only ones parseTree returns.
 */
export interface TreeEntry {
  mode: string;
  path: string;
  oid: string;
  type: 'tree' | 'blob' | 'commit';
}

/** A commit as read: what objects.ts writes. */
export type Commit = CommitData;

/**
 * A tree's entries, sorted by the bytes of their names (isomorphic-git's order, which callers list in).
 * A mode is made canonical as git does (canon_mode): any regular file is 100644, or 100755 when its owner may
 * run it (old gits wrote 100664), so an odd mode reads as the file it is rather than failing the folder.
 */
export function parseTree(buf: Buffer): TreeEntry[] {
  const entries: { entry: TreeEntry; key: Buffer }[] = [];
  let p = 0;
  while (p < buf.length) {
    const space = buf.indexOf(0x20, p);
    const nul = space < 0 ? -1 : buf.indexOf(0, space);
    if (nul < 0 || nul + 21 > buf.length) throw new Error(`tree entry at byte ${p} is cut short`);
    const modeText = buf.toString('latin1', p, space);
    if (!/^[0-7]{5,6}$/.test(modeText)) throw new Error(`tree entry at byte ${p}: mode "${modeText}" is not octal`);
    const key = buf.subarray(space + 1, nul);
    const path = key.toString('utf8');
    if (unsafeName(path)) throw new Error(`tree entry "${path}": not a name git allows in a tree`);
    entries.push({
      entry: { ...canonical(Number.parseInt(modeText, 8), path), path, oid: buf.toString('hex', nul + 1, nul + 21) },
      key,
    });
    p = nul + 21;
  }
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  return entries.map((e) => e.entry);
}

function canonical(mode: number, path: string): Pick<TreeEntry, 'mode' | 'type'> {
  switch (mode & 0o170000) {
    case 0o040000:
      return { mode: '040000', type: 'tree' };
    case 0o100000:
      return { mode: mode & 0o100 ? '100755' : '100644', type: 'blob' };
    case 0o120000:
      return { mode: '120000', type: 'blob' };
    case 0o160000:
      return { mode: '160000', type: 'commit' };
    default:
      throw new Error(`tree entry "${path}": unknown mode ${mode.toString(8)}`);
  }
}

/**
 * Names git refuses in a tree (its verify_path, as isomorphic-git checks them): a separator, "." or "..", or
 * ".git" as any filesystem may spell it (case, trailing dots and spaces, an NTFS short name or stream, HFS+
 * ignorable characters). Such a tree is read as damaged: its files are never taken as desired state.
 */
function unsafeName(name: string): boolean {
  const hfs = name.replace(/[\u200C-\u200F\u202A-\u202E\u206A-\u206F\uFEFF]/g, '');
  const ntfs = (hfs.split(':')[0] ?? '').toLowerCase().replace(/[. ]+$/, '');
  return (
    name === '' ||
    name.includes('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    hfs === '.' ||
    hfs === '..' ||
    ntfs === '.git' ||
    /^\.?git~[1-9]$/.test(ntfs)
  );
}

/**
 * Header lines, a continuation line (one starting with a space: gpgsig, mergetag) joined to the one before
 * by a newline; then the message after the first blank line.
 */
function split(text: string): { headers: string[]; message: string } {
  const blank = text.indexOf('\n\n');
  const headers: string[] = [];
  for (const line of (blank < 0 ? text : text.slice(0, blank)).split('\n')) {
    if (line.startsWith(' ') && headers.length) headers[headers.length - 1] += `\n${line.slice(1)}`;
    else headers.push(line);
  }
  const message = commitMessage(blank < 0 ? '' : text.slice(blank + 2));
  return { headers, message };
}

const key = (h: string) => h.slice(0, h.indexOf(' ') < 0 ? h.length : h.indexOf(' '));
const value = (h: string) => (h.indexOf(' ') < 0 ? '' : h.slice(h.indexOf(' ') + 1));

/**
 * A commit, read as git reads it: the first header is `tree`, the `parent` lines directly after it are the
 * parents, and of any later header the first one counts (a second author, or a `parent` after the author, is
 * kept by git but never read).
 */
export function parseCommit(buf: Buffer): Commit {
  const { headers, message } = split(buf.toString('utf8'));
  if (key(headers[0] ?? '') !== 'tree' || !/^[0-9a-f]{40}$/.test(value(headers[0]!))) {
    throw new Error('commit does not start with its tree');
  }
  const parent: string[] = [];
  let i = 1;
  for (; i < headers.length && key(headers[i]!) === 'parent'; i++) parent.push(value(headers[i]!));
  const first = new Map<string, string>();
  for (; i < headers.length; i++) if (!first.has(key(headers[i]!))) first.set(key(headers[i]!), value(headers[i]!));
  const author = first.get('author');
  const committer = first.get('committer');
  if (author === undefined || committer === undefined) throw new Error('commit has no author or committer');
  return { tree: value(headers[0]!), parent, author: person(author), committer: person(committer), message };
}

/** `Name <email> 1700000000 +0100` -> a Signature (timezoneOffset -60, as isomorphic-git and Date say it). */
function person(text: string): Signature {
  const m = /^(.*) <(.*)> (.*) (.*)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not "name <email> time zone"`);
  const zone = /^([+-])(\d\d)(\d\d)$/.exec(m[4]!);
  const minutes = zone ? (zone[1] === '+' ? 1 : -1) * (Number(zone[2]) * 60 + Number(zone[3])) : 0;
  return { name: m[1]!, email: m[2]!, timestamp: Number(m[3]), timezoneOffset: minutes === 0 ? 0 : -minutes };
}

/** What an annotated tag points at (the first `object` header, as git reads it). */
export function tagTarget(buf: Buffer): string {
  const { headers } = split(buf.toString('utf8'));
  const object = headers.find((h) => key(h) === 'object');
  if (!object || !/^[0-9a-f]{40}$/.test(value(object))) throw new Error('tag names no object');
  return value(object);
}
