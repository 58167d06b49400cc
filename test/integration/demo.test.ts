// The README's first command, `npm run demo`, as a newcomer runs it: once
// after `npm ci` (whose prepare step built dist/), with its output redirected
// to a file. It must not build a second time, and the file must be plain text.
// Also `scripts/build.mjs --if-stale` itself, on a copy of the sources, so the
// dist/ the other tests run is never rebuilt under them.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..', '..');
const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});
const temp = (prefix: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
};

/** Where a file is on disk and when it was written: a rebuilt dist/cli.js changes both. */
const stamp = (f: string) => {
  const s = statSync(f);
  return { ino: s.ino, mtimeMs: s.mtimeMs };
};

// No colour asked for, npm kept off the network; TERM set, so only the missing terminal can turn escapes off.
const env = () => {
  const e: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', npm_config_update_notifier: 'false' };
  for (const k of ['FORCE_COLOR', 'NO_COLOR', 'TMUX']) delete e[k];
  return e;
};

describe('npm run demo', () => {
  it('redirected to a file: plain text, no terminal escapes, and dist/ is not built again', () => {
    const cli = path.join(root, 'dist', 'cli.js');
    const before = stamp(cli); // npm test built it just now, as npm ci's prepare does
    const dir = temp('gitfleet-demo-log-');
    const log = path.join(dir, 'demo.log');
    const fd = openSync(log, 'w');
    let r: ReturnType<typeof spawnSync>;
    try {
      r = spawnSync('npm', ['run', 'demo'], { cwd: root, env: env(), stdio: ['ignore', fd, fd], timeout: 120_000 });
    } finally {
      closeSync(fd);
    }
    const out = readFileSync(log, 'utf8');
    expect(r.status, out).toBe(0);
    expect(out).toContain('== Apply: create the sessions and commit status back');
    expect(out).toContain('Demo done; its tmux socket and temp dir are removed.');
    const escapes = out.split('\n').filter((l) => l.includes('\x1b'));
    expect(escapes).toEqual([]);
    expect(stamp(cli)).toEqual(before);
  }, 150_000);
});

describe('scripts/build.mjs --if-stale', () => {
  /** The build's inputs in a temp dir, with this checkout's node_modules. */
  function copy(): string {
    const dir = temp('gitfleet-build-');
    for (const f of ['src', 'schemas', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json'])
      cpSync(path.join(root, f), path.join(dir, f), { recursive: true });
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    return dir;
  }
  const build = (dir: string) => {
    const r = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  };

  it('builds when dist/ is missing or older than a source, and leaves a fresh dist/ alone', () => {
    const dir = copy();
    const cli = path.join(dir, 'dist', 'cli.js');
    build(dir); // no dist/ yet
    const first = stamp(cli);
    const version = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);

    build(dir);
    expect(stamp(cli)).toEqual(first);

    // A source newer than the bundle (an edit, a pull): built again.
    const touch = (f: string, t: Date) => utimesSync(path.join(dir, f), t, t);
    touch('dist/cli.js', new Date(Date.now() - 60_000));
    touch('src/ps.ts', new Date(Date.now() - 30_000));
    const aged = stamp(cli);
    build(dir);
    const second = stamp(cli);
    expect(second).not.toEqual(aged);
    build(dir);
    expect(stamp(cli)).toEqual(second);

    // So is a change to how it is built (package.json holds the version the bundle prints).
    touch('dist/cli.js', new Date(Date.now() - 60_000));
    touch('package.json', new Date(Date.now() - 30_000));
    const aged2 = stamp(cli);
    build(dir);
    expect(stamp(cli)).not.toEqual(aged2);
  });
});
