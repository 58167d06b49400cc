// Reading a repository's objects by id, as git stores them: a loose file
// (objects/xx/yyyy..., zlib) or an entry of a pack (objects/pack/*.idx says
// where in the .pack it starts; a delta is applied to its base, in the same
// pack or by id anywhere). git/pack.ts decodes, this module reads the bytes.
//
// - Synchronous on purpose: an object is a few hundred bytes to a few KB, and
//   with fs/promises each open, stat, read and close is a thread-pool round
//   trip that costs more than the read (200 small files: ~6 ms sync, ~90 ms
//   awaited one by one). The daemon's event loop waits microseconds.
// - Only the bytes needed: a pack entry is read at its offset, with a window
//   that zlib's worst case covers; a stream cut short by the window fails to
//   inflate (never inflates to less), and is then read up to the next entry.
// - Every object is checked against its id (SHA-1 of `<type> <length>\0` and
//   the content): native SHA-1 of a roster of 1000 agents (~60 KB) takes
//   tens of microseconds, and a damaged pack entry (which isomorphic-git
//   caught only by hashing the whole pack) then fails by name instead of
//   being read as desired state. Each object is hashed once: it is cached.
// - A pack added while the process runs (a `git gc` or a push between two
//   reads) is found by looking at the pack folder again on a miss; a pack
//   removed by `git repack` is dropped the same way.
// - A bounded cache of objects (and of trees and commits parsed), most
//   recently used kept: one run reads the same root tree and commits several
//   times, and a long walk (desiredRevision) must not grow without bound.
// - objects/info/alternates is not followed (isomorphic-git did not either,
//   and a fleet repository is not a `git clone --shared`): its objects read as
//   missing, a TerminalError naming them.
import fs from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { TransientError } from '../errors.js';
import { type Commit, parseCommit, parseTree, tagTarget, type TreeEntry } from './object-parse.js';
import { objectId } from './objects.js';
import {
  applyDelta,
  deflateBound,
  EMPTY_TREE,
  findInIndex,
  idsWithPrefix,
  MAX_ENTRY_HEADER,
  type ObjectType,
  offsetAt,
  type PackIndex,
  parseEntryHeader,
  parseIndex,
  unwrapLoose,
} from './pack.js';

/** An object that is in neither a loose file nor a pack. */
export class ObjectNotFound extends Error {
  constructor(readonly oid: string) {
    super(`object ${oid} not found`);
  }
}

export interface GitObject {
  type: ObjectType;
  content: Buffer;
}

interface Cached extends GitObject {
  /** The tree's entries or the commit, parsed once. */
  parsed?: TreeEntry[] | Commit;
  weight: number;
}

interface Pack {
  name: string;
  idx: PackIndex;
  /** The .pack file's size, once its header and checksum were checked against the index. */
  size: number | null;
  /**
   * The .pack file's inode, size and time when checked: a pack rewritten under the same name (JGit names packs by
   * their objects, not their bytes) must not be read at the offsets its old index gave.
   */
  stamp: string | null;
  /** Entry offsets in pack order: where an entry ends, when a read window was too short (made when needed). */
  offsets: Float64Array | null;
}

const OID = /^[0-9a-f]{40}$/;
/** How deep a delta chain may go (git's pack.depth tops out at 4095); deeper is a loop in a damaged pack. */
const MAX_CHAIN = 5000;

export class ObjectDb {
  private packs: Pack[] | null = null;
  private readonly cache = new Map<string, Cached>();
  private weight = 0;
  /** ref-delta bases being read: one met again is a loop (and their number, the chain's depth). */
  private readonly resolving = new Set<string>();

  constructor(
    readonly gitdir: string,
    private readonly limit = { bytes: 32 * 1024 * 1024, entries: 8192 },
  ) {}

