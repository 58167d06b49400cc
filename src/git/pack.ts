// Pure decoding of git's object storage formats (git/odb.ts does the I/O): a
// loose object's header, a pack index (.idx version 2), a pack entry's header
// and a delta applied to its base. Every length and offset read from a file is
// checked against the bytes there: a damaged file is an Error saying what is
// wrong, never an object made of the wrong bytes.

export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

/** The empty tree: git (and isomorphic-git) answer it without reading the object store. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** `<type> <length>\0<content>` (an inflated loose object) -> its type and content. */
export function unwrapLoose(raw: Buffer): { type: ObjectType; content: Buffer } {
  const nul = raw.indexOf(0);
  const header = nul < 0 ? '' : raw.subarray(0, Math.min(nul, 32)).toString('latin1');
  const m = /^(blob|tree|commit|tag) (0|[1-9][0-9]*)$/.exec(header);
  if (!m) throw new Error('loose object header is not "<type> <length>"');
  const content = raw.subarray(nul + 1);
  if (Number(m[2]) !== content.length) {
    throw new Error(`loose object says ${m[2]} bytes but holds ${content.length}`);
  }
  return { type: m[1] as ObjectType, content };
}

/** A pack's index: where each object it holds starts in the .pack file. */
export interface PackIndex {
  count: number;
  /** The .idx file as read (version 2: fanout, sorted ids, CRCs, 32-bit offsets, 64-bit offsets, checksums). */
  buf: Buffer;
  /** The .pack file's own checksum (its last 20 bytes), as the index records it. */
  packChecksum: Buffer;
}

const IDX_MAGIC = 0xff744f63; // "\377tOc"
const FANOUT = 8;
const IDS = FANOUT + 256 * 4;

/** Check an .idx file's layout (version 2: what git has written by default since 1.5.2, and isomorphic-git too). */
export function parseIndex(buf: Buffer): PackIndex {
  if (buf.length < IDS + 40 || buf.readUInt32BE(0) !== IDX_MAGIC || buf.readUInt32BE(4) !== 2) {
    throw new Error('not a version 2 pack index');
  }
  let previous = 0;
  for (let i = 0; i < 256; i++) {
    const n = buf.readUInt32BE(FANOUT + i * 4);
    if (n < previous) throw new Error('pack index fanout is not sorted');
    previous = n;
  }
  const count = previous;
  // ids, CRCs and 32-bit offsets, then at least the two checksums (the 64-bit table may sit between).
  const fixed = IDS + count * 28;
  if (buf.length < fixed + 40 || (buf.length - fixed - 40) % 8 !== 0) {
    throw new Error(`pack index of ${count} objects has ${buf.length} bytes`);
  }
  return { count, buf, packChecksum: buf.subarray(buf.length - 40, buf.length - 20) };
}

/** The position of `id` (20 bytes) in the index's sorted ids, or -1. */
export function findInIndex(idx: PackIndex, id: Buffer): number {
  const { buf } = idx;
  let lo = id[0]! === 0 ? 0 : buf.readUInt32BE(FANOUT + (id[0]! - 1) * 4);
  let hi = buf.readUInt32BE(FANOUT + id[0]! * 4);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = IDS + mid * 20;
    const c = buf.compare(id, 0, 20, at, at + 20);
    if (c === 0) return mid;
    if (c > 0) hi = mid;
    else lo = mid + 1;
  }
  return -1;
}

/** The object id at position `i`, in hex. */
function idAt(idx: PackIndex, i: number): string {
  return idx.buf.toString('hex', IDS + i * 20, IDS + i * 20 + 20);
}

/** Where the object at position `i` starts in the .pack file. */
export function offsetAt(idx: PackIndex, i: number): number {
  const { buf, count } = idx;
  const small = buf.readUInt32BE(IDS + count * 24 + i * 4);
  if (!(small & 0x80000000)) return small;
  // A pack over 2 GiB: the entry is the position in the table of 64-bit offsets that follows.
  const at = IDS + count * 28 + (small & 0x7fffffff) * 8;
  if (at + 8 > buf.length - 40)
    throw new Error(`pack index entry ${i}: 64-bit offset ${small & 0x7fffffff} is missing`);
  const big = buf.readBigUInt64BE(at);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`pack index entry ${i}: offset ${big} is too large`);
  return Number(big);
}

/** The ids in the index that start with `prefix` (lowercase hex, 2 to 40 digits), at most `limit` of them. */
export function idsWithPrefix(idx: PackIndex, prefix: string, limit: number): string[] {
  const first = Number.parseInt(prefix.slice(0, 2), 16);
  let lo = first === 0 ? 0 : idx.buf.readUInt32BE(FANOUT + (first - 1) * 4);
  let hi = idx.buf.readUInt32BE(FANOUT + first * 4);
  // The first id not below the prefix (padded with zeros), then those that still start with it.
  const low = Buffer.from(prefix.padEnd(40, '0'), 'hex');
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // >= 0: an id equal to the padded prefix (a full 40-digit id, always) is the first one wanted, not skipped.
    if (idx.buf.compare(low, 0, 20, IDS + mid * 20, IDS + mid * 20 + 20) >= 0) hi = mid;
    else lo = mid + 1;
  }
  const out: string[] = [];
  for (let i = lo; i < idx.count && out.length < limit; i++) {
    const id = idAt(idx, i);
    if (!id.startsWith(prefix)) break;
    out.push(id);
  }
  return out;
}

