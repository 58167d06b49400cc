#!/usr/bin/env node
// A stand-in for an agent runtime (claude, codex, pi ...) for demos and
// tests: a line-oriented REPL that answers each line it receives, one at a
// time. `work <seconds>` keeps it busy that long before it answers; `hang`
// wedges it for good (alive, silent, no more heartbeats).
//
// Heartbeat protocol v1: when GITFLEET_HEARTBEAT_FILE is set (gitfleet sets
// it in every pane), it writes `ts=<ISO-8601> pid=<pid> status=<ok|busy>`
// there at start, every GITFLEET_HEARTBEAT_INTERVAL seconds (default 15,
// fractions allowed) and whenever it turns busy or ok; atomically (a temp
// file renamed over the old one). Plain node, no dependencies.
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const runtime = process.argv[2] ?? 'stub';
const name = process.env.GITFLEET_AGENT ?? 'unknown';

// ---- heartbeat ---------------------------------------------------------------

const hbFile = process.env.GITFLEET_HEARTBEAT_FILE || null;
const interval = heartbeatInterval(process.env.GITFLEET_HEARTBEAT_INTERVAL);
let status = 'ok';
let hbFailed = false;

function heartbeatInterval(text) {
  if (text === undefined || text === '') return 15;
  const n = Number(text);
  if (Number.isFinite(n) && n > 0) return n;
  process.stderr.write(
    `[${runtime}] GITFLEET_HEARTBEAT_INTERVAL=${text}: not a positive number of seconds; using 15\n`,
  );
  return 15;
}

function heartbeat() {
  if (!hbFile) return;
  const tmp = path.join(path.dirname(hbFile), `.${path.basename(hbFile)}.${process.pid}.tmp`);
  try {
    mkdirSync(path.dirname(hbFile), { recursive: true });
    writeFileSync(tmp, `ts=${new Date().toISOString()} pid=${process.pid} status=${status}\n`);
    renameSync(tmp, hbFile);
    hbFailed = false;
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not written */
    }
    if (!hbFailed) process.stderr.write(`[${runtime}] cannot write heartbeat ${hbFile}: ${e.message}\n`);
    hbFailed = true;
  }
}

function setStatus(s) {
  status = s;
  heartbeat();
}

heartbeat();
if (hbFile) setInterval(heartbeat, interval * 1000);

// ---- the REPL ----------------------------------------------------------------

const queue = [];
let running = false;
let closed = false;

async function drain() {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    const line = queue.shift();
    // `hang`: a wedged runtime: the process and its pane live on, but it never
    // answers or beats again (the event loop is blocked for good).
    if (line.trim() === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    const work = /^work\s+(\d+(?:\.\d+)?|\.\d+)\s*$/.exec(line);
    if (work) {
      setStatus('busy');
      await new Promise((resolve) => setTimeout(resolve, Number(work[1]) * 1000));
      setStatus('ok');
    }
    process.stdout.write(`[${runtime}] ${name} got: ${line}\n> `);
  }
  running = false;
  if (closed) process.exit(0);
}

process.stdout.write(`[${runtime}] agent ${name} ready\n> `);
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  queue.push(line);
  void drain();
});
rl.on('close', () => {
  closed = true;
  if (!running) process.exit(0);
});
