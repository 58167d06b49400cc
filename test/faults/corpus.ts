// The malformed-input corpus: every input here is wrong by construction, so
// each must be refused with a positioned error and change nothing.
//
// Three sources, so new schema fields are covered without editing this file:
// - schema-driven: walk schemas/*.schema.json and, for every field, write each
//   JSON type it does not allow, each constraint broken (enum, const,
//   minLength, maxLength, minimum, minItems, uniqueItems, pattern with hostile
//   strings), each required key removed and an unknown key added;
// - semantic: what a schema cannot say (socket "default", relative or ~user
//   working directories, NUL in argv and env, "__proto__", ref names that are
//   not branches, names colliding across files, roster folders in the wrong
//   shape);
// - raw text: deep nesting, alias bombs, self-referencing anchors, huge files,
//   binary garbage, tabs, BOM, CRLF and other YAML-level breakage.
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { prng } from './lib.js';

/** A file in a case's commit: text or bytes, null to delete, or a special git entry. */
export type Entry = string | Buffer | null | { symlink: string } | { gitlink: string };

export interface Case {
  id: string;
  category: string;
  files: Record<string, Entry>;
  /** Files the positioned errors must name (null: any positioned error will do). */
  expect: string[] | null;
  /** Heavy for the parser (deep, bombs, huge, binary): always also run through the real CLI. */
  heavy?: boolean;
  /** Generated from the schema: one ajv check words them all, so apply runs on a sample of them. */
  schema?: boolean;
}

export interface Ctx {
  socket: string;
  /** An existing absolute directory for the agents. */
  wd: string;
  user: string;
  host: string;
  /** Absolute path a successful injection would create. */
  canary: string;
}

export const ROSTER = 'rosters/team.yaml';
export const FLEET = 'fleet.yaml';

export function baseRoster(c: Ctx): Record<string, unknown> {
  return {
    version: 1,
    transport: 'tmux',
    tmux: { socket_name: c.socket, holder_session: '_holder' },
    defaults: { working_directory: c.wd },
    runtimes: {
      stub: {
        command: ['cat'],
        reset_command: '/clear',
        env: { STUB_MODE: 'quiet' },
        heartbeat: false,
        process_names: ['cat'],
        idle_after: 120,
      },
    },
    // update: recreate, so a change that slipped through would restart the agent and show as a new pid.
    agents: [
      {
        name: 'alpha',
        runtime: 'stub',
        class: 'worker',
        working_directory: c.wd,
        model_hint: 'small',
        persistent_persona: 'semi',
        reset_between_tasks: false,
        kickstart_template: 'hello',
        command: ['cat'],
        env: { MODEL: 'opus' },
        host: c.host,
        tenant: c.user,
        enabled: true,
        update: 'recreate',
      },
      { name: 'beta', runtime: 'stub', update: 'recreate' },
    ],
  };
}

export function baseFleet(c: Ctx): Record<string, unknown> {
  return {
    fleet: 'faults',
    branch: 'main',
    paths: { rosters: 'rosters', boards: 'boards', huts: 'huts', vault: 'vault' },
    status: { branch: 'main' },
    git: { author: { name: 'gitfleet', email: `gitfleet@${c.host}` } },
    hosts: [c.host],
    supervisor: 'tmux',
    reconcile: { prune: true },
  };
}

export const yamlText = (v: unknown): string => stringify(v, { lineWidth: 0 });

/** Names that no name field may take (each is also filtered through the field's own pattern). */
export function hostileNames(canary: string): string[] {
  return [
    '../x',
    'a/b',
    '',
    'a'.repeat(65),
    'ünïcödé',
    '名前',
    '🚀',
    `#(touch ${canary})`,
    '#{pane_pid}',
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    'a;b',
    'a\nb',
    'a\0b',
    'a\tb',
    ' x',
    'x ',
    'a b',
    '-x',
    '.x',
    'a:b',
    '*',
    '~x',
    'a\\b',
    'a\u202eb',
    'a\u200bb',
    '..',
    '.',
    'a\rb',
  ];
}

