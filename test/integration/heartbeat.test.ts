// Heartbeat protocol v1 on real files and processes: `gitfleet heartbeat`
// (in-process, and the built bin with --every), the atomic writer, the
// reader, and the stub runtime turning busy while it works. No tmux needed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { judgeHeartbeat, parseHeartbeat, type Heartbeat } from '../../src/heartbeat/protocol.js';
import { writeAtomic as writeFileAtomic } from '../../src/files.js';
import { writeHeartbeat } from '../../src/heartbeat/write.js';
import { MAX_HEARTBEAT_BYTES, readHeartbeats } from '../../src/observe/heartbeat.js';

const BIN = path.resolve('dist/cli.js');
const STUB = path.resolve('examples/stub-agent.mjs');

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-hb-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await exited(c);
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  return { code, stdout, stderr };
}

function start(argv: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { out: () => string; err: () => string } {
  const c = spawn(process.execPath, argv, { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(c);
  let out = '';
  let err = '';
  c.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  c.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  return Object.assign(c, { out: () => out, err: () => err });
}

function exited(c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
  return new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Poll until `probe` returns something; on timeout, say what and show `stderr` of the process waited on. */
async function waitFor<T>(
  what: string,
  probe: () => T | null | undefined | false,
  timeoutMs = 5000,
  stderr?: () => string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${stderr ? `; its stderr: ${stderr() || '(empty)'}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The heartbeat in `file` now, or null when absent (a torn or bad file fails the test). */
function heartbeatIn(file: string): Heartbeat | null {
  if (!existsSync(file)) return null;
  const r = parseHeartbeat(readFileSync(file, 'utf8'));
  if (!r.ok) throw new Error(`${file}: ${r.error}`);
  return r.heartbeat;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gitfleet heartbeat', () => {
  it('writes one parseable heartbeat to --file, creating its directory, for the calling process', async () => {
    const file = path.join(dir, 'run', 'fleet', 'sock', 'a.hb');
    const before = Date.now();
    const r = await cli(['heartbeat', '--file', file]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const hb = heartbeatIn(file)!;
    expect(hb.status).toBe('ok');
    expect(hb.pid).toBe(process.ppid); // the process that ran gitfleet: here, whoever ran this test process
    expect(hb.ts.getTime()).toBeGreaterThanOrEqual(before);
    expect(hb.ts.getTime()).toBeLessThanOrEqual(Date.now());
    expect(readFileSync(file, 'utf8')).toMatch(/^ts=\S+ pid=\d+ status=ok\n$/);
    expect(readdirSync(path.dirname(file))).toEqual(['a.hb']); // no temp file left behind
  });

  it('defaults to $GITFLEET_HEARTBEAT_FILE; --status busy, --pid and --json say what was written', async () => {
    const file = path.join(dir, 'b.hb');
    const r = await cli(['heartbeat', '--status', 'busy', '--pid', '4242', '--json'], {
      GITFLEET_HEARTBEAT_FILE: file,
    });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    const text = readFileSync(file, 'utf8');
    expect(json).toEqual({
      formatVersion: 1,
      file,
      ts: heartbeatIn(file)!.ts.toISOString(),
      pid: 4242,
      status: 'busy',
      line: text.trimEnd(),
    });
    expect(heartbeatIn(file)).toMatchObject({ pid: 4242, status: 'busy' });
    // --file wins over the environment
    const other = path.join(dir, 'c.hb');
    expect((await cli(['heartbeat', '--file', other], { GITFLEET_HEARTBEAT_FILE: file })).code).toBe(0);
    expect(heartbeatIn(other)).toMatchObject({ status: 'ok' });
    expect(heartbeatIn(file)).toMatchObject({ status: 'busy' });
  });

  it('usage errors exit 64 and say what is allowed', async () => {
    const f = path.join(dir, 'x.hb');
    const none = await cli(['heartbeat']);
    expect(none.code).toBe(64);
    expect(none.stderr).toBe(
      'gitfleet: heartbeat needs a file: --file PATH, ' +
        'or GITFLEET_HEARTBEAT_FILE in the environment (gitfleet sets it in every pane)\n',
    );
    expect((await cli(['heartbeat', '--file', f, '--status', 'idle'])).stderr).toContain(
      '--status "idle": allowed: ok, busy',
    );
    expect((await cli(['heartbeat', '--file', f, '--pid', 'self'])).stderr).toContain(
      '--pid "self": must be a positive integer',
    );
    expect((await cli(['heartbeat', '--file', f, '--every', '5min'])).stderr).toContain(
      '--every "5min": seconds, a number of at least 0.1',
    );
    expect((await cli(['heartbeat', '--file', f, '--every', '0'])).code).toBe(64);
    for (const argv of [
      ['plan', '--file', f],
      ['status', '--pid', '1'],
      ['apply', '--status', 'ok'],
      ['validate', '--every', '1'],
    ]) {
      const r = await cli(argv);
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(new RegExp(`^gitfleet: ${argv[1]} is an option of .*\\bheartbeat\\b`));
    }
    expect(existsSync(f)).toBe(false);
    const help = await cli(['heartbeat', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: gitfleet heartbeat');
    expect((await cli(['--help'])).stdout).toMatch(/^ {2}heartbeat +write/m); // columns as wide as the longest command
  });

  it('a file it cannot write is an error (exit 1) naming the file', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const r = await cli(['heartbeat', '--file', path.join(blocker, 'a.hb')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`gitfleet: cannot write heartbeat ${path.join(blocker, 'a.hb')}:`);
  });
});

describe('gitfleet heartbeat --every (the built bin)', () => {
  it('dist/ is built with the heartbeat command (npm test builds it; else run npm run build)', () => {
    const r = spawnSync(process.execPath, [BIN, 'heartbeat', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: gitfleet heartbeat');
  });

  it('keeps refreshing the file until SIGTERM, then exits 0 and writes no more', async () => {
    const file = path.join(dir, 'run', 'w.hb');
    const c = start([BIN, 'heartbeat', '--every', '0.2', '--file', file, '--json']);
    const first = await waitFor('the first heartbeat', () => heartbeatIn(file), 5000, c.err);
    // The test process ran it: the default pid is the parent's.
    expect(first).toMatchObject({ pid: process.pid, status: 'ok' });
    const later = await waitFor('a newer heartbeat', () => {
      const hb = heartbeatIn(file);
      return hb && hb.ts > first.ts ? hb : null;
    });
    expect(later.ts.getTime() - first.ts.getTime()).toBeGreaterThanOrEqual(150);
    await waitFor('three writes', () => c.out().split('\n').filter(Boolean).length >= 3);
    const lines = c
      .out()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ formatVersion: 1, file, pid: process.pid, status: 'ok' });
    expect(new Set(lines.map((l) => l.ts)).size).toBe(lines.length);

    process.kill(c.pid!, 'SIGTERM');
    expect(await exited(c)).toEqual({ code: 0, signal: null });
    expect(c.err()).toBe('');
    const last = heartbeatIn(file)!;
    await sleep(500);
    expect(heartbeatIn(file)).toEqual(last);
    expect(judgeHeartbeat(last, new Date(last.ts.getTime() + 601), 0.2).health).toBe('stale');
    expect(readdirSync(path.dirname(file))).toEqual(['w.hb']);
  });

  it('stops (exit 0) when the process it vouches for is gone', async () => {
    const file = path.join(dir, 'gone.hb');
    const runtime = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(runtime);
    const c = start([BIN, 'heartbeat', '--every', '0.2', '--file', file, '--pid', String(runtime.pid)]);
    expect(await waitFor('the first heartbeat', () => heartbeatIn(file), 5000, c.err)).toMatchObject({
      pid: runtime.pid,
    });
    runtime.kill('SIGKILL');
    await exited(runtime);
    expect(await exited(c)).toEqual({ code: 0, signal: null });
    expect(c.err()).toBe(`gitfleet: heartbeat: pid ${runtime.pid} is gone; stopped writing ${file}\n`);
  });
});

describe('heartbeat files', () => {
  it('the atomic writer replaces the file whole: a reader never sees a torn or empty line', async () => {
    const file = path.join(dir, 'deep', 'er', 'a.hb');
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        if (existsSync(file)) {
          heartbeatIn(file); // throws on a torn line
          reads++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 200; i++)
      await writeHeartbeat(file, {
        ts: new Date(Date.UTC(2025, 0, 1) + i * 1000),
        pid: 1000 + i,
        status: i % 2 ? 'busy' : 'ok',
      });
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(heartbeatIn(file)).toEqual({ ts: new Date(Date.UTC(2025, 0, 1) + 199_000), pid: 1199, status: 'busy' });
    expect(readdirSync(path.dirname(file))).toEqual(['a.hb']);
    await writeFileAtomic(file, 'x');
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('readHeartbeats: text and mtime per file; absent is null; other failures recorded, never thrown', async () => {
    const ok = path.join(dir, 'ok.hb');
    const bad = path.join(dir, 'bad.hb');
    const big = path.join(dir, 'big.hb');
    const sub = path.join(dir, 'a-directory.hb');
    const missing = path.join(dir, 'missing.hb');
    const underFile = path.join(ok, 'x.hb');
    await writeHeartbeat(ok, { ts: new Date(), pid: 77, status: 'busy' });
    writeFileSync(bad, 'ts=now pid=1 status=ok\n');
    writeFileSync(big, 'x'.repeat(MAX_HEARTBEAT_BYTES + 1));
    mkdirSync(sub);
    const read = await readHeartbeats([ok, bad, big, sub, missing, underFile, ok]);
    expect([...read.keys()]).toEqual([ok, bad, big, sub, missing, underFile]);
    expect(read.get(ok)).toEqual({ text: readFileSync(ok, 'utf8'), mtimeMs: expect.any(Number), error: null });
    expect(read.get(bad)).toMatchObject({ text: 'ts=now pid=1 status=ok\n', error: null });
    expect(read.get(big)).toMatchObject({
      text: null,
      error: `${big}: ${MAX_HEARTBEAT_BYTES + 1} bytes, too big for a heartbeat (at most ${MAX_HEARTBEAT_BYTES})`,
    });
    expect(read.get(sub)).toMatchObject({ text: null, error: `${sub}: not a regular file` });
    expect(read.get(missing)).toEqual({ text: null, mtimeMs: null, error: null });
    expect(read.get(underFile)).toMatchObject({ text: null, mtimeMs: null, error: expect.stringContaining('ENOTDIR') });

    // Judged purely: read, parse, judge.
    const now = new Date();
    const judge = (f: string) => {
      const r = read.get(f)!;
      const parsed =
        r.error !== null ? { ok: false as const, error: r.error } : r.text === null ? null : parseHeartbeat(r.text);
      return judgeHeartbeat(parsed, now, 15).health;
    };
    expect([ok, bad, big, sub, missing, underFile].map(judge)).toEqual([
      'healthy',
      'invalid',
      'invalid',
      'invalid',
      'unknown',
      'invalid',
    ]);
  });

  it('readHeartbeats records a file it may not read (when not root)', async () => {
    const locked = path.join(dir, 'locked.hb');
    writeFileSync(locked, 'ts=2025-01-01T00:00:00Z pid=1 status=ok\n');
    chmodSync(locked, 0o000);
    const r = (await readHeartbeats([locked])).get(locked)!;
    if (process.getuid?.() === 0)
      expect(r).toMatchObject({ text: 'ts=2025-01-01T00:00:00Z pid=1 status=ok\n', error: null }); // root reads anyway
    else expect(r).toMatchObject({ text: null, error: expect.stringContaining('EACCES') });
  });
});

describe('the stub runtime (examples/stub-agent.mjs)', () => {
  it('writes heartbeats at start and every interval, busy while it works, ok again when it answers', async () => {
    const file = path.join(dir, 'run', 'fleet', 'sock', 'a1.hb');
    const stub = start([STUB, 'stub'], {
      GITFLEET_AGENT: 'a1',
      GITFLEET_HEARTBEAT_FILE: file,
      GITFLEET_HEARTBEAT_INTERVAL: '0.2',
    });
    await waitFor('ready', () => stub.out().includes('[stub] agent a1 ready\n> '), 5000, stub.err);
    const first = heartbeatIn(file)!; // written before it said ready
    expect(first).toMatchObject({ pid: stub.pid, status: 'ok' });
    const [read] = (await readHeartbeats([file])).values();
    expect(judgeHeartbeat(parseHeartbeat(read!.text!), new Date(), 0.2)).toMatchObject({
      health: 'healthy',
      status: 'ok',
      pid: stub.pid,
    });
    await waitFor('a refreshed heartbeat', () => heartbeatIn(file)!.ts > first.ts);

    stub.stdin!.write('hello\n');
    await waitFor('the answer', () => stub.out().includes('[stub] a1 got: hello\n> '));

    stub.stdin!.write('work 1\n');
    const busy = await waitFor('busy', () => (heartbeatIn(file)!.status === 'busy' ? heartbeatIn(file) : null), 500);
    expect(stub.out()).not.toContain('got: work 1');
    // Still beating while busy.
    await waitFor('a newer busy heartbeat', () => {
      const hb = heartbeatIn(file)!;
      return hb.status === 'busy' && hb.ts > busy.ts;
    });
    await waitFor('the answer after the work', () => stub.out().includes('[stub] a1 got: work 1\n> '), 3000);
    const done = heartbeatIn(file)!;
    expect(done.status).toBe('ok');
    expect(done.ts.getTime() - busy.ts.getTime()).toBeGreaterThanOrEqual(900);

    stub.stdin!.end();
    expect(await exited(stub)).toEqual({ code: 0, signal: null });
    expect(stub.err()).toBe('');
    expect(readdirSync(path.dirname(file))).toEqual(['a1.hb']);
  });

  it('answers lines queued behind work in order, then exits 0 when its input ends', async () => {
    const file = path.join(dir, 'q.hb');
    const stub = start([STUB, 'codex'], { GITFLEET_AGENT: 'q', GITFLEET_HEARTBEAT_FILE: file });
    await waitFor('ready', () => stub.out().includes('ready'));
    stub.stdin!.end('work 0.3\nsecond\n');
    expect(await exited(stub)).toEqual({ code: 0, signal: null });
    expect(stub.out()).toBe('[codex] agent q ready\n> [codex] q got: work 0.3\n> [codex] q got: second\n> ');
    expect(heartbeatIn(file)).toMatchObject({ pid: stub.pid, status: 'ok' });
  });

  it('without GITFLEET_HEARTBEAT_FILE it writes nothing and answers as before', async () => {
    const stub = start([STUB, 'pi'], { GITFLEET_AGENT: 'p' });
    stub.stdin!.end('hi\n');
    expect(await exited(stub)).toEqual({ code: 0, signal: null });
    expect(stub.out()).toBe('[pi] agent p ready\n> [pi] p got: hi\n> ');
    expect(readdirSync(dir)).toEqual([]);
  });
});
