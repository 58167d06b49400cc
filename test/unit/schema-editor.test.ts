// The published schemas are for editors: they must accept exactly what
// gitfleet accepts, snake_case and camelCase alike, validated alone (ajv on
// the file as written, no gitfleet normalisation). Issue #9.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../src/desired/fleet-parse.js';
import { parseRoster } from '../../src/desired/kinds/roster/parse.js';

const root = path.resolve(import.meta.dirname, '../..');
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const schema = (name: string) =>
  ajv.compile(JSON.parse(readFileSync(path.join(root, 'schemas', `${name}.schema.json`), 'utf8')) as object);
const roster = schema('roster');
const fleet = schema('fleet');

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );

const gitfleetValid = (kind: 'roster' | 'fleet', text: string): boolean =>
  kind === 'roster'
    ? parseRoster('rosters/x.yaml', text, { home: '/home/op' }).problems.length === 0
    : parseFleetConfig(text, { fleet: 'f', branch: 'main', host: 'h' }).problems.length === 0;

describe('the published schemas, used alone', () => {
  const examples = yamlFiles(path.join(root, 'examples'));
  it('finds the examples', () => {
    expect(examples.map((f) => path.relative(root, f)).sort()).toEqual([
      'examples/fleet/fleet.yaml',
      'examples/fleet/rosters/agents.yaml',
    ]);
  });

  it.each(examples.map((f) => [path.relative(root, f)]))(
    '%s names its schema on its first line, and validates against it',
    (rel) => {
      const text = readFileSync(path.join(root, rel), 'utf8');
      const kind = rel.endsWith('fleet.yaml') ? 'fleet' : 'roster';
      const first = text.split('\n', 1)[0]!;
      expect(first).toMatch(
        new RegExp(`^# yaml-language-server: \\$schema=(\\.\\./)+schemas/${kind}\\.schema\\.json$`),
      );
      // The relative path resolves to the schema from where the file sits.
      expect(path.resolve(path.dirname(path.join(root, rel)), first.split('=')[1]!)).toBe(
        path.join(root, 'schemas', `${kind}.schema.json`),
      );
      const validate = kind === 'fleet' ? fleet : roster;
      expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
      expect(gitfleetValid(kind, text)).toBe(true);
    },
  );

  it.each(yamlFiles(path.join(root, 'test', 'fixtures', 'field')).map((f) => [path.relative(root, f)]))(
    'the field fixture %s validates against the roster schema',
    (rel) => {
      expect(roster(parse(readFileSync(path.join(root, rel), 'utf8'))), JSON.stringify(roster.errors)).toBe(true);
    },
  );

  // Files whose validity the schema can decide: gitfleet and the schema must agree on each.
  const head = 'version: 1\nruntimes:\n  claude: {resetCommand: /clear}\n';
  const corpus: [string, 'roster' | 'fleet', string, boolean][] = [
    [
      'snake_case roster',
      'roster',
      'version: 1\n' +
        'tmux: {socket_name: s, holder_session: h}\n' +
        'agents:\n' +
        '  - {name: a, runtime: claude, working_directory: /srv, reset_between_tasks: true}\n' +
        'runtimes: {claude: {reset_command: /clear, idle_after: 5}}\n',
      true,
    ],
    [
      'camelCase roster',
      'roster',
      `${head}tmux: {socketName: s, holderSession: h}\n` +
        'defaults: {workingDirectory: /srv}\n' +
        'agents:\n' +
        '  - {name: a, runtime: claude, resetBetweenTasks: true, modelHint: opus, persistentPersona: semi}\n',
      true,
    ],
    [
      'camelCase runtime keys',
      'roster',
      'version: 1\n' +
        'runtimes:\n' +
        '  claude: {processNames: [node], idleAfter: 30, heartbeat: 5}\n' +
        'agents: [{name: a, runtime: claude}]\n',
      true,
    ],
    ['unknown key', 'roster', `${head}agents: [{name: a, runtime: claude, colour: red}]\n`, false],
    ['unknown camelCase-looking key', 'roster', `${head}agents: [{name: a, runtime: claude, workingDir: /x}]\n`, false],
    ['version 2', 'roster', 'version: 2\nagents: []\n', false],
    ['agents missing', 'roster', 'version: 1\n', false],
    ['bad agent name', 'roster', `${head}agents: [{name: "a/b", runtime: claude}]\n`, false],
    ['update not allowed', 'roster', `${head}agents: [{name: a, runtime: claude, update: always}]\n`, false],
    [
      'heartbeat below 0.1',
      'roster',
      'version: 1\nruntimes: {claude: {heartbeat: 0}}\nagents: [{name: a, runtime: claude}]\n',
      false,
    ],
    ['env name not allowed', 'roster', `${head}agents: [{name: a, runtime: claude, env: {"1X": y}}]\n`, false],
    ['empty fleet.yaml', 'fleet', '', true],
    [
      'camelCase fleet settings',
      'fleet',
      'fleet: lab\n' +
        'status: {branch: gitfleet-status}\n' +
        'reconcile: {maxPrune: 3, confirmPrune: abcdef1}\n' +
        'supervisor: tmux\n',
      true,
    ],
    [
      'snake_case fleet settings',
      'fleet',
      'reconcile: {prune: false, max_prune: "25%", confirm_prune: abcdef1}\n',
      true,
    ],
    ['fleet unknown key', 'fleet', 'colour: red\n', false],
    ['supervisor not allowed', 'fleet', 'supervisor: docker\n', false],
    ['max_prune not a count or share', 'fleet', 'reconcile: {max_prune: "half"}\n', false],
    ['author with a newline', 'fleet', 'git: {author: {name: "a\\nb"}}\n', false],
  ];
  it.each(corpus)('%s: schema and gitfleet agree', (_what, kind, text, valid) => {
    const validate = kind === 'fleet' ? fleet : roster;
    expect(validate(parse(text) ?? null)).toBe(valid);
    expect(gitfleetValid(kind, text)).toBe(valid);
  });
});