/** Ref names `git check-ref-format --branch` refuses (or that escape refs/heads/). */
export const BAD_BRANCHES = [
  '../../config',
  '../../../x',
  'a..b',
  'refs/x',
  'a b',
  'a~1',
  'a^b',
  'a:b',
  'a?b',
  'a*b',
  'a[b',
  'a\\b',
  '-x',
  'x.lock',
  'x/',
  '/x',
  'a//b',
  '@',
  'a@{b',
  '.x',
  'a/.x',
  'x.',
  'a\0b',
  'a\nb',
  'a\tb',
  'a\x7fb',
];

// ---------------------------------------------------------------- schema-driven

/** The part of a JSON Schema this walk reads. */
interface Schema {
  $ref?: string;
  $defs?: Record<string, Schema>;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  minItems?: number;
  pattern?: string;
  uniqueItems?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  propertyNames?: { pattern?: string };
}
type Seg = string | number;

const SAMPLES: Record<string, unknown> = {
  string: 'x',
  integer: 7,
  number: 2.5,
  boolean: true,
  null: null,
  array: ['x'],
  object: { x: 1 },
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function allows(types: string[], v: unknown): boolean {
  const t = jsonType(v);
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

function typesOf(s: Schema): string[] | null {
  if (s.type) return Array.isArray(s.type) ? s.type : [s.type];
  if (s.enum) return [...new Set((s.enum as unknown[]).map(jsonType))];
  if ('const' in s) return [jsonType(s.const)];
  return null;
}

/** A JSON-like tree: maps and lists, indexed by key or position. */
type Tree = Record<Seg, unknown>;

function getAt(doc: unknown, p: readonly Seg[]): unknown {
  return p.reduce<unknown>((o, k) => (o == null ? undefined : (o as Tree)[k]), doc);
}

/** A deep copy of `doc` with `value` at `p` (intermediate maps and lists created); undefined deletes. */
export function withAt(doc: unknown, p: readonly Seg[], value: unknown): unknown {
  const out = structuredClone(doc) as Tree;
  let o = out;
  for (let i = 0; i < p.length - 1; i++) {
    const k = p[i]!;
    if (o[k] === null || typeof o[k] !== 'object') o[k] = typeof p[i + 1] === 'number' ? [] : {};
    o = o[k] as Tree;
  }
  const last = p[p.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(o)) o.splice(last as number, 1);
    else delete o[last];
  } else if (Object.hasOwn(o, last) || typeof last === 'number') o[last] = value;
  // defineProperty, so that "__proto__" becomes a key and not the prototype.
  else Object.defineProperty(o, last, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

const show = (p: readonly Seg[]) =>
  p
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
    .join('')
    .slice(1) || '(top)';
const brief = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** Every wrong value the schema itself rules out, field by field. */
function schemaCases(kind: string, file: string, root: Schema, base: unknown, canary: string): Case[] {
  const out: Case[] = [];
  const seen = new Set<string>();
  const add = (category: string, p: readonly Seg[], doc: unknown, label: string) => {
    const id = `${kind}.${category} ${show(p)} ${label}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ id, category: `${kind}: ${category}`, files: { [file]: yamlText(doc) }, expect: [file], schema: true });
  };
  const resolve = (s: Schema): Schema => (s.$ref ? resolve(root.$defs![s.$ref.split('/').pop()!]!) : s);
  const walk = (raw: Schema, p: Seg[]): void => {
    const s = resolve(raw);
    const types = typesOf(s);
    const set = (v: unknown, category: string, label = brief(v)) => add(category, p, withAt(base, p, v), label);
    if (p.length > 0 && types) {
      for (const [t, v] of Object.entries(SAMPLES)) if (!allows(types, v)) set(v, 'wrong type', `${t} ${brief(v)}`);
      if (types.includes('integer') && !types.includes('number')) set(2.5, 'wrong type', 'fraction for an integer');
    }
    if (s.enum) set('bogus-value', 'not allowed value');
    if ('const' in s && typeof s.const === 'number') set(s.const + 1, 'not allowed value');
    if (typeof s.minLength === 'number' && s.minLength > 0 && types?.includes('string'))
      set('', 'constraint', 'empty string');
    if (typeof s.maxLength === 'number')
      set('a'.repeat(s.maxLength + 1), 'constraint', `${s.maxLength + 1} characters`);
    if (typeof s.minimum === 'number' && (types?.includes('number') || types?.includes('integer')))
      set(s.minimum - 1, 'constraint', `below minimum ${s.minimum}`);
    if (typeof s.minItems === 'number' && s.minItems > 0 && types?.includes('array'))
      set([], 'constraint', 'empty list');
    if (s.pattern && types?.includes('string')) {
      const re = new RegExp(s.pattern, 'u');
      for (const h of hostileNames(canary)) if (!re.test(h)) set(h, 'bad name', brief(h));
    }
    if (s.uniqueItems) {
      const cur = getAt(base, p);
      if (Array.isArray(cur) && cur.length > 0) set([cur[0], cur[0]], 'constraint', 'duplicate items');
    }
    if (s.items && types?.includes('array')) walk(s.items, [...p, 0]);
    if (s.properties || s.additionalProperties !== undefined || s.propertyNames) {
      const cur = getAt(base, p);
      if (p.length > 0 && (cur === undefined || cur === null)) return; // optional section not in the base document
      for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, [...p, k]);
      for (const r of s.required ?? [])
        if (getAt(base, [...p, r]) !== undefined)
          add('missing required key', [...p, r], withAt(base, [...p, r], undefined), `no ${r}`);
      if (s.additionalProperties === false) {
        for (const k of ['bogus_key', 'socket', 'workdir', 'Version2'])
          add('unknown key', [...p, k], withAt(base, [...p, k], 1), k);
      } else if (typeof s.additionalProperties === 'object') {
        const keys = cur && typeof cur === 'object' ? Object.keys(cur as object) : [];
        for (const k of keys.slice(0, 1)) walk(s.additionalProperties, [...p, k]);
        if (s.propertyNames?.pattern && keys.length > 0) {
          const re = new RegExp(s.propertyNames.pattern, 'u');
          const sample = (cur as Record<string, unknown>)[keys[0]!];
          for (const h of hostileNames(canary))
            if (!re.test(h)) add('bad key', [...p, h], withAt(base, [...p, h], sample), brief(h));
        }
      }
    }
  };
  walk(root, []);
  return out;
}

// ---------------------------------------------------------------- semantic

function semanticRosterCases(c: Ctx): Case[] {
  const base = baseRoster(c);
  const out: Case[] = [];
  const add = (
    category: string,
    label: string,
    doc: unknown,
    extra: Record<string, Entry> = {},
    expect: string[] | null = [ROSTER],
  ) =>
    out.push({
      id: `roster.${category} ${label}`,
      category: `roster: ${category}`,
      files: { [ROSTER]: yamlText(doc), ...extra },
      expect,
    });
  const at = (p: Seg[], v: unknown) => withAt(base, p, v);

  add('reserved socket', 'socket_name default', at(['tmux', 'socket_name'], 'default'));
  add(
    'reserved socket',
    'socketName default',
    withAt(at(['tmux', 'socket_name'], undefined), ['tmux', 'socketName'], 'default'),
  );
  for (const dir of ['rel', './rel', '../up', 'rel/sub', '~root', '~root/x', '~nobody/x', 'a\0b', `${c.wd}/a\0b`]) {
    add('working directory', `agents[0] ${brief(dir)}`, at(['agents', 0, 'working_directory'], dir));
    add('working directory', `defaults ${brief(dir)}`, at(['defaults', 'working_directory'], dir));
  }
  const nul = 'a\0b';
  add('NUL', 'agent env value', at(['agents', 0, 'env', 'MODEL'], nul));
  add('NUL', 'runtime env value', at(['runtimes', 'stub', 'env', 'STUB_MODE'], nul));
  add('NUL', 'agent argv item', at(['agents', 0, 'command'], ['cat', nul]));
  add('NUL', 'agent argv program', at(['agents', 0, 'command'], ['ca\0t']));
  add('NUL', 'runtime argv item', at(['runtimes', 'stub', 'command'], ['cat', nul]));
  add('NUL', 'agent command line', at(['agents', 0, 'command'], 'cat a\0b'));
  add('NUL', 'runtime command line', at(['runtimes', 'stub', 'command'], 'cat a\0b'));
  add('NUL', 'reset_command', at(['runtimes', 'stub', 'reset_command'], '/clear\0'));
  add('NUL', 'process_names item', at(['runtimes', 'stub', 'process_names'], ['ca\0t']));
  add('NUL', 'host', at(['agents', 0, 'host'], `${c.host}\0`));
  add('NUL', 'tenant', at(['agents', 0, 'tenant'], `${c.user}\0`));
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    add('reserved key', `agent env ${key}`, at(['agents', 0, 'env', key], 'x'));
    add('reserved key', `runtime env ${key}`, at(['runtimes', 'stub', 'env', key], 'x'));
  }
  add('reserved key', 'runtime named __proto__', at(['runtimes', '__proto__'], { command: ['cat'] }));
  for (const line of [
    'cat | tee x',
    'cat > x',
    'cat $(touch x)',
    'cat `touch x`',
    "cat 'open",
    'cat "open',
    'cat ; touch x',
    'cat && touch x',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion gitfleet must refuse, written literally
    'cat ${HOME}',
  ]) {
    add('command line', brief(line), at(['agents', 0, 'command'], line));
  }
  add('reference', 'undeclared runtime, no command of its own', at(['agents', 1, 'runtime'], 'nosuch'));
  add('reference', 'host not in fleet.yaml hosts', at(['agents', 0, 'host'], 'otherhost'));
  add('collision', 'agent twice in one file', at(['agents', 1], { name: 'alpha', runtime: 'stub' }));
  add('collision', 'agent named like the holder', at(['agents', 1], { name: '_holder', runtime: 'stub' }));
  const twoSpellings = at(['agents', 2], { name: 'beta_two', runtime: 'stub' });
  add(
    'collision',
    'beta_two and beta.two share a session',
    withAt(twoSpellings, ['agents', 3], { name: 'beta.two', runtime: 'stub' }),
  );
  add('collision', 'socket_name and socketName', at(['tmux', 'socketName'], c.socket));
  add('collision', 'working_directory and workingDirectory', at(['agents', 0, 'workingDirectory'], c.wd));
  return out;
}

function semanticFleetCases(c: Ctx): Case[] {
  const base = baseFleet(c);
  const out: Case[] = [];
  const add = (category: string, label: string, doc: unknown, expect: string[] | null = [FLEET]) =>
    out.push({
      id: `fleet.${category} ${label}`,
      category: `fleet: ${category}`,
      files: { [FLEET]: yamlText(doc) },
      expect,
    });
  for (const b of BAD_BRANCHES) {
    add('status.branch', brief(b), withAt(base, ['status', 'branch'], b));
    add('branch', brief(b), withAt(base, ['branch'], b));
  }
  for (const [k, v] of [
    ['name', 'git\nfleet'],
    ['name', 'git\0fleet'],
    ['name', 'git <x>'],
    ['email', 'a>b@x'],
    ['email', 'a\n@x'],
    ['email', 'a\0@x'],
  ] as const) {
    add('git author', `${k} ${brief(v)}`, withAt(base, ['git', 'author', k], v));
  }
  add('reference', 'hosts without the agents host', withAt(base, ['hosts'], ['otherhost']), null);
  return out;
}

// ---------------------------------------------------------------- cross-file and layout

function layoutCases(c: Ctx): Case[] {
  const roster = yamlText(baseRoster(c));
  const other = (agents: unknown[], extra: Record<string, unknown> = {}) =>
    yamlText({
      version: 1,
      tmux: { socket_name: c.socket, holder_session: '_holder' },
      runtimes: { stub: { command: ['cat', '-u'] } },
      agents,
      ...extra,
    });
  const out: Case[] = [];
  const add = (category: string, label: string, files: Record<string, Entry>, expect: string[] | null) =>
    out.push({ id: `${category} ${label}`, category, files, expect });
  const dup = (name: string) => [{ name, runtime: 'stub', update: 'recreate' }];
  add('cross-file', 'aa.yaml redeclares alpha (sorts first)', { 'rosters/aa.yaml': other(dup('alpha')) }, [
    'rosters/aa.yaml',
    ROSTER,
  ]);
  add('cross-file', 'zz.yaml redeclares alpha', { 'rosters/zz.yaml': other(dup('alpha')) }, [
    'rosters/zz.yaml',
    ROSTER,
  ]);
  add('cross-file', 'aa.yaml redeclares beta', { 'rosters/aa.yaml': other(dup('beta')) }, ['rosters/aa.yaml', ROSTER]);
  add('cross-file', 'zz.yml (short extension) redeclares alpha', { 'rosters/zz.yml': other(dup('alpha')) }, [
    'rosters/zz.yml',
    ROSTER,
  ]);
  add(
    'cross-file',
    'zz.yaml names another holder on the socket',
    { 'rosters/zz.yaml': other(dup('gamma'), { tmux: { socket_name: c.socket, holder_session: 'other_holder' } }) },
    ['rosters/zz.yaml'],
  );
  add('cross-file', 'zz.yaml declares an agent named like the holder', { 'rosters/zz.yaml': other(dup('_holder')) }, [
    'rosters/zz.yaml',
  ]);
  add(
    'cross-file',
    'aa.yaml declares an agent named like the holder',
    { 'rosters/aa.yaml': other(dup('_holder')) },
    null,
  );
  // The roster folder in shapes gitfleet must not read as "no rosters".
  add('layout', 'team.yaml is a directory', { [ROSTER]: null, 'rosters/team.yaml/inner.yaml': roster }, null);
  add('layout', 'rosters is a file', { [ROSTER]: null, rosters: roster }, null);
  add(
    'layout',
    'team.yaml is a symlink',
    { [ROSTER]: { symlink: '../elsewhere/team.yaml' }, 'elsewhere/team.yaml': roster },
    null,
  );
  add(
    'layout',
    'rosters is a symlink',
    { [ROSTER]: null, rosters: { symlink: 'elsewhere' }, 'elsewhere/team.yaml': roster },
    null,
  );
  add('layout', 'team.yaml is a gitlink', { [ROSTER]: { gitlink: '1'.repeat(40) } }, null);
  add('layout', 'rosters is a gitlink', { [ROSTER]: null, rosters: { gitlink: '2'.repeat(40) } }, null);
  add('layout', 'moved to rosters/sub/', { [ROSTER]: null, 'rosters/sub/team.yaml': roster }, null);
  for (const name of ['team.YAML', 'team.yaml.bak', 'team.yml~', 'team.json', 'team', '.team.yaml.swp']) {
    add('layout', `renamed ${name}`, { [ROSTER]: null, [`rosters/${name}`]: roster }, null);
  }
  add('layout', 'a stray notes.txt beside the roster', { 'rosters/notes.txt': 'remember the milk\n' }, null);
  add(
    'layout',
    'paths.rosters typo',
    { [FLEET]: yamlText(withAt(baseFleet(c), ['paths', 'rosters'], 'roster')) },
    null,
  );
  add(
    'layout',
    'paths.rosters names a file',
    { [FLEET]: yamlText(withAt(baseFleet(c), ['paths', 'rosters'], 'rosters/team.yaml')) },
    null,
  );
  add('layout', 'fleet.yaml is a directory', { [FLEET]: null, 'fleet.yaml/x.yaml': yamlText(baseFleet(c)) }, null);
  return out;
}

// ---------------------------------------------------------------- raw text

function rawCases(c: Ctx, seed: number): Case[] {
  const rnd = prng(seed);
  const out: Case[] = [];
  const targets = [
    { kind: 'roster', file: ROSTER, text: yamlText(baseRoster(c)) },
    { kind: 'fleet', file: FLEET, text: yamlText(baseFleet(c)) },
  ];
  for (const { kind, file, text } of targets) {
    const add = (label: string, content: string | Buffer, heavy = false) =>
      out.push({
        id: `${kind}.syntax ${label}`,
        category: `${kind}: raw text`,
        files: { [file]: content },
        expect: [file],
        heavy,
      });
    const key = kind === 'roster' ? 'agents' : 'hosts';
    const replaceSection = (yaml: string) => `${dropSection(text, key)}${key}: ${yaml}\n`;
    // Deep nesting: a parser that recurses overflows its stack here.
    add('5000-deep flow lists', replaceSection('['.repeat(5000) + ']'.repeat(5000)), true);
    add('5000-deep flow maps', replaceSection(`${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`), true);
    add('5000-deep block lists', `${dropSection(text, key)}${key}:\n${'- '.repeat(5000)}x\n`, true);
    add('5000-deep whole document', `${'['.repeat(5000) + ']'.repeat(5000)}\n`, true);
    add('200-deep maps', replaceSection(`${'{a: '.repeat(200)}1${'}'.repeat(200)}`));
    // Alias bombs and anchors that refer to themselves.
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      bomb.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    add('billion laughs', `${text}${bomb.join('\n')}\n`, true);
    add('billion laughs in a value', replaceSection(`{${bomb.join(', ')}}`), true);
    add('self-referencing list anchor', replaceSection('&x [*x]'), true);
    add('self-referencing map anchor', replaceSection('&x {a: *x}'), true);
    add('self-referencing whole document', '&x {a: *x, b: [*x, *x]}\n', true);
    add('alias to an undefined anchor', replaceSection('*nowhere'));
    add('merge key', replaceSection('{<<: {a: 1}}'));
    // Size and bytes.
    add(
      '2 MB of comments',
      `${text}${'# padding padding padding padding padding padding padding\n'.repeat(36_000)}`,
      true,
    );
    add('one 1.5 MB line', `${text}bogus: ${'x'.repeat(1_500_000)}\n`, true);
    add('900 kB of comments, then an unknown key', `${text}${'# pad\n'.repeat(150_000)}bogus_at_the_end: 1\n`, true);
    for (let i = 0; i < 4; i++) {
      const n = rnd.int(64, 4096);
      const bytes = Buffer.alloc(n);
      for (let j = 0; j < n; j++) bytes[j] = rnd.int(0, 255);
      bytes[rnd.int(0, n - 1)] = 0;
      bytes[rnd.int(0, n - 1)] = 0xff;
      add(`${n} bytes of binary garbage (#${i})`, bytes, true);
    }
    add(
      'PNG header and garbage',
      Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.from(text).reverse()]),
      true,
    );
    add('UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), true);
    add(
      'invalid UTF-8 in a key',
      Buffer.concat([Buffer.from(text), Buffer.from([0x62, 0xc3, 0x28, 0x3a, 0x20, 0x31, 0x0a])]),
      true,
    );
    add('raw NUL byte in a line', `${text}bogus\0: 1\n`);
    // Whitespace and line ends.
    add(
      'tab indentation',
      text.replace(/^( {2})+/gm, (s) => '\t'.repeat(s.length / 2)),
    );
    add('tab after a key, unknown key', `${text}bogus:\t1\n`);
    add('BOM before the second key', text.replace(/\n(\w)/, '\n\ufeff$1'));
    add('BOM first, then an unknown key', `\ufeff${text}bogus: 1\n`);
    add('CRLF, then an unknown key', `${text}bogus: 1\n`.replace(/\n/g, '\r\n'));
    add('CR only, then an unknown key', `${text}bogus: 1\n`.replace(/\n/g, '\r'));
    add(
      'mixed line ends, then an unknown key',
      `${text.replace(/\n/g, (_m, i: number) => (i % 2 ? '\r\n' : '\n'))}bogus: 1\n`,
    );
    add('U+2028 line separator in a key', `${text}bo\u2028gus: 1\n`);
    // YAML-level breakage.
    add('two documents', `${text}---\n${text}`);
    add('duplicate top-level key', `${text}${text.split('\n')[0]}\n`);
    add('unclosed double quote', `${text}bogus: "never closed\n`);
    add('unclosed flow list', `${text}bogus: [1, 2\n`);
    add('bad escape', `${text}bogus: "\\q"\n`);
    add('list instead of a map', `- ${text.split('\n')[0]}\n`);
    add('scalar document', 'just some words\n');
    add('number document', '42\n');
    add(
      'binary tag in a string field',
      kind === 'roster'
        ? text.replace('class: worker', 'class: !!binary aGVsbG8=')
        : text.replace('supervisor: tmux', 'supervisor: !!binary aGVsbG8='),
    );
    add('complex key', `${text}? [a, b]\n: 1\n`);
    add('numeric key', `${text}1: x\n`);
    add('null key', `${text}~: x\n`);
    add('document end, then more content', `${text}...\nbogus: 1\n`);
    if (kind === 'roster') {
      add('empty file', '');
      add('only comments', '# nothing here\n');
      add('explicit null', '~\n');
      add('version as string', text.replace('version: 1', 'version: !!str 1'));
    }
  }
  return out;
}

/** `text` without the top-level section `key` (its line and the indented lines under it). */
function dropSection(text: string, key: string): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  let skipping = false;
  for (const l of lines) {
    if (l.startsWith(`${key}:`)) skipping = true;
    else if (skipping && !/^[\s-]/.test(l)) skipping = false;
    if (!skipping && l !== '') kept.push(l);
  }
  return `${kept.join('\n')}\n`;
}

// ---------------------------------------------------------------- all of it

const schema = (name: string): Schema =>
  JSON.parse(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), 'utf8'));

