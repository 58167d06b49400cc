// Write a heartbeat file so that a reader sees the old line or the new one,
// never a torn one: write a temporary file beside it, then rename it over.
// No fsync: after a crash a lost or older heartbeat only reads as stale.
import { writeAtomic } from '../files.js';
import { formatHeartbeat, type Heartbeat } from './protocol.js';

/** Write one heartbeat; returns the line written. */
export async function writeHeartbeat(file: string, hb: Heartbeat): Promise<string> {
  const line = formatHeartbeat(hb);
  await writeAtomic(file, line);
  return line;
}
