// `gitfleet heartbeat`: write heartbeat protocol v1 lines for a runtime that
// cannot write its own, once per call or, with --every, until stopped.
//
// The pid written defaults to our parent's: the process that ran us. A
// runtime calling `gitfleet heartbeat` is that parent. So is a pane's wrapper
// running `gitfleet heartbeat --every 15 & exec runtime`, whose pid the
// runtime then takes over, and which is the pane's pid tmux reports. Through
// an intermediate shell (`sh -c 'gitfleet heartbeat'`) the parent is that
// shell: pass --pid $$ or the runtime's pid there.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, TerminalError, UsageError } from '../errors.js';
import {
  HEARTBEAT_STATUSES,
  isHeartbeatStatus,
  isPid,
  type Heartbeat,
  type HeartbeatStatus,
} from '../heartbeat/protocol.js';
import { writeHeartbeat } from '../heartbeat/write.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import type { GlobalOptions } from './options.js';
import { processExists } from '../files.js';

/** --every below this would be a busy loop, not a heartbeat. */
export const MIN_EVERY_SECONDS = 0.1;

interface HeartbeatOptions {
  file: string;
  status: HeartbeatStatus;
  pid: number;
  /** Seconds between writes; null: write once. */
  every: number | null;
  json: boolean;
}

function heartbeatOptions(opts: GlobalOptions, env: NodeJS.ProcessEnv): HeartbeatOptions {
  const file = opts.file ?? env.GITFLEET_HEARTBEAT_FILE ?? '';
  if (file === '')
    throw new UsageError(
      'heartbeat needs a file: --file PATH, ' +
        'or GITFLEET_HEARTBEAT_FILE in the environment (gitfleet sets it in every pane)',
    );
  const status = opts.heartbeatStatus ?? 'ok';
  if (!isHeartbeatStatus(status))
    throw new UsageError(`--status ${JSON.stringify(status)}: allowed: ${HEARTBEAT_STATUSES.join(', ')}`);
  let pid = process.ppid;
  if (opts.pid !== null) {
    pid = /^[1-9][0-9]*$/.test(opts.pid) ? Number(opts.pid) : NaN;
    if (!isPid(pid)) throw new UsageError(`--pid ${JSON.stringify(opts.pid)}: must be a positive integer`);
  }
  let every: number | null = null;
  if (opts.every !== null) {
    every = /^[0-9]*\.?[0-9]+$/.test(opts.every) ? Number(opts.every) : NaN;
    if (!(every >= MIN_EVERY_SECONDS))
      throw new UsageError(
        `--every ${JSON.stringify(opts.every)}: seconds, a number of at least ${MIN_EVERY_SECONDS} (e.g. 15 or 0.5)`,
      );
  }
  return { file: path.resolve(file), status, pid, every, json: opts.json };
}

export async function heartbeat(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const h = heartbeatOptions(opts, io.env);
  if (h.every !== null) return keepWriting(h, h.every, io);
  await writeFirst(h, io);
  return EXIT.ok;
}

/** The first write decides: if it fails, the command fails (exit 1). */
async function writeFirst(h: HeartbeatOptions, io: Io): Promise<void> {
  try {
    await writeOne(h, new Date(), io);
  } catch (e) {
    throw new TerminalError(`cannot write heartbeat ${h.file}: ${errorMessage(e)}`, { cause: e });
  }
}

async function writeOne(h: HeartbeatOptions, ts: Date, io: Io): Promise<void> {
  const hb: Heartbeat = { ts, pid: h.pid, status: h.status };
  const line = await writeHeartbeat(h.file, hb);
  if (h.json)
    io.stdout(
      `${JSON.stringify({
        formatVersion: 1,
        file: h.file,
        ts: ts.toISOString(),
        pid: h.pid,
        status: h.status,
        line: line.trimEnd(),
      })}\n`,
    );
}

/**
 * Write now, then every `every` seconds until SIGTERM or SIGINT (exit 0), or until the
 * pid we vouch for is gone (exit 0: a heartbeat for a dead process would lie).
 * A failed write is reported once and retried on the next tick.
 */
async function keepWriting(h: HeartbeatOptions, every: number, io: Io): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let failing: string | null = null;
  try {
    await writeFirst(h, io); // after the handlers: a signal from here on ends cleanly
    for (;;) {
      try {
        await sleep(every * 1000, undefined, { signal: stop.signal });
      } catch {
        return EXIT.ok; // aborted by a signal
      }
      if (!processExists(h.pid)) {
        io.stderr(`gitfleet: heartbeat: pid ${h.pid} is gone; stopped writing ${h.file}\n`);
        return EXIT.ok;
      }
      try {
        await writeOne(h, new Date(), io);
        if (failing !== null) io.stderr(`gitfleet: heartbeat: writing ${h.file} again\n`);
        failing = null;
      } catch (e) {
        const msg = errorMessage(e);
        if (msg !== failing)
          io.stderr(`gitfleet: heartbeat: cannot write ${h.file}: ${msg}; retrying every ${every} s\n`);
        failing = msg;
      }
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
