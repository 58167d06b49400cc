// atomicFs: what isomorphic-git writes into a private clone appears whole. Checked against node's own
// writeFile, which a reader polling meanwhile catches half-written (it writes in chunks, yielding between them).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { atomicFs } from '../../src/git/atomic-fs.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every size `file` had while `write` ran (0: absent), polled between the writer's chunks. */
async function sizesSeen(file: string, write: () => Promise<void>): Promise<Set<number>> {
  const seen = new Set<number>();
  let done = false;
  const poll = (async () => {
    while (!done) {
      try {
        seen.add(statSync(file).size);
      } catch {
        seen.add(0);
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  await write();
  done = true;
  await poll;
  return seen;
}

describe('atomicFs', () => {
  it('a file written is absent or whole to a reader, never torn; no temp file stays behind', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-atomic-'));
    const data = Buffer.alloc(16 * 1024 * 1024, 7);
    const plain = path.join(dir, 'plain.pack');
    const torn = await sizesSeen(plain, () => writeFile(plain, data));
    expect([...torn].some((n) => n > 0 && n < data.length)).toBe(true); // the hazard is real here

    const afs = atomicFs(dir);
    const file = path.join(dir, 'objects', 'pack', 'pack-1.pack');
    await afs.promises.mkdir(path.dirname(file), { recursive: true });
    const seen = await sizesSeen(file, () => afs.promises.writeFile(file, data));
    expect([...seen].filter((n) => n !== 0 && n !== data.length)).toEqual([]);
    expect(readFileSync(file).equals(data)).toBe(true);
    expect(readdirSync(path.join(dir, 'gitfleet-tmp'))).toEqual([]);
    // Reads and everything else are node's own.
    expect(await afs.promises.readFile(file)).toHaveLength(data.length);
    expect(statSync(file).isFile()).toBe(true);
  });
});