/** The pack entry types (3 bits of its first byte); 5 is reserved. */
const ENTRY_TYPES: Record<number, ObjectType | 'ofs-delta' | 'ref-delta'> = {
  1: 'commit',
  2: 'tree',
  3: 'blob',
  4: 'tag',
  6: 'ofs-delta',
  7: 'ref-delta',
};

export interface EntryHeader {
  type: ObjectType | 'ofs-delta' | 'ref-delta';
  /** The inflated size: the object's, or for a delta the delta's own. */
  size: number;
  /** Bytes from the entry's start to its zlib data. */
  length: number;
  /** ofs-delta: where its base starts in the same pack. */
  baseOffset?: number;
  /** ref-delta: its base's id. */
  baseId?: string;
}

/** The most bytes an entry header takes: a size varint of a 2^53 size, a base offset varint, or a 20-byte id. */
export const MAX_ENTRY_HEADER = 10 + 20;

/** The header of the entry at pack offset `offset`, from `buf` (the pack's bytes from that offset). */
export function parseEntryHeader(buf: Buffer, offset: number): EntryHeader {
  let p = 0;
  const byte = () => {
    if (p >= buf.length) throw new Error(`pack entry at ${offset}: header runs past the end of the pack`);
    return buf[p++]!;
  };
  let c = byte();
  const type = ENTRY_TYPES[(c >> 4) & 7];
  if (!type) throw new Error(`pack entry at ${offset}: unknown type ${(c >> 4) & 7}`);
  let size = c & 15;
  for (let scale = 16; c & 0x80; scale *= 128) {
    c = byte();
    size += (c & 0x7f) * scale;
    if (size > Number.MAX_SAFE_INTEGER) throw new Error(`pack entry at ${offset}: size too large`);
  }
  if (type === 'ofs-delta') {
    // git's offset encoding: each continuation adds one before shifting, so no two encodings mean the same offset.
    c = byte();
    let back = c & 0x7f;
    while (c & 0x80) {
      c = byte();
      back = (back + 1) * 128 + (c & 0x7f);
      if (back > offset) break;
    }
    if (back <= 0 || back > offset)
      throw new Error(`pack entry at ${offset}: base offset ${back} points outside the pack`);
    return { type, size, length: p, baseOffset: offset - back };
  }
  if (type === 'ref-delta') {
    if (p + 20 > buf.length) throw new Error(`pack entry at ${offset}: base id runs past the end of the pack`);
    return { type, size, length: p + 20, baseId: buf.toString('hex', p, p + 20) };
  }
  return { type, size, length: p };
}

/**
 * How many bytes zlib may need for `size` bytes: deflate's most conservative bound (any memLevel, stored
 * blocks included) plus the zlib wrapper. A window this long holds a whole entry written by zlib; one that is
 * not whole makes inflating fail (a deflate stream ends with its final block and an Adler-32), never return
 * less, so the caller then reads up to the next entry instead.
 */
export function deflateBound(size: number): number {
  return size + Math.ceil(size / 8) + Math.ceil(size / 64) + 5 + 6 + 64;
}

/** `base` with `delta` (git's delta format: two sizes, then copy and insert instructions) applied. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let p = 0;
  const varint = () => {
    let n = 0;
    for (let scale = 1; ; scale *= 128) {
      if (p >= delta.length) throw new Error('delta ends inside its header');
      const c = delta[p++]!;
      n += (c & 0x7f) * scale;
      if (!(c & 0x80)) return n;
    }
  };
  const baseSize = varint();
  if (baseSize !== base.length)
    throw new Error(`delta expects a base of ${baseSize} bytes, the base has ${base.length}`);
  const size = varint();
  const out = Buffer.allocUnsafe(size);
  let q = 0;
  while (p < delta.length) {
    const op = delta[p++]!;
    if (op & 0x80) {
      // Copy from the base: which offset and size bytes follow is told by the low 7 bits.
      let from = 0;
      let n = 0;
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) from += (delta[p++] ?? Number.NaN) * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++) if (op & (16 << bit)) n += (delta[p++] ?? Number.NaN) * 2 ** (8 * bit);
      if (n === 0) n = 0x10000;
      if (!(from + n <= base.length) || q + n > size) throw new Error('delta copies outside its base or result');
      base.copy(out, q, from, from + n);
      q += n;
    } else if (op) {
      if (p + op > delta.length || q + op > size) throw new Error('delta inserts past its end or its result');
      delta.copy(out, q, p, p + op);
      p += op;
      q += op;
    } else throw new Error('delta holds the reserved instruction 0');
  }
  if (q !== size) throw new Error(`delta makes ${q} bytes, its header says ${size}`);
  return out;
}
