// The fs isomorphic-git gets for a private clone: every file it writes appears
// whole, by a rename from a temp dir inside the clone. isomorphic-git writes
// in place (a fetch: the .pack, then its .idx; writeRef: the ref file), and
// `ps`, `plan` and `validate` read the clone while another gitfleet may fetch
// into it (only writers take the clone lock, git/clone-lock.ts): a reader
// scanning objects/pack/*.idx or resolving a ref must never see a torn file.
// The temp dir is not under refs/ or objects/, so a file a kill leaves behind
// is never taken for a ref or a pack.
import fs from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

let seq = 0;

export function atomicFs(gitdir: string): typeof fs {
  const tmpDir = path.join(gitdir, 'gitfleet-tmp');
  const promises = {
    ...fs.promises,
    async writeFile(file: string, data: string | Uint8Array, options?: fs.WriteFileOptions): Promise<void> {
      await mkdir(tmpDir, { recursive: true });
      const tmp = path.join(tmpDir, `${process.pid}.${seq++}`);
      await writeFile(tmp, data, options);
      await rename(tmp, file);
    },
  };
  // isomorphic-git takes `promises` only when it is an enumerable own property.
  return { promises } as unknown as typeof fs;
}