  /** What the cache holds now (tests check its bounds). */
  get cached(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.weight };
  }

  private get objects(): string {
    return path.join(this.gitdir, 'objects');
  }

  /** The object `oid` (a full lowercase id); ObjectNotFound when absent, an Error naming the damage otherwise. */
  read(oid: string): GitObject {
    return this.entry(oid);
  }

  /** A tree's entries (of a commit: its tree; of a tag: what it points at). A copy: callers may sort it. */
  tree(oid: string): TreeEntry[] {
    const e = this.peel(oid, 'tree');
    e.parsed ??= parseTree(e.content);
    return [...(e.parsed as TreeEntry[])];
  }

  /** A commit (of a tag: what it points at), parsed. Shared: callers must not change it. */
  commit(oid: string): Commit {
    const e = this.peel(oid, 'commit');
    e.parsed ??= parseCommit(e.content);
    return e.parsed as Commit;
  }

  /** A blob's bytes (of a tag: what it points at). */
  blob(oid: string): Buffer {
    return this.peel(oid, 'blob').content;
  }

  private peel(oid: string, want: ObjectType): Cached {
    let e = this.entry(oid);
    for (let i = 0; e.type !== want; i++) {
      if (e.type === 'tag' && i < 10) e = this.entry(tagTarget(e.content));
      else if (e.type === 'commit' && want === 'tree') {
        e.parsed ??= parseCommit(e.content);
        e = this.entry((e.parsed as Commit).tree);
      } else throw new Error(`object ${oid} is a ${e.type}, not a ${want}`);
    }
    return e;
  }

  /** The ids that start with `prefix` (4 to 40 hex digits): none, one, or (when several) two of them. */
  expand(prefix: string): string[] {
    const found = new Set<string>();
    const dir = path.join(this.objects, prefix.slice(0, 2));
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      // no loose objects under that fan-out folder
    }
    for (const name of names) {
      const oid = `${prefix.slice(0, 2)}${name}`;
      if (OID.test(oid) && oid.startsWith(prefix)) found.add(oid);
    }
    const packed = () => {
      for (const pack of this.packList()) for (const oid of idsWithPrefix(pack.idx, prefix, 2)) found.add(oid);
    };
    packed();
    // As load(): a pack written since the folder was listed may hold it.
    if (found.size === 0 && this.rescan()) packed();
    return [...found].sort().slice(0, 2);
  }

  private entry(oid: string): Cached {
    // First: the cache also holds delta bases by pack position, keys no object id can spell.
    if (!OID.test(oid)) throw new Error(`"${oid}" is not an object id`);
    const hit = this.cache.get(oid);
    if (hit) {
      // Most recently used last: the first in the map is the one evicted.
      this.cache.delete(oid);
      this.cache.set(oid, hit);
      return hit;
    }
    const obj = oid === EMPTY_TREE ? { type: 'tree' as const, content: Buffer.alloc(0) } : this.load(oid);
    const sha = objectId(obj.type, obj.content);
    if (sha !== oid) throw new Error(`object ${oid}: its content hashes to ${sha}`);
    return this.remember(oid, obj);
  }

  private remember(key: string, obj: GitObject): Cached {
    // Parsed trees take about twice their bytes again; a small constant for the map entry and the object.
    const cached: Cached = { type: obj.type, content: obj.content, weight: obj.content.length * 3 + 100 };
    if (cached.weight > this.limit.bytes / 4) return cached;
    this.cache.set(key, cached);
    this.weight += cached.weight;
    while (this.weight > this.limit.bytes || this.cache.size > this.limit.entries) {
      const [first, old] = this.cache.entries().next().value as [string, Cached];
      this.cache.delete(first);
      this.weight -= old.weight;
    }
    return cached;
  }

  private load(oid: string): GitObject {
    const loose = this.readLoose(oid);
    if (loose) return loose;
    const id = Buffer.from(oid, 'hex');
    let vanished = false;
    for (let pass = 0; pass < 2; pass++) {
      // The second pass only when the pack folder changed since it was last listed.
      if (pass === 1 && !this.rescan()) break;
      for (const pack of this.packList()) {
        const i = findInIndex(pack.idx, id);
        if (i < 0) continue;
        try {
          return this.readPacked(pack, offsetAt(pack.idx, i), oid);
        } catch (e) {
          // Removed by a `git repack` since the folder was listed (git deletes the .pack before the .idx): another
          // pack listed, or the one that replaced it, holds the object.
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          vanished = true;
        }
      }
    }
    // Its pack went mid-read and the one replacing it is not listed yet (a `git gc` still running): not damage.
    if (vanished) throw new TransientError(`object ${oid}: its pack was removed while gitfleet read it (git gc?)`);
    throw new ObjectNotFound(oid);
  }

  private readLoose(oid: string): GitObject | null {
    let data: Buffer;
    try {
      data = fs.readFileSync(path.join(this.objects, oid.slice(0, 2), oid.slice(2)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return unwrapLoose(inflateSync(data));
  }

  private packList(): Pack[] {
    if (!this.packs) this.rescan();
    return this.packs!;
  }

  /** List the pack folder again (indexes already read are kept); whether the set of packs changed. */
  private rescan(): boolean {
    const dir = path.join(this.objects, 'pack');
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.idx'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const before = this.packs ?? [];
    const known = new Map(before.map((p) => [p.name, p]));
    const packs: Pack[] = [];
    for (const n of names.sort()) {
      const name = n.slice(0, -'.idx'.length);
      const old = known.get(name);
      if (old) {
        packs.push(old);
        continue;
      }
      let buf: Buffer;
      try {
        buf = fs.readFileSync(path.join(dir, n));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while listed
        throw e;
      }
      try {
        packs.push({ name, idx: parseIndex(buf), size: null, stamp: null, offsets: null });
      } catch (e) {
        throw new Error(`${path.join(dir, n)}: ${(e as Error).message}`);
      }
    }
    this.packs = packs;
    return packs.length !== before.length || packs.some((p, i) => p !== before[i]);
  }

  private readPacked(pack: Pack, offset: number, oid: string): GitObject {
    const file = path.join(this.objects, 'pack', `${pack.name}.pack`);
    const fd = fs.openSync(file, 'r');
    try {
      const st = fs.fstatSync(fd);
      const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (pack.stamp !== stamp) {
        if (pack.stamp !== null) {
          // Its index and the offsets read from it are the old pack's: list the folder (and read indexes) anew.
          this.packs = null;
          throw new TransientError(`${file} was rewritten while gitfleet read it; will read it again`);
        }
        checkPack(fd, pack, file, st.size);
        pack.size = st.size;
        pack.stamp = stamp;
      }
      return this.packEntry(fd, pack, offset, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code || e instanceof TransientError) throw e;
      throw new Error(`${file}, entry of ${oid} at ${offset}: ${(e as Error).message}`);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The object the entry at `offset` makes, its delta chain applied (bases kept in the cache by position). */
  private packEntry(fd: number, pack: Pack, offset: number, depth: number): GitObject {
    const key = `${pack.name}@${pack.stamp}@${offset}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    if (depth > MAX_CHAIN) throw new Error(`delta chain longer than ${MAX_CHAIN}`);
    const end = pack.size! - 20;
    if (offset < 12 || offset >= end) throw new Error(`entry offset ${offset} is outside the pack`);
    // One read for most entries: the header and as much data as zlib's worst case for a small object.
    let window = readAt(fd, offset, Math.min(end - offset, MAX_ENTRY_HEADER + deflateBound(4096)));
    const h = parseEntryHeader(window, offset);
    const want = h.length + deflateBound(h.size);
    if (want > window.length && window.length < end - offset) window = readAt(fd, offset, Math.min(end - offset, want));
    let data: Buffer;
    try {
      data = inflateSync(window.subarray(h.length), { maxOutputLength: Math.max(1, h.size) });
    } catch {
      // Not whole in the window (a stream zlib's bound does not cover): read up to where the next entry starts.
      const next = nextOffset(pack, offset, end);
      if (next <= offset + window.length) throw new Error('its zlib data does not inflate');
      try {
        data = inflateSync(readAt(fd, offset + h.length, next - offset - h.length), {
          maxOutputLength: Math.max(1, h.size),
        });
      } catch (e) {
        throw new Error(`its zlib data does not inflate (${(e as Error).message})`);
      }
    }
    if (data.length !== h.size) throw new Error(`inflates to ${data.length} bytes, its header says ${h.size}`);
    if (h.type !== 'ofs-delta' && h.type !== 'ref-delta') return { type: h.type, content: data };
    const base =
      h.baseOffset !== undefined ? this.packEntry(fd, pack, h.baseOffset, depth + 1) : this.refBase(h.baseId!);
    const obj = { type: base.type, content: applyDelta(base.content, data) };
    // Kept by position: several deltas often share a base (the versions of one roster).
    return depth > 0 ? this.remember(key, obj) : obj;
  }

  private refBase(oid: string): GitObject {
    if (this.resolving.has(oid) || this.resolving.size > MAX_CHAIN)
      throw new Error(`delta base ${oid} is its own base`);
    this.resolving.add(oid);
    try {
      return this.entry(oid);
    } finally {
      this.resolving.delete(oid);
    }
  }
}

/** That a pack's header and trailing checksum match its index (the same pack, whole). */
function checkPack(fd: number, pack: Pack, file: string, size: number): void {
  const head = readAt(fd, 0, 12);
  const tail = readAt(fd, Math.max(0, size - 20), 20);
  const version = head.length === 12 ? head.readUInt32BE(4) : 0;
  if (head.toString('latin1', 0, 4) !== 'PACK' || (version !== 2 && version !== 3)) {
    throw new Error(`${file} is not a pack (version 2 or 3)`);
  }
  if (head.readUInt32BE(8) !== pack.idx.count || !tail.equals(pack.idx.packChecksum)) {
    throw new Error(`${file} does not match its index`);
  }
}

/** Where the entry after the one at `offset` starts (or the pack's end), from the index's offsets sorted. */
function nextOffset(pack: Pack, offset: number, end: number): number {
  if (!pack.offsets) {
    const offsets = new Float64Array(pack.idx.count);
    for (let i = 0; i < offsets.length; i++) offsets[i] = offsetAt(pack.idx, i);
    pack.offsets = offsets.sort();
  }
  const o = pack.offsets;
  let lo = 0;
  let hi = o.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (o[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo < o.length ? o[lo]! : end;
}

/** Up to `length` bytes at `position` (fewer only at the end of the file). */
function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let n = 0;
  while (n < length) {
    const got = fs.readSync(fd, buf, n, length - n, position + n);
    if (got === 0) break;
    n += got;
  }
  return n === length ? buf : buf.subarray(0, n);
}