export function malformedCorpus(c: Ctx, seed: number): Case[] {
  const all = [
    ...schemaCases('roster', ROSTER, schema('roster'), baseRoster(c), c.canary),
    ...schemaCases('fleet', FLEET, schema('fleet'), baseFleet(c), c.canary),
    ...semanticRosterCases(c),
    ...semanticFleetCases(c),
    ...layoutCases(c),
    ...rawCases(c, seed),
  ];
  // One case per distinct input (a fraction for an integer is also "a number", and so on).
  const seen = new Set<string>();
  return all.filter((k) => {
    const key = JSON.stringify(
      Object.entries(k.files).map(([f, e]) => [f, Buffer.isBuffer(e) ? e.toString('base64') : e]),
    );
    return !seen.has(key) && seen.add(key);
  });
}

/**
 * Strings aimed at tmux's format expansion and at shells, for every string
 * field of a new agent. They need not be invalid (escaping is a fix too), but
 * nothing may run: the canary must never appear.
 */
export function injectionProbes(c: Ctx): { id: string; canary: string; files: Record<string, Entry> }[] {
  const payloads = (k: string) => [
    `#(touch ${k})`,
    `#{pane_pid}#(touch ${k})`,
    `$(touch ${k})`,
    `\`touch ${k}\``,
    `x;touch ${k}`,
    `x\ntouch ${k}`,
  ];
  const base = baseRoster(c);
  const probe = { name: 'probe', runtime: 'stub', update: 'recreate' };
  const fields: [string, Seg[], (p: string) => unknown][] = [
    ['agent working_directory', ['working_directory'], (p) => `${c.wd}/${p}`],
    ['agent env value', ['env', 'PROBE'], (p) => p],
    ['agent argv', ['command'], (p) => ['cat', p]],
    ['agent class', ['class'], (p) => p],
    ['agent model_hint', ['model_hint'], (p) => p],
    ['agent kickstart_template', ['kickstart_template'], (p) => p],
    ['runtime reset_command', [], (p) => p],
  ];
  const out: { id: string; canary: string; files: Record<string, Entry> }[] = [];
  for (const [label, p, make] of fields) {
    for (let i = 0; i < payloads('').length; i++) {
      const canary = `${c.canary}-${out.length}`;
      const payload = payloads(canary)[i]!;
      const doc = label.startsWith('runtime')
        ? withAt(
            withAt(base, ['runtimes', 'probe_rt'], { command: ['cat'], reset_command: make(payload) }),
            ['agents', 2],
            { ...probe, runtime: 'probe_rt' },
          )
        : withAt(withAt(base, ['agents', 2], probe), ['agents', 2, ...p], make(payload));
      out.push({ id: `${label} ${brief(payload)}`, canary, files: { [ROSTER]: yamlText(doc) } });
    }
  }
  return out;
}
