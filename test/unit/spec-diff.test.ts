// Which fields of a spec changed (src/plan/spec-diff.ts), the spec as fields with its secrets sealed
// (src/spec-fields.ts), and how plan text and plan --json show the changes. Pure.
import { describe, expect, it } from 'vitest';
import { diffSpecFields, MASKED } from '../../src/plan/spec-diff.js';
import type { Action, Plan } from '../../src/plan/types.js';
import { renderPlanJson } from '../../src/report/plan-json.js';
import { renderPlan } from '../../src/report/plan-text.js';
import { decodeSpecFields, encodeSpecFields, isSealed, type SpecFields, specFields } from '../../src/spec-fields.js';

const base = { runtime: 'claude', argv: ['claude', '--yolo'], cwd: '/a', env: { MOOD: 'calm' }, redact: [] };

describe('diffSpecFields', () => {
  it('names each changed leaf, old → new, sorted by field', () => {
    const old = specFields(base);
    const now = specFields({ ...base, runtime: 'codex', cwd: '/b', env: { MOOD: 'stormy' } });
    expect(diffSpecFields(old, now)).toEqual([
      { field: 'cwd', old: '/a', new: '/b' },
      { field: 'env.MOOD', old: 'calm', new: 'stormy' },
      { field: 'runtime', old: 'claude', new: 'codex' },
    ]);
  });

  it('says nothing for equal specs (key order does not matter)', () => {
    const a: SpecFields = { env: { A: '1', B: '2' }, argv: ['x'] };
    const b: SpecFields = { argv: ['x'], env: { B: '2', A: '1' } };
    expect(diffSpecFields(a, b)).toEqual([]);
  });

  it('added and removed keys are unset (null) on one side', () => {
    const old = specFields({ ...base, env: { MOOD: 'calm', GONE: 'bye' } });
    const now = specFields({ ...base, env: { MOOD: 'calm', X: '1' } });
    expect(diffSpecFields(old, now)).toEqual([
      { field: 'env.GONE', old: 'bye', new: null },
      { field: 'env.X', old: null, new: '1' },
    ]);
  });

  it('walks nested mappings, and compares arrays index by index (added at the end: unset before)', () => {
    const old: SpecFields = { a: { b: { c: 1, d: [1, 2] } }, list: ['x', 'y'] };
    const now: SpecFields = { a: { b: { c: 2, d: [1, 3, 4] } }, list: ['x'] };
    expect(diffSpecFields(old, now)).toEqual([
      { field: 'a.b.c', old: 1, new: 2 },
      { field: 'a.b.d[1]', old: 2, new: 3 },
      { field: 'a.b.d[2]', old: null, new: 4 },
      { field: 'list[1]', old: 'y', new: null },
    ]);
  });

  it('a field that changes shape is shown whole', () => {
    expect(diffSpecFields({ a: 'flat' }, { a: { deep: 'x' } })).toEqual([
      { field: 'a', old: 'flat', new: { deep: 'x' } },
    ]);
  });

  it('masks values under secret-looking keys at any depth and in any case, even in trees never sealed', () => {
    const old: SpecFields = { env: { GITHUB_TOKEN: 'ghp-old' }, x: { y: { db_password: 'pw1', api_key: 'k1' } } };
    const now: SpecFields = {
      env: { GITHUB_TOKEN: 'ghp-new' },
      x: { y: { db_password: 'pw2', ClientSecret: 's' }, z: { nested: { secret: 'q' } } },
    };
    const changes = diffSpecFields(old, now);
    expect(changes).toEqual([
      { field: 'env.GITHUB_TOKEN', old: MASKED, new: MASKED },
      { field: 'x.y.ClientSecret', old: null, new: MASKED },
      { field: 'x.y.api_key', old: MASKED, new: null },
      { field: 'x.y.db_password', old: MASKED, new: MASKED },
      { field: 'x.z', old: null, new: { nested: { secret: MASKED } } },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/ghp-|pw1|pw2|k1|"s"|"q"/);
  });

  it('masks any key with TOKEN, KEY, SECRET or PASSWORD anywhere in its name, wider than argv masking', () => {
    const keys = ['MAX_TOKENS', 'mytokenvalue', 'KEYRING', 'x_SecretSauce', 'dbpassword1'];
    const env = (v: string) => Object.fromEntries(keys.map((k) => [k, `${v}-${k}`]));
    const changes = diffSpecFields({ env: env('old') }, { env: env('new') });
    expect(changes.map((c) => [c.field, c.old, c.new])).toEqual(
      [...keys].sort().map((k) => [`env.${k}`, MASKED, MASKED]),
    );
    expect(JSON.stringify(specFields({ ...base, env: env('v') }))).not.toContain('v-');
  });

  it('masks names the runtime lists under redact:, case-insensitively', () => {
    const old = specFields({ ...base, env: { MOOD: 'calm', WHO: 'alice' }, redact: ['who'] });
    const now = specFields({ ...base, env: { MOOD: 'calm', WHO: 'bob' }, redact: ['who'] });
    expect(diffSpecFields(old, now, ['who'])).toEqual([{ field: 'env.WHO', old: MASKED, new: MASKED }]);
    expect(JSON.stringify([old, now])).not.toMatch(/alice|bob/);
  });
});

describe('specFields', () => {
  it('seals secret env values and masked argv elements: a change still shows, the value never', () => {
    const spec = (token: string) =>
      specFields({ ...base, argv: ['claude', '--api-key', token, `--pass=${token}`], env: { API_TOKEN: token } });
    const a = spec('sk-first-secret');
    const b = spec('sk-second-secret');
    expect(JSON.stringify([a, b])).not.toContain('secret');
    expect(isSealed((a.env as Record<string, unknown>).API_TOKEN)).toBe(true);
    expect((a.argv as unknown[])[1]).toBe('--api-key');
    expect(diffSpecFields(a, b)).toEqual([
      { field: 'argv[2]', old: MASKED, new: MASKED },
      { field: 'argv[3]', old: MASKED, new: MASKED },
      { field: 'env.API_TOKEN', old: MASKED, new: MASKED },
    ]);
    expect(diffSpecFields(a, spec('sk-first-secret'))).toEqual([]);
  });

  it('a password in a URL is sealed in env and argv; unsealed, it is shown masked', () => {
    const spec = (pw: string) =>
      specFields({ ...base, argv: ['claude', `https://u:${pw}@forge.example/x`], env: { DB: `pg://u:${pw}@db/x` } });
    const [a, b] = [spec('hunter2'), spec('hunter3')];
    expect(JSON.stringify([a, b])).not.toContain('hunter');
    expect(diffSpecFields(a, b)).toEqual([
      { field: 'argv[1]', old: MASKED, new: MASKED },
      { field: 'env.DB', old: MASKED, new: MASKED },
    ]);
    const raw = diffSpecFields({ env: { DB: 'pg://u:p1@db/x' } }, { env: { DB: 'pg://u:p2@db/y' } });
    expect(JSON.stringify(raw)).not.toMatch(/p1|p2/);
  });

  it('one secret in two fields seals differently (the field is part of the seal)', () => {
    const f = specFields({ ...base, env: { A_TOKEN: 'same', B_TOKEN: 'same' } });
    const env = f.env as Record<string, { sealed: string }>;
    expect(env.A_TOKEN!.sealed).toMatch(/^[0-9a-f]{16}$/);
    expect(env.A_TOKEN!.sealed).not.toBe(env.B_TOKEN!.sealed);
  });

  it('encodes to plain ASCII JSON that reads back the same; anything else reads as unknown (null)', () => {
    const f = specFields({ ...base, cwd: '/tmp/naïve ☃', env: { SEP: 'a\u001fb', NL: 'x\ny' } });
    const text = encodeSpecFields(f);
    expect(text).toMatch(/^[\u0020-\u007e]+$/);
    expect(decodeSpecFields(text)).toEqual(f);
    expect(decodeSpecFields('')).toBeNull();
    expect(decodeSpecFields('{cut')).toBeNull();
    expect(decodeSpecFields('[1]')).toBeNull();
  });
});

describe('plan views of a spec change', () => {
  const restart = (changes: Action['detail']['changes']): Action => ({
    kind: 'restart_session',
    target: 'sock/alice',
    reason: 'spec_changed',
    apply: { socket: 'sock', session: 'alice', role: 'agent' },
    detail: {
      agent: 'alice',
      specHash: '83a337e2aaaaaaaa',
      runningSpec: '6eff848dbbbbbbbb',
      argv: ['claude'],
      cwd: '/b',
      envKeys: ['MOOD'],
      changes,
    },
  });
  const planOf = (a: Action): Plan => ({
    formatVersion: 1,
    fleet: 'f',
    host: 'h',
    desiredRevision: 'r'.repeat(40),
    actions: [a],
    deferred: [],
    unobserved: [],
    supervisor: { mode: 'tmux', reason: 'test', observed: true, error: null },
    summary: {
      create_session: 0,
      delete_session: 0,
      restart_session: 1,
      respawn_pane: 0,
      install_unit: 0,
      reload_units: 0,
      enable_unit: 0,
      start_unit: 0,
      restart_unit: 0,
      stop_unit: 0,
      deferred: 0,
    },
    errors: [],
    pruneHeld: [],
  });

  it('text: one line per field, secrets masked, quoted where a value is not one plain word; no hashes', () => {
    const text = renderPlan(
      planOf(
        restart([
          { field: 'cwd', old: '/a', new: '/b' },
          { field: 'env.API_TOKEN', old: MASKED, new: MASKED },
          { field: 'env.MOOD', old: 'calm', new: 'stormy' },
          { field: 'env.NEW_TOKEN', old: null, new: MASKED },
          { field: 'env.NOTE', old: 'two words', new: '' },
        ]),
      ),
    );
    expect(text).toContain(
      [
        '  ~ restart_session sock/alice (spec_changed)',
        '      cwd: /a → /b',
        '      env.API_TOKEN: (secret changed)',
        '      env.MOOD: calm → stormy',
        '      env.NEW_TOKEN: (unset) → <redacted>',
        '      env.NOTE: "two words" → ""',
      ].join('\n'),
    );
    expect(text).not.toMatch(/6eff848d|83a337e2/);
  });

  it('text: a session whose fields are unknown says so, honestly', () => {
    const text = renderPlan(planOf(restart(null)));
    expect(text).toContain(
      'restart_session sock/alice (spec_changed): exec claude, in /b, spec changed (fields unknown)',
    );
    expect(text).not.toMatch(/6eff848d|83a337e2/);
  });

  it('--json: the same changes as data, masked values as {"masked": true}, null for unknown', () => {
    const changes = [
      { field: 'env.API_TOKEN', old: MASKED, new: MASKED },
      { field: 'env.MOOD', old: 'calm', new: 'stormy' },
    ];
    const json = renderPlanJson(planOf(restart(changes)));
    expect(json.formatVersion).toBe(1);
    expect(json.actions[0]!.detail.changes).toEqual([
      { field: 'env.API_TOKEN', old: { masked: true }, new: { masked: true } },
      { field: 'env.MOOD', old: 'calm', new: 'stormy' },
    ]);
    expect(json.actions[0]!.detail.runningSpec).toBe('6eff848dbbbbbbbb');
    expect(renderPlanJson(planOf(restart(null))).actions[0]!.detail.changes).toBeNull();
  });
});
