// Per-agent pane logs are capped: tmux pipe-pane appends to them for as long
// as the agent runs. No process per agent: each reconcile stats the logs,
// and one over the cap is copied aside and truncated in place
// ("copytruncate"). pipe-pane's `cat >>` writes with O_APPEND, so after the
// truncate its next write lands at the new end, not at its old offset.
import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import { writeAtomic } from '../files.js';
import { agentLogPath, cronLogPath, rotatedLogPath } from '../paths.js';

export const DEFAULT_LOG_CAP = 10 * 1024 * 1024;
/** cron.log grows by one run's output every few minutes, unattended: a smaller cap is plenty. */
export const CRON_LOG_CAP = 1024 * 1024;

export interface RotateResult {
  /** Logs that were over the cap and now start empty, their tail in `<log>.1`. */
  rotated: string[];
  /** Logs that could not be rotated (never fatal: a log is not worth a failed reconcile). */
  errors: string[];
}

export async function rotateLogs(
  stateDir: string,
  fleet: string,
  agents: readonly { socket: string; session: string }[],
  capBytes = DEFAULT_LOG_CAP,
): Promise<RotateResult> {
  const result: RotateResult = { rotated: [], errors: [] };
  for (const a of agents) {
    const log = agentLogPath(stateDir, { fleet, socket: a.socket, session: a.session });
    // Nearly every log is under the cap: one stat (synchronous: a few microseconds, where open, fstat and close
    // as promises were ~80 ms of a no-op apply at 1000 agents) rules it out. rotateLog checks again under its handle.
    if (underCap(log, capBytes)) continue;
    try {
      if (await rotateLog(log, capBytes)) result.rotated.push(log);
    } catch (e) {
      result.errors.push(`${log}: ${errorMessage(e)}`);
    }
  }
  return result;
}

/**
 * The cron line's log (install/units.ts crontabLine), rotated by the run writing to it: its shell holds the file
 * with O_APPEND, so this run's later output lands at the new end. Never fatal.
 */
export async function rotateCronLog(stateDir: string, capBytes = CRON_LOG_CAP): Promise<RotateResult> {
  const log = cronLogPath(stateDir);
  if (underCap(log, capBytes)) return { rotated: [], errors: [] };
  try {
    return { rotated: (await rotateLog(log, capBytes)) ? [log] : [], errors: [] };
  } catch (e) {
    return { rotated: [], errors: [`${log}: ${errorMessage(e)}`] };
  }
}

/** Missing or at most the cap; false when it may need rotating, or stat failed (rotateLog reports why). */
function underCap(log: string, capBytes: number): boolean {
  try {
    const st = statSync(log, { throwIfNoEntry: false });
    return st === undefined || (st.isFile() && st.size <= capBytes);
  } catch {
    return false;
  }
}

/** Rotate one log if it is over the cap; false when there is nothing to do. */
export async function rotateLog(log: string, capBytes: number): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(log, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size <= capBytes) return false;
    // Keep the last cap bytes, from the first line start within them (a reader sees whole lines).
    let start = size - capBytes;
    const tail = Buffer.alloc(size - start);
    await readFully(fh, tail, start);
    const nl = tail.indexOf(0x0a);
    const from = nl >= 0 && nl + 1 < tail.length ? nl + 1 : 0;
    start += from;
    // What was appended while we copied goes to the rotated file too; only the last instant's bytes can be lost.
    const { size: now } = await fh.stat();
    const more = Buffer.alloc(Math.max(0, now - size));
    const got = await readFully(fh, more, size);
    await writeAtomic(rotatedLogPath(log), Buffer.concat([tail.subarray(from), more.subarray(0, got)]), 0o600, 0o700);
    await fh.truncate(0);
    return true;
  } finally {
    await fh.close();
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
