// Read agents' heartbeat files: file reads only, no processes. A missing file
// is no heartbeat (text null, not an error); any other failure is recorded
// for that file, never thrown. Judging what was read is pure:
// judgeHeartbeat(parseHeartbeat(text)) in src/heartbeat/protocol.ts.
import { open, type FileHandle } from 'node:fs/promises';
import type { AgentSpec } from '../desired/types.js';
import { errorMessage } from '../errors.js';
import { judgeHeartbeat, parseHeartbeat, type HeartbeatJudgement } from '../heartbeat/protocol.js';
import { heartbeatPath } from '../paths.js';

export interface HeartbeatRead {
  /** The file's content; null when it does not exist or could not be read. */
  text: string | null;
  /** The file's modification time (ms since the epoch); null when not read. */
  mtimeMs: number | null;
  /** Why the file could not be read; null when read or absent. */
  error: string | null;
}

/** A heartbeat is one short line; anything bigger is not one, and is not read whole. */
export const MAX_HEARTBEAT_BYTES = 4096;

export async function readHeartbeats(files: string[]): Promise<Map<string, HeartbeatRead>> {
  const unique = [...new Set(files)];
  const reads = await Promise.all(unique.map(readOne));
  return new Map(unique.map((f, i) => [f, reads[i]!]));
}

async function readOne(file: string): Promise<HeartbeatRead> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { text: null, mtimeMs: null, error: null };
    return { text: null, mtimeMs: null, error: errorMessage(e) };
  }
  try {
    // One open file for stat and read: a writer's rename cannot slip between them.
    const st = await fh.stat();
    if (!st.isFile()) return { text: null, mtimeMs: st.mtimeMs, error: `${file}: not a regular file` };
    if (st.size > MAX_HEARTBEAT_BYTES)
      return {
        text: null,
        mtimeMs: st.mtimeMs,
        error: `${file}: ${st.size} bytes, too big for a heartbeat (at most ${MAX_HEARTBEAT_BYTES})`,
      };
    const buf = Buffer.alloc(MAX_HEARTBEAT_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_HEARTBEAT_BYTES)
      return {
        text: null,
        mtimeMs: st.mtimeMs,
        error: `${file}: more than ${MAX_HEARTBEAT_BYTES} bytes, too big for a heartbeat`,
      };
    return { text: buf.subarray(0, bytesRead).toString('utf8'), mtimeMs: st.mtimeMs, error: null };
  } catch (e) {
    return { text: null, mtimeMs: null, error: errorMessage(e) };
  } finally {
    await fh.close();
  }
}

/**
 * The heartbeats of the agents whose runtime writes one, judged against
 * `clock()` read after the files (a beat written during the read is not
 * "from the future"). Keyed `<socket>/<session>`.
 */
export async function observeHeartbeats(
  agents: readonly AgentSpec[],
  ref: { fleet: string; stateDir: string },
  clock: () => Date,
): Promise<Map<string, HeartbeatJudgement>> {
  const expected = agents.filter((a) => a.enabled && a.heartbeatInterval !== null);
  const files = expected.map((a) =>
    heartbeatPath(ref.stateDir, { fleet: ref.fleet, socket: a.socket, session: a.session }),
  );
  const reads = await readHeartbeats(files);
  const now = clock();
  return new Map(
    expected.map((a, i) => {
      const r = reads.get(files[i]!)!;
      const parsed = r.error ? { ok: false as const, error: r.error } : r.text === null ? null : parseHeartbeat(r.text);
      return [`${a.socket}/${a.session}`, judgeHeartbeat(parsed, now, a.heartbeatInterval!)];
    }),
  );
}
