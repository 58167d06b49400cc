// The daemon's triggers and listener helpers: the schedule's per-host offset, the desired-state key that keeps
// the daemon from triggering itself (on a real repository made with the system git), --listen, the secret file,
// and the log line formats.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback, parseListen, readWebhookSecret } from '../../src/daemon/http.js';
import { DaemonLog } from '../../src/daemon/log.js';
import { desiredKey, hostOffsetMs, Schedule, watchedBranches } from '../../src/daemon/triggers.js';
import { scheduleIntervalMs } from '../../src/desired/cron.js';

const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-daemon-unit-'));
  temps.push(d);
  return d;
};

describe('schedule', () => {
  it('hosts get fixed, different offsets within the interval', () => {
    const hosts = Array.from({ length: 20 }, (_, i) => `host${i}`);
    const offsets = hosts.map((h) => hostOffsetMs(h, 300_000));
    expect(offsets.every((o) => o >= 0 && o < 300_000)).toBe(true);
    expect(new Set(offsets.map((o) => Math.floor(o / 1000))).size).toBeGreaterThan(15); // not one second
    expect(hostOffsetMs('host3', 300_000)).toBe(offsets[3]); // deterministic
  });

  it('the interval of a pattern; every run is shifted by the host offset', () => {
    expect(scheduleIntervalMs('*/5 * * * *')).toBe(300_000);
    expect(scheduleIntervalMs('* * * * * *')).toBe(1000);
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const s = new Schedule(
      '*/5 * * * *',
      'box1',
      () => {},
      () => now,
    );
    const offset = hostOffsetMs('box1', 300_000);
    expect(s.offsetMs).toBe(offset);
    const first = s.nextAt()!;
    expect((first - offset) % 300_000).toBe(0);
    expect(first - now).toBeLessThanOrEqual(300_000);
    now = first;
    expect(s.nextAt(first + 1)).toBe(first + 300_000);
  });
});

describe('desiredKey', () => {
  it('ignores gitfleet status commits, notices roster and fleet.yaml changes', async () => {
    const dir = tempDir();
    const git = (...a: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...a], { cwd: dir, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    const write = (f: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), text);
      git('add', '-A');
      git('commit', '-q', '-m', f);
    };
    write('rosters/a.yaml', 'version: 1\n');
    const gitdir = path.join(dir, '.git');
    const k1 = await desiredKey(gitdir, ['main'], null);
    write('status/box1.json', '{}');
    write('evidence/box1/x.json', '{}');
    expect(await desiredKey(gitdir, ['main'], null)).toBe(k1);
    write('rosters/a.yaml', 'version: 1\nagents: []\n');
    const k2 = await desiredKey(gitdir, ['main'], null);
    expect(k2).not.toBe(k1);
    write('fleet.yaml', 'fleet: x\n');
    expect(await desiredKey(gitdir, ['main'], null)).not.toBe(k2);
    // A branch that does not exist yet has a key too (it changes when the branch appears).
    expect(await desiredKey(gitdir, ['trunk'], null)).toBe('trunk -');
  });

  it('watches the branch named, else main and the one fleet.yaml names', () => {
    expect(watchedBranches('prod', null)).toEqual(['prod']);
    expect(watchedBranches(null, null)).toEqual(['main']);
    expect(watchedBranches(null, { branch: 'trunk' } as never)).toEqual(['main', 'trunk']);
  });
});

describe('--listen and the webhook secret file', () => {
  it('parses addresses; loopback unless named otherwise', () => {
    expect(parseListen('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(() => parseListen('127.0.0.1:99999')).toThrow(/allowed: ADDRESS:PORT/);
    expect(() => parseListen('http://x')).toThrow(/allowed: ADDRESS:PORT/);
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.org'].some(isLoopback)).toBe(false);
  });

  it('reads the secret from a file only its owner may read, trailing line break dropped', async () => {
    const file = path.join(tempDir(), 'secret');
    writeFileSync(file, 'hush\n');
    chmodSync(file, 0o600);
    expect(await readWebhookSecret(file)).toBe('hush');
    chmodSync(file, 0o640);
    await expect(readWebhookSecret(file)).rejects.toThrow(/refused, group or others may read it \(mode 640\)/);
    await expect(readWebhookSecret(`${file}.missing`)).rejects.toThrow(/cannot read it \(ENOENT\)/);
    writeFileSync(file, '\n');
    chmodSync(file, 0o600);
    await expect(readWebhookSecret(file)).rejects.toThrow(/empty/);
  });
});

describe('DaemonLog', () => {
  const at = () => new Date('2026-01-01T00:00:00.000Z');
  const line = {
    trigger: 'ref-change',
    outcome: 'ok' as const,
    actions: 2,
    failed: 0,
    durationMs: 512.4,
    revision: '0123456789abcdef0123',
    commit: null,
    error: null,
  };

  it('one human line per reconcile: time, trigger, outcome, actions, duration', () => {
    let out = '';
    new DaemonLog('human', (s) => (out += s), at).reconcile(line);
    expect(out).toBe(
      '2026-01-01T00:00:00.000Z reconcile trigger=ref-change outcome=ok actions=2 duration_ms=512 ' +
        'revision=0123456789ab\n',
    );
  });

  it('JSON lines, and URLs with credentials masked', () => {
    let out = '';
    const log = new DaemonLog('json', (s) => (out += s), at);
    log.reconcile({ ...line, outcome: 'transient', error: 'fetch https://user:tok3n@example.org/f.git failed' });
    const parsed = JSON.parse(out);
    expect(parsed).toMatchObject({ time: '2026-01-01T00:00:00.000Z', event: 'reconcile', outcome: 'transient' });
    expect(out).not.toContain('tok3n');
  });
});
