// Reading refs as git stores them: a loose file under the gitdir (an id, or
// `ref: <name>` for a symbolic ref such as HEAD), else a line of
// `packed-refs`; a loose ref wins over a packed one. And deleting one as git
// does, under git's lock files. Synchronous, like git/odb.ts: each ref is a
// tiny file, and a thread-pool round trip per open, read and close cost more
// than the reads themselves.
import fs from 'node:fs';
import path from 'node:path';
import { TerminalError, TransientError } from '../errors.js';

const OID = /^[0-9a-f]{40}$/;

/** Files at the gitdir's top that are never refs, whatever a ref name says (as isomorphic-git). */
const NOT_REFS = new Set(['config', 'description', 'index', 'shallow', 'commondir']);

/** `packed-refs` -> name -> id. Comments (`# pack-refs with: ...`) and peeled lines (`^<id>`) are skipped. */
export function parsePackedRefs(text: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    const oid = line.slice(0, space);
    if (space > 0 && OID.test(oid)) refs.set(line.slice(space + 1).trimEnd(), oid);
  }
  return refs;
}

/** `packed-refs` without `name` (and the peeled line after it), or null when it does not hold it. */
export function withoutPackedRef(text: string, name: string): string | null {
  const lines = text.split('\n');
  // trimEnd as parsePackedRefs: a line it reads as `name` (CRLF, trailing blanks) is the line removed.
  const at = lines.findIndex(
    (l) => !l.startsWith('#') && !l.startsWith('^') && l.slice(l.indexOf(' ') + 1).trimEnd() === name,
  );
  if (at < 0) return null;
  lines.splice(at, lines[at + 1]?.startsWith('^') ? 2 : 1);
  return lines.join('\n');
}

/** The refs of one repository; `packed-refs` is read again only when the file changed. */
export class RefStore {
  private packed: { key: string; refs: Map<string, string> } | null = null;

  constructor(readonly gitdir: string) {}

  /**
   * What a full ref name (`HEAD`, `refs/...`) points at, following symbolic refs; null when it does not exist
   * (an unborn branch included). A ref file holding something else is a TerminalError: never "no branch".
   */
  resolve(name: string): string | null {
    let ref = name;
    for (let depth = 0; depth < 6; depth++) {
      const text = this.read(ref);
      if (text === null) return null;
      if (OID.test(text)) return text;
      if (!text.startsWith('ref: ')) {
        throw new TerminalError(
          `${path.join(this.gitdir, ref)} holds ${JSON.stringify(text.slice(0, 60))}, ` +
            'not an object id or "ref: <name>": the repository is damaged; run git fsck',
        );
      }
      ref = text.slice('ref: '.length).trim();
    }
    throw new TerminalError(`${name} in ${this.gitdir}: symbolic refs nest more than 5 deep (a loop?)`);
  }

  /** A loose ref's trimmed text, else its packed id; null when neither holds it. */
  private read(ref: string): string | null {
    if (NOT_REFS.has(ref) || ref.split('/').some((p) => p === '' || p === '.' || p === '..')) return null;
    let text = '';
    try {
      text = fs.readFileSync(path.join(this.gitdir, ref), 'utf8').trim();
    } catch (e) {
      if (!['ENOENT', 'ENOTDIR', 'EISDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
    // An empty loose file (a writer that does not rename into place, killed) is passed over, as isomorphic-git did.
    return text || this.packedRefs().get(ref) || null;
  }

  /**
   * The refs under `prefix` (ending in "/"): name below it -> id, loose and packed (loose wins), sorted by
   * name. Lock files (`<ref>.lock`, a writer's) are not refs.
   */
  under(prefix: string): Map<string, string> {
    const names = new Set<string>();
    const walk = (dir: string, rel: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // none there (or a file where a folder was expected): no loose refs
      }
      for (const e of entries) {
        if (e.isDirectory()) walk(path.join(dir, e.name), `${rel}${e.name}/`);
        else if (!e.name.endsWith('.lock')) names.add(`${rel}${e.name}`);
      }
    };
    walk(path.join(this.gitdir, prefix), '');
    for (const name of this.packedRefs().keys()) if (name.startsWith(prefix)) names.add(name.slice(prefix.length));
    const out = new Map<string, string>();
    for (const name of [...names].sort()) {
      const oid = this.resolveQuietly(`${prefix}${name}`);
      if (oid) out.set(name, oid);
    }
    return out;
  }

  private resolveQuietly(ref: string): string | null {
    try {
      return this.resolve(ref);
    } catch {
      return null; // a damaged ref among many: the others are still listed
    }
  }

  private packedRefs(): Map<string, string> {
    const file = path.join(this.gitdir, 'packed-refs');
    // git replaces packed-refs by a rename: a new inode, size or time means it changed since it was parsed.
    const st = fs.statSync(file, { throwIfNoEntry: false, bigint: true });
    const key = st ? `${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}` : '-';
    if (this.packed?.key !== key) {
      let text = '';
      try {
        text = st ? fs.readFileSync(file, 'utf8') : '';
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      this.packed = { key, refs: parsePackedRefs(text) };
    }
    return this.packed.refs;
  }

  /**
   * Delete `ref` as git does: under `<ref>.lock`, its line leaves `packed-refs` (rewritten under
   * `packed-refs.lock`, renamed into place) before its loose file goes, so its older packed id never shows
   * through. A ref that does not exist is no error.
   */
  async delete(ref: string): Promise<void> {
    const refFile = path.join(this.gitdir, ref);
    // Nothing to delete: no lock taken, no folder made for it.
    if (!fs.existsSync(refFile) && !this.packedRefs().has(ref)) return;
    fs.mkdirSync(path.dirname(refFile), { recursive: true });
    const lock = await takeLock(`${refFile}.lock`);
    if (!lock) throw new TransientError(`${ref} is locked (${ref}.lock); will retry next run`);
    try {
      const packedFile = path.join(this.gitdir, 'packed-refs');
      if (this.packedRefs().has(ref)) {
        const packedLock = await takeLock(`${packedFile}.lock`);
        if (!packedLock) throw new TransientError(`${packedFile}.lock exists; ${ref} will be deleted next run`);
        try {
          const rest = withoutPackedRef(fs.readFileSync(packedFile, 'utf8'), ref);
          if (rest !== null) {
            fs.writeSync(packedLock, rest);
            fs.fsyncSync(packedLock);
            fs.renameSync(`${packedFile}.lock`, packedFile);
          } else fs.rmSync(`${packedFile}.lock`, { force: true });
        } catch (e) {
          fs.rmSync(`${packedFile}.lock`, { force: true });
          throw e;
        } finally {
          fs.closeSync(packedLock);
        }
      }
      fs.rmSync(refFile, { force: true });
    } finally {
      fs.closeSync(lock);
      fs.rmSync(`${refFile}.lock`, { force: true });
    }
  }
}

/** Create a lock file exclusively; while another holds it, retry for half a second; null if it stays. */
async function takeLock(file: string): Promise<number | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return fs.openSync(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return null;
}
