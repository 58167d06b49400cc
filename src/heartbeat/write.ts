// Write a heartbeat file so that a reader sees the old line or the new one,
// never a torn one: write a temporary file beside it, then rename it over.
// No fsync: after a crash a lost or older heartbeat only reads as stale.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatHeartbeat, type Heartbeat } from './protocol.js';

/** Replace `file` with `content` atomically (same directory, so rename never crosses filesystems); creates the directory. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { flag: 'wx', mode: 0o644 });
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Write one heartbeat; returns the line written. */
export async function writeHeartbeat(file: string, hb: Heartbeat): Promise<string> {
  const line = formatHeartbeat(hb);
  await writeFileAtomic(file, line);
  return line;
}
