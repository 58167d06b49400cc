// Pure checks of a remote --repo, its settings, and the paths gitfleet may push.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { isOwnPath } from '../../src/git/own-paths.js';
import { remoteSettings, Secret } from '../../src/git/remote-settings.js';
import { cloneDirName, isLoopback, isRemoteRepo, parseRemoteUrl } from '../../src/git/remote-url.js';
import { backoffMs, withRetry } from '../../src/git/retry.js';
import { TerminalError, TransientError } from '../../src/errors.js';

const strict = { allowInsecureHttp: false };

describe('remote --repo URLs', () => {
  it('tells URLs and scp-like names from paths', () => {
    for (const r of ['https://h/o/f.git', 'ssh://git@h/o/f.git', 'git@h:o/f.git', 'h:o/f.git', 'http://127.0.0.1/x'])
      expect(isRemoteRepo(r)).toBe(true);
    for (const p of ['.', '/srv/fleet.git', 'fleet.git', './a:b', '/x/git@h:o']) expect(isRemoteRepo(p)).toBe(false);
  });

  it('accepts the three forge forms and says which transport', () => {
    expect(parseRemoteUrl('https://forge.example/org/fleet.git', strict)).toEqual({
      transport: 'http',
      url: 'https://forge.example/org/fleet.git',
      host: 'forge.example',
      warning: null,
    });
    expect(parseRemoteUrl('ssh://git@forge.example:2222/org/fleet.git', strict)).toMatchObject({
      transport: 'ssh',
      host: 'forge.example',
    });
    expect(parseRemoteUrl('git@forge.example:org/fleet.git', strict)).toMatchObject({
      transport: 'ssh',
      url: 'git@forge.example:org/fleet.git',
      host: 'forge.example',
    });
  });

  it('refuses credentials in the URL without repeating them', () => {
    for (const url of [
      'https://user:hunter2secret@forge.example/org/fleet.git',
      'https://hunter2secret@forge.example/org/fleet.git',
      'ssh://git:hunter2secret@forge.example/org/fleet.git',
      'git:hunter2secret@forge.example:org/fleet.git',
    ]) {
      const e = (() => {
        try {
          parseRemoteUrl(url, strict);
        } catch (err) {
          return err as Error;
        }
        throw new Error(`accepted ${url}`);
      })();
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toContain('the URL has credentials in it');
      expect(e.message).not.toContain('hunter2secret');
    }
    expect(() => parseRemoteUrl('https://forge.example/f.git?private_token=abc', strict)).toThrow(/query/);
  });

  it('plain http: loopback only, elsewhere with an opt-in and a warning', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]'])
      expect(parseRemoteUrl(`http://${h}:8080/fleet.git`, strict).warning).toBeNull();
    expect(() => parseRemoteUrl('http://forge.example/fleet.git', strict)).toThrow(/--allow-insecure-http/);
    expect(() => parseRemoteUrl('http://128.0.0.1/fleet.git', strict)).toThrow(UsageError);
    expect(parseRemoteUrl('http://forge.example/fleet.git', { allowInsecureHttp: true }).warning).toMatch(
      /travels in clear/,
    );
    expect(isLoopback('127.0.0.1.example.com')).toBe(false);
    expect(() => parseRemoteUrl('ftp://forge.example/fleet.git', strict)).toThrow(/unsupported scheme "ftp"/);
  });

  it('names the private clone by a hash of the URL', () => {
    expect(cloneDirName('https://a/f.git')).toMatch(/^[0-9a-f]{16}\.git$/);
    expect(cloneDirName('https://a/f.git')).not.toBe(cloneDirName('https://b/f.git'));
  });
});

describe('remote settings', () => {
  it('reads the environment; the token prints as *** however it is shown', () => {
    const s = remoteSettings({ GITFLEET_GIT_TOKEN: 'sekrit-value', GITFLEET_GIT_TIMEOUT: '2.5' }, {});
    expect(s.timeoutMs).toBe(2500);
    expect(s.attempts).toBe(3);
    expect(s.username).toBe('x-access-token');
    expect(s.token?.reveal()).toBe('sekrit-value');
    for (const shown of [JSON.stringify(s), `${s.token}`, inspect(s), String(s.token)])
      expect(shown).not.toContain('sekrit-value');
    expect(remoteSettings({}, {}).timeoutMs).toBe(60_000);
    expect(() => remoteSettings({ GITFLEET_GIT_TIMEOUT: 'soon' }, {})).toThrow(UsageError);
    // A file given on the command line wins over the environment's token.
    expect(remoteSettings({ GITFLEET_GIT_TOKEN: 'x' }, { tokenFile: '/t' })).toMatchObject({
      token: null,
      tokenFile: '/t',
    });
    expect(new Secret('a').toJSON()).toBe('***');
  });
});

describe('paths a host may push', () => {
  it('its status files and evidence folder, nothing else', () => {
    for (const p of ['status/h1.json', 'status/h1.md', 'status/h1/alice.json', 'status/h1@alice.json', 'evidence/h1/x'])
      expect(isOwnPath(p, 'h1')).toBe(true);
    for (const p of ['status/h10.json', 'status/h2.json', 'rosters/a.yaml', 'fleet.yaml', 'evidence/h2/x', 'status/h1'])
      expect(isOwnPath(p, 'h1')).toBe(false);
  });
});

describe('retry', () => {
  it('retries transient errors with capped jittered backoff, throws others at once', async () => {
    const waits: number[] = [];
    const policy = {
      attempts: 3,
      baseMs: 100,
      capMs: 150,
      random: () => 1,
      sleep: async (ms: number) => void waits.push(ms),
    };
    let n = 0;
    await expect(
      withRetry(async () => {
        n++;
        throw new TransientError('down');
      }, policy),
    ).rejects.toThrow('down (3 attempts)');
    expect(n).toBe(3);
    expect(waits).toEqual([100, 150]);
    n = 0;
    await expect(
      withRetry(async () => {
        n++;
        throw new TerminalError('bad token');
      }, policy),
    ).rejects.toThrow('bad token');
    expect(n).toBe(1);
    expect(await withRetry(async (a) => (a < 2 ? Promise.reject(new TransientError('x')) : 'ok'), policy)).toBe('ok');
    expect(backoffMs(1, { baseMs: 1000, capMs: 8000, random: () => 0 })).toBe(500);
    expect(backoffMs(10, { baseMs: 1000, capMs: 8000, random: () => 1 })).toBe(8000);
  });
});
