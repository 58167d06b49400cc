// Loose git objects, written so that a SIGKILL or a power cut at any instant
// leaves the repository valid. isomorphic-git writes an object in place and
// never writes a file that already exists, so a kill mid-write leaves an empty
// or truncated object that every later commit reuses. Here an object goes to a
// temporary file beside its final name, is fsynced, renamed into place and the
// directory fsynced; an existing file is reused only after it inflates to the
// expected id, and is replaced (atomically, by rename) when it does not.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { TerminalError } from '../errors.js';

export type ObjectType = 'blob' | 'tree' | 'commit';

/** One tree entry: mode as isomorphic-git reports it ('040000', '100644', '100755', '120000', '160000'). */
export interface TreeItem {
  mode: string;
  path: string;
  oid: string;
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Minutes, with the sign of `Date#getTimezoneOffset` (as isomorphic-git): -60 is +0100. */
  timezoneOffset: number;
}

export interface CommitData {
  tree: string;
  parent: readonly string[];
  author: Signature;
  committer: Signature;
  message: string;
}

/** `<type> <length>\0<content>`: what git hashes and deflates. */
function wrapObject(type: ObjectType, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${type} ${content.length}\0`, 'utf8'), content]);
}

/** The id git gives an object: SHA-1 of its header and content (hashed in two parts: no copy of the content). */
export function objectId(type: ObjectType | 'tag', content: Uint8Array): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

/** isomorphic-git's mode spelling -> the one written in a tree ("40000": git writes no leading zero). */
const MODES: Record<string, string> = {
  '040000': '40000',
  '40000': '40000',
  '100644': '100644',
  '100755': '100755',
  '120000': '120000',
  '160000': '160000',
};

/**
 * A tree's bytes. git orders entries by the bytes of their names, a folder's
 * name compared as if it ended in "/" (so "a.b" < "a/" for a folder "a", but
 * "a" < "a.b" for a file "a"); any other order is a tree git fsck rejects.
 */
export function treeContent(entries: readonly TreeItem[]): Buffer {
  const seen = new Set<string>();
  const items = entries.map((e) => {
    const mode = MODES[e.mode];
    if (!mode) throw new Error(`tree entry "${e.path}": unknown mode ${e.mode}`);
    if (!e.path || e.path === '.' || e.path === '..' || /[/\0]/.test(e.path)) {
      throw new Error(`tree entry name "${e.path}" is not a single path component`);
    }
    if (!/^[0-9a-f]{40}$/.test(e.oid)) throw new Error(`tree entry "${e.path}": bad object id ${e.oid}`);
    if (seen.has(e.path)) throw new Error(`tree entry "${e.path}" appears twice`);
    seen.add(e.path);
    const name = Buffer.from(e.path, 'utf8');
    return { mode, name, key: mode === '40000' ? Buffer.concat([name, Buffer.from('/')]) : name, oid: e.oid };
  });
  items.sort((a, b) => Buffer.compare(a.key, b.key));
  const NUL = Buffer.from([0]);
  return Buffer.concat(items.flatMap((i) => [Buffer.from(`${i.mode} `), i.name, NUL, Buffer.from(i.oid, 'hex')]));
}

/** A commit's bytes, as isomorphic-git's writeCommit renders them (no signature). */
export function commitContent(c: CommitData): Buffer {
  const person = (s: Signature) => {
    // These would end the header line or the email early: a commit git fsck rejects.
    if (/[<>\n\0]/.test(s.name + s.email)) {
      const who = JSON.stringify(`${s.name} <${s.email}>`);
      throw new TerminalError(`fleet.yaml git.author ${who}: contains <, >, a newline or NUL; allowed: name and email`);
    }
    return `${s.name} <${s.email}> ${s.timestamp} ${timezone(s.timezoneOffset)}`;
  };
  const message = commitMessage(c.message);
  const headers = [`tree ${c.tree}`, ...c.parent.map((p) => `parent ${p}`)];
  headers.push(`author ${person(c.author)}`, `committer ${person(c.committer)}`);
  return Buffer.from(`${headers.join('\n')}\n\n${message}`, 'utf8');
}

/** isomorphic-git's commit message: no CR, no leading newlines, exactly one newline at the end. */
export function commitMessage(text: string): string {
  return `${text.replace(/\r/g, '').replace(/^\n+/, '').replace(/\n+$/, '')}\n`;
}

function timezone(offset: number): string {
  const minutes = Math.abs(offset);
  const hhmm = `${String(Math.floor(minutes / 60)).padStart(2, '0')}${String(minutes % 60).padStart(2, '0')}`;
  return `${offset > 0 ? '-' : '+'}${hhmm}`;
}

export function looseObjectPath(gitdir: string, oid: string): string {
  return path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
}

/**
 * Whether the loose object file for `oid` exists and inflates to exactly that
 * object. False for a missing, empty, truncated or otherwise damaged file.
 */
export async function looseObjectValid(gitdir: string, oid: string): Promise<boolean> {
  let data: Buffer;
  try {
    data = await readFile(looseObjectPath(gitdir, oid));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    return sha1(inflateSync(data)) === oid;
  } catch {
    return false;
  }
}

/**
 * Write one object as a loose file and return its id. A valid loose copy is
 * reused; a damaged one is replaced. (An object that also sits in a pack
 * gets a loose copy too: harmless, git prefers neither, `git gc` drops it.)
 */
export async function writeObject(gitdir: string, type: ObjectType, content: Uint8Array): Promise<string> {
  const wrapped = wrapObject(type, content);
  const oid = sha1(wrapped);
  if (await looseObjectValid(gitdir, oid)) return oid;
  const file = looseObjectPath(gitdir, oid);
  const dir = path.dirname(file);
  await ensureDir(dir);
  // git's own prefix: `git prune` removes leftovers of a killed writer.
  const tmp = path.join(dir, `tmp_obj_${process.pid}_${randomBytes(6).toString('hex')}`);
  try {
    const h = await open(tmp, 'wx', 0o444);
    try {
      await h.writeFile(deflateSync(wrapped));
      await h.sync();
    } finally {
      await h.close();
    }
    // rename, not link: it also replaces a damaged file in one step.
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
  return oid;
}

/** Make the fan-out folder; when it is new, make its entry durable too. */
async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  await fsyncDir(path.dirname(dir));
}

/** fsync a directory, so a rename or create in it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

function sha1(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}
