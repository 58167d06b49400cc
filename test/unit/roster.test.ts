// Rosters and fleet.yaml: parse is pure, accepts the field's files as they
// are (snake_case and camelCase), and reports every problem with
// file:line:col, what is wrong and what is allowed.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatProblem, type Problem } from '../../src/errors.js';
import { splitCommandLine } from '../../src/desired/kinds/roster/command.js';
import { defaultConfig } from '../../src/desired/fleet-config.js';
import { parseFleetConfig } from '../../src/desired/fleet-parse.js';
import { rosterKind } from '../../src/desired/kinds/roster/index.js';
import { assembleDesired } from '../../src/desired/load.js';
import { parseRoster } from '../../src/desired/kinds/roster/parse.js';
import type { AgentSpec, FileState, FleetConfig, Roster, SourceFile } from '../../src/desired/types.js';
import { MAX_FILE_BYTES } from '../../src/desired/yaml.js';
import { joinedRegExp } from '../helpers/regexp.js';

const HOME = '/home/op';
const FILE = 'rosters/t.yaml';
const FIELD = new URL('../fixtures/field/rosters/', import.meta.url);

// ---- builders -------------------------------------------------------------

/** Lines joined into a YAML document (keeps positions easy to read in tests). */
const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;

const parse = (text: string, file = FILE) => parseRoster(file, text, { home: HOME });

/** Parse text that must be valid; return the roster. */
function valid(text: string, file = FILE): Roster {
  const r = parse(text, file);
  expect(r.problems.map(formatProblem)).toEqual([]);
  expect(r.roster).not.toBeNull();
  return r.roster!;
}

/** Parse text that must be invalid; return its problems. */
function invalid(text: string, file = FILE): Problem[] {
  const r = parse(text, file);
  expect(r.roster).toBeNull();
  expect(r.problems.length).toBeGreaterThan(0);
  return r.problems;
}

/** Assert the exact problems: [line, col, message pattern] each, in any order of the file. */
function expectProblems(problems: Problem[], expected: [number, number, RegExp][], file = FILE): void {
  const got = [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
  const want = [...expected].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  expect(got.map((p) => `${p.file}:${p.line}:${p.col}`)).toEqual(want.map(([l, c]) => `${file}:${l}:${c}`));
  for (const [i, p] of got.entries()) expect(p.message).toMatch(want[i]![2]);
}

/** A one-runtime roster around the given agent entries (as plain objects). */
function rosterText(agents: object[], extra: object = {}): string {
  return stringify({ version: 1, runtimes: { claude: { reset_command: '/clear' } }, agents, ...extra });
}

function agent(text: string, name = 'a'): AgentSpec {
  const found = valid(text).agents.find((a) => a.name === name);
  expect(found).toBeDefined();
  return found!;
}

const readField = (name: string): string => readFileSync(new URL(name, FIELD), 'utf8');

/** Every structural snake_case key the field writes. */
const SNAKE_KEYS = [
  'socket_name',
  'holder_session',
  'working_directory',
  'reset_command',
  'reset_between_tasks',
  'persistent_persona',
  'model_hint',
  'kickstart_template',
];

/** camelCase every structural snake_case key the field writes. */
const camelise = (text: string): string =>
  text.replace(new RegExp(`\\b(${SNAKE_KEYS.join('|')})\\b`, 'g'), (k) =>
    k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
  );

// ---- field fixtures ---------------------------------------------------------

describe('field rosters', () => {
  const files = readdirSync(FIELD)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

  it('finds the field fixtures on disk', () => {
    expect(files).toEqual(expect.arrayContaining(['local-canary.yaml', 'minimal.yaml']));
  });

  it.each(files)('%s validates unchanged', (name) => {
    const roster = valid(readField(name), `rosters/${name}`);
    expect(roster.agents.length).toBeGreaterThan(0);
    expect(roster.file).toBe(`rosters/${name}`);
  });

  it('local-canary.yaml yields its three agents with runtimes, socket, holder, reset commands and cwd', () => {
    const roster = valid(readField('local-canary.yaml'), 'rosters/local-canary.yaml');
    expect(roster.socket).toBe('mosaic-factory');
    expect(roster.holder).toBe('_holder');
    expect(roster.transport).toBe('tmux');
    const view = roster.agents.map((a) => ({
      name: a.name,
      session: a.session,
      socket: a.socket,
      runtime: a.runtime,
      argv: a.argv,
      cwd: a.cwd,
      class: a.class,
      resetCommand: a.resetCommand,
      resetBetweenTasks: a.resetBetweenTasks,
      enabled: a.enabled,
      update: a.update,
      host: a.host,
    }));
    const common = { socket: 'mosaic-factory', cwd: '/home/op/src', enabled: true, update: 'on-idle', host: null };
    // Sorted by name, whatever the file's order.
    expect(view).toEqual([
      {
        ...common,
        name: 'coder0',
        session: 'coder0',
        runtime: 'codex',
        argv: ['codex'],
        class: 'implementer',
        resetCommand: '/clear',
        resetBetweenTasks: true,
      },
      {
        ...common,
        name: 'lead',
        session: 'lead',
        runtime: 'claude',
        argv: ['claude'],
        class: 'orchestrator',
        resetCommand: '/clear',
        resetBetweenTasks: false,
      },
      {
        ...common,
        name: 'reviewer0',
        session: 'reviewer0',
        runtime: 'pi',
        argv: ['pi'],
        class: 'reviewer',
        resetCommand: '/new',
        resetBetweenTasks: true,
      },
    ]);
    // Each agent points back at its entry in the file.
    expect(roster.agents.map((a) => `${a.source.file}:${a.source.line}:${a.source.col}`)).toEqual([
      'rosters/local-canary.yaml:20:5',
      'rosters/local-canary.yaml:16:5',
      'rosters/local-canary.yaml:24:5',
    ]);
  });

  it('minimal.yaml yields canary-pi', () => {
    const roster = valid(readField('minimal.yaml'), 'rosters/minimal.yaml');
    expect(roster.agents).toHaveLength(1);
    const [a] = roster.agents;
    expect(a).toMatchObject({
      name: 'canary-pi',
      session: 'canary-pi',
      socket: 'mosaic-factory',
      runtime: 'pi',
      argv: ['pi'],
      cwd: '/home/op/src',
      class: 'canary',
      resetCommand: '/new',
      resetBetweenTasks: true,
      env: {},
    });
    expect(a!.specHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('expands ~ against the home it is given, not the process home', () => {
    const other = parseRoster('rosters/minimal.yaml', readField('minimal.yaml'), { home: '/srv/agent' }).roster!;
    expect(other.agents[0]!.cwd).toBe('/srv/agent/src');
  });

  it('all field rosters together share one socket without conflict', () => {
    const sources = files.map((f) => source(`rosters/${f}`, readField(f)));
    const desired = assembleDesired(config(), fleetState(), sources, new Map(), { home: HOME, kinds });
    expect(desired.problems).toEqual([]);
    expect(desired.rosters.flatMap((r) => r.agents.map((a) => a.name)).sort()).toEqual([
      'canary-pi',
      'coder0',
      'lead',
      'reviewer0',
    ]);
  });
});

// ---- camelCase --------------------------------------------------------------

describe('camelCase keys', () => {
  it.each(['local-canary.yaml', 'minimal.yaml'])('camelCase %s parses to the same roster', (name) => {
    const snake = readField(name);
    const camel = camelise(snake);
    expect(camel).not.toBe(snake);
    expect(camel).toContain('socketName:');
    expect(camel).toContain('holderSession:');
    expect(camel).toContain('workingDirectory:');
    expect(camel).toContain('resetCommand:');
    expect(camel).toContain('resetBetweenTasks:');
    expect(valid(camel, `rosters/${name}`)).toEqual(valid(snake, `rosters/${name}`));
  });

  it('accepts camelCase agent keys (workingDirectory, persistentPersona, modelHint, kickstartTemplate)', () => {
    const a = agent(
      doc(
        'version: 1',
        'runtimes: {claude: {}}',
        'agents:',
        '  - name: a',
        '    runtime: claude',
        '    workingDirectory: ~/w',
        '    persistentPersona: semi',
        '    modelHint: opus',
        '    kickstartTemplate: prompts/a.md',
        '    resetBetweenTasks: true',
      ),
    );
    expect(a.cwd).toBe('/home/op/w');
    expect(a.resetBetweenTasks).toBe(true);
  });

  it('keeps runtime names and env variable names as written', () => {
    const a = agent(
      doc(
        'version: 1',
        'runtimes:',
        '  myRuntime:',
        '    resetCommand: /clear',
        '    env: {fooBar: 1, X_Y: true}',
        'agents:',
        '  - name: a',
        '    runtime: myRuntime',
        '    env: {fooBar: two, lowerCase: x}',
      ),
    );
    expect(a.runtime).toBe('myRuntime');
    expect(a.argv).toEqual(['myRuntime']);
    expect(a.resetCommand).toBe('/clear');
    // Agent env overrides the runtime's; values become strings.
    expect(a.env).toEqual({ X_Y: 'true', fooBar: 'two', lowerCase: 'x' });
  });

  it('a runtime named "env" still has its keys normalised', () => {
    const a = agent(
      doc('version: 1', 'runtimes:', '  env:', '    resetCommand: /clear', 'agents:', '  - {name: a, runtime: env}'),
    );
    expect(a.resetCommand).toBe('/clear');
  });

  it.each([
    [
      'tmux',
      doc('version: 1', 'tmux:', '  socket_name: a', '  socketName: b', 'agents: []'),
      4,
      3,
      /"socketName" repeats "socket_name".*keep one/,
    ],
    [
      'defaults',
      doc('version: 1', 'defaults:', '  workingDirectory: ~/a', '  working_directory: ~/b', 'agents: []'),
      4,
      3,
      /"working_directory" repeats "workingDirectory".*keep one/,
    ],
    [
      'agent',
      doc(
        'version: 1',
        'runtimes: {x: }',
        'agents:',
        '  - name: a',
        '    runtime: x',
        '    reset_between_tasks: true',
        '    resetBetweenTasks: false',
      ),
      7,
      5,
      /"resetBetweenTasks" repeats "reset_between_tasks"/,
    ],
    [
      'runtime',
      doc('version: 1', 'runtimes:', '  x:', '    resetCommand: /a', '    reset_command: /b', 'agents: []'),
      5,
      5,
      /"reset_command" repeats "resetCommand"/,
    ],
  ])('both spellings of one key in %s is an error at the second one', (_where, text, line, col, message) => {
    expectProblems(invalid(text), [[line, col, message]]);
  });

  it('an unknown camelCase key is reported as written, with the allowed keys', () => {
    expectProblems(invalid(doc('version: 1', 'tmux:', '  socketNme: x', 'agents: []')), [
      [3, 3, /^tmux: unknown key "socketNme"; allowed: socket_name, holder_session$/],
    ]);
  });
});

// ---- the bad-file corpus -------------------------------------------------------

describe('bad rosters: position, what is wrong, what is allowed', () => {
  describe('broken YAML', () => {
    it('unclosed double quote: points at the opening quote', () => {
      expectProblems(
        invalid(
          doc('version: 1', 'agents:', '  - name: "lead', '    runtime: claude', '  - name: b', '    runtime: claude'),
        ),
        [[3, 11, /^invalid YAML: Missing closing "quote.*never closed/]],
      );
    });

    it('unclosed single quote: points at the opening quote', () => {
      expectProblems(invalid(doc('version: 1', "transport: 'tmux", 'agents: []')), [
        [2, 12, /^invalid YAML: Missing closing 'quote/],
      ]);
    });

    it('unclosed bracket: points at the [ that opens the list, naming the missing ]', () => {
      expectProblems(invalid(doc('version: 1', 'agents: [', '  {name: a, runtime: x}', 'tmux: {}')), [
        [2, 9, /^invalid YAML: Flow sequence .* end with a \].*\(the \[ or \{ that opens here is never closed\)$/],
      ]);
    });

    it('bad indentation of a mapping key', () => {
      expectProblems(invalid(doc('version: 1', 'tmux:', '  socket_name: s', ' holder_session: h', 'agents: []')), [
        [4, 1, /^invalid YAML: All mapping items must start at the same column/],
      ]);
    });

    it('bad indentation inside an agent entry', () => {
      const problems = invalid(doc('version: 1', 'agents:', '  - name: a', '     runtime: x'));
      expect(problems.map((p) => `${p.line}:${p.col}`)).toEqual(['3:11', '3:11']);
      expect(problems.every((p) => p.message.startsWith('invalid YAML: '))).toBe(true);
    });

    it('duplicate YAML keys', () => {
      expectProblems(invalid(doc('version: 1', 'agents:', '  - name: a', '    runtime: x', '    name: b')), [
        [5, 5, /^invalid YAML: Map keys must be unique/],
      ]);
    });

    it('duplicate top-level keys', () => {
      expectProblems(invalid(doc('version: 1', 'agents: []', 'version: 1')), [[3, 1, /Map keys must be unique/]]);
    });
  });

  describe('unknown keys list the allowed ones', () => {
    it('at top level', () => {
      expectProblems(invalid(doc('version: 1', 'socket: x', 'agents: []')), [
        [2, 1, /^\(top level\): unknown key "socket"; allowed: version, transport, tmux, defaults, runtimes, agents$/],
      ]);
    });

    it('in tmux', () => {
      expectProblems(invalid(doc('version: 1', 'tmux:', '  socket: x', 'agents: []')), [
        [3, 3, /^tmux: unknown key "socket"; allowed: socket_name, holder_session$/],
      ]);
    });

    it('in an agent', () => {
      expectProblems(
        invalid(doc('version: 1', 'runtimes: {x: }', 'agents:', '  - name: a', '    runtime: x', '    colour: red')),
        [
          [
            6,
            5,
            /^agents\[0\]: unknown key "colour"; allowed: name, runtime, class, working_directory, .*enabled, update$/,
          ],
        ],
      );
    });

    it('in a runtime', () => {
      expectProblems(invalid(doc('version: 1', 'runtimes:', '  x:', '    cmd: x', 'agents: []')), [
        [
          4,
          5,
          joinedRegExp(
            /^runtimes\.x: unknown key "cmd"; /,
            /allowed: reset_command, command, env, heartbeat, heartbeat_grace, process_names, idle_after, redact$/,
          ),
        ],
      ]);
    });
  });

  describe('wrong types and values', () => {
    it('agents not a list', () => {
      expectProblems(invalid(doc('version: 1', 'agents:', '  name: a')), [
        [3, 3, /^agents: must be array, not a mapping$/],
      ]);
    });

    it('enabled: "yes"', () => {
      expectProblems(
        invalid(doc('version: 1', 'runtimes: {x: }', 'agents:', '  - name: a', '    runtime: x', '    enabled: "yes"')),
        [[6, 14, /^agents\[0\]\.enabled: must be boolean, not string "yes"$/]],
      );
    });

    it('version: 2', () => {
      expectProblems(invalid(doc('version: 2', 'agents: []')), [[1, 10, /^version: must be 1, not 2$/]]);
    });

    it('missing version and agents', () => {
      expectProblems(invalid(doc('transport: tmux')), [
        [1, 1, /missing required key "version"/],
        [1, 1, /missing required key "agents"/],
      ]);
    });

    it('bad transport', () => {
      expectProblems(invalid(doc('version: 1', 'transport: matrix', 'agents: []')), [
        [2, 12, /^transport: "matrix" is not allowed; allowed: "tmux"$/],
      ]);
    });

    it('missing required name and runtime', () => {
      expectProblems(invalid(doc('version: 1', 'agents:', '  - class: implementer')), [
        [3, 5, /^agents\[0\]: missing required key "name"$/],
        [3, 5, /^agents\[0\]: missing required key "runtime"$/],
      ]);
    });

    it('bad update value', () => {
      expectProblems(
        invalid(doc('version: 1', 'runtimes: {x: }', 'agents:', '  - name: a', '    runtime: x', '    update: always')),
        [[6, 13, /^agents\[0\]\.update: "always" is not allowed; allowed: "on-idle", "recreate", "manual"$/]],
      );
    });

    it('bad persistent_persona value', () => {
      expectProblems(
        invalid(
          doc('version: 1', 'runtimes: {x: }', 'agents:', '  - {name: a, runtime: x, persistent_persona: maybe}'),
        ),
        [[4, 47, /persistent_persona: "maybe" is not allowed; allowed: true, false, "semi"$/]],
      );
    });

    it('an env variable name that is not one: at the key, saying what names are allowed', () => {
      expectProblems(
        invalid(
          doc(
            'version: 1',
            'runtimes: {x: }',
            'agents:',
            '  - name: a',
            '    runtime: x',
            '    env:',
            '      OK: 1',
            '      1BAD: x',
          ),
        ),
        [[8, 7, /^agents\[0\]\.env: key "1BAD" is not allowed; allowed: environment variable names/]],
      );
    });

    it('an env value that is a mapping', () => {
      expectProblems(
        invalid(
          doc('version: 1', 'runtimes: {x: }', 'agents:', '  - name: a', '    runtime: x', '    env: {A: {b: 1}}'),
        ),
        [
          [
            6,
            14,
            joinedRegExp(
              /^agents\[0\]\.env\.A: must be string or number,boolean|/,
              /^agents\[0\]\.env\.A: must be string or number or boolean/,
            ),
          ],
        ],
      );
    });
  });

  describe('names', () => {
    it('duplicate agent names', () => {
      expectProblems(
        invalid(
          doc(
            'version: 1',
            'runtimes: {x: }',
            'agents:',
            '  - name: a',
            '    runtime: x',
            '  - name: a',
            '    runtime: x',
          ),
        ),
        [[6, 11, /^agents\[1\]\.name: "a" is declared twice.*unique per socket$/]],
      );
    });

    it('two names that map to one tmux session (a.b and a_b)', () => {
      expectProblems(
        invalid(
          doc(
            'version: 1',
            'runtimes: {x: }',
            'agents:',
            '  - name: a.b',
            '    runtime: x',
            '  - name: a_b',
            '    runtime: x',
          ),
        ),
        [
          [
            6,
            11,
            /^agents\[1\]\.name: "a_b" is declared twice in this roster \(as tmux session "a_b", same as "a\.b"\)/,
          ],
        ],
      );
    });

    it('an agent named like the holder', () => {
      expectProblems(invalid(doc('version: 1', 'runtimes: {x: }', 'agents:', '  - name: _holder', '    runtime: x')), [
        [
          4,
          11,
          /^agents\[0\]\.name: "_holder" is the holder session's name; choose another name or tmux\.holder_session$/,
        ],
      ]);
    });

    it('an agent whose tmux session is the custom holder (h.x vs holder h_x)', () => {
      expectProblems(
        invalid(
          doc('version: 1', 'tmux: {holder_session: h_x}', 'runtimes: {x: }', 'agents:', '  - {name: h.x, runtime: x}'),
        ),
        [[5, 12, /is the holder session's name/]],
      );
    });

    it.each([
      ['a;rm -rf'],
      ['$(x)'],
      ['a b'],
      ['`id`'],
      ['../x'],
      ['a/../b'],
      ['.hidden'],
      ['-flag'],
      ['x'.repeat(65)],
    ])('rejects the agent name %j and says which names are allowed', (name) => {
      const text = doc(
        'version: 1',
        'runtimes: {x: }',
        'agents:',
        `  - name: ${JSON.stringify(name)}`,
        '    runtime: x',
      );
      const problems = invalid(text);
      expectProblems(problems, [[4, 11, /^agents\[0\]\.name: /]]);
      if (name.length <= 64) {
        expect(problems[0]!.message).toBe(
          `agents[0].name: ${JSON.stringify(name)} is not allowed; ` +
            "allowed: letters, digits, '_', '.', '-' (not first), at most 64 characters",
        );
      } else {
        expect(problems[0]!.message).toMatch(/64/);
      }
    });

    it('rejects bad socket and holder names', () => {
      expectProblems(
        invalid(doc('version: 1', 'tmux:', '  socket_name: ../default', '  holder_session: "a b"', 'agents: []')),
        [
          [3, 16, /^tmux\.socket_name: "\.\.\/default" is not allowed; allowed: letters/],
          [4, 19, /^tmux\.holder_session: "a b" is not allowed; allowed: letters/],
        ],
      );
    });

    it('rejects a runtime name with shell metacharacters, at its key', () => {
      expectProblems(invalid(doc('version: 1', 'runtimes:', '  "x;y": {}', 'agents: []')), [
        [3, 3, /^runtimes: key "x;y" is not allowed; allowed: letters/],
      ]);
    });
  });

  describe('runtimes', () => {
    it('runtime not declared and no command, listing the declared runtimes', () => {
      expectProblems(
        invalid(
          doc('version: 1', 'runtimes:', '  claude: {}', '  pi: {}', 'agents:', '  - name: a', '    runtime: codex'),
        ),
        [
          [
            7,
            14,
            joinedRegExp(
              /^agents\[0\]\.runtime: "codex" is not declared under runtimes /,
              /and the agent gives no command; declared: claude, pi$/,
            ),
          ],
        ],
      );
    });

    it('runtime not declared and no runtimes at all', () => {
      expectProblems(invalid(doc('version: 1', 'agents:', '  - name: a', '    runtime: codex')), [
        [4, 14, /declared: \(none\)$/],
      ]);
    });

    it('an undeclared runtime is fine when the agent gives its command', () => {
      const a = agent(doc('version: 1', 'agents:', '  - name: a', '    runtime: codex', '    command: codex --yolo'));
      expect(a.argv).toEqual(['codex', '--yolo']);
      expect(a.resetCommand).toBeNull();
    });

    it('heartbeat_grace: three heartbeat intervals by default, as written when given, none without heartbeats', () => {
      const roster = (rt: string) =>
        doc('version: 1', 'runtimes:', `  x: ${rt}`, 'agents:', '  - {name: a, runtime: x}');
      expect(agent(roster('{command: x, heartbeat: 5}'))).toMatchObject({ heartbeatInterval: 5, heartbeatGrace: 15 });
      expect(agent(roster('{command: x, heartbeat: true}'))).toMatchObject({ heartbeatGrace: 45 });
      expect(agent(roster('{command: x, heartbeat: 5, heartbeat_grace: 120}')).heartbeatGrace).toBe(120);
      expect(agent(roster('{command: x, heartbeat: 5, heartbeatGrace: 0}')).heartbeatGrace).toBe(0);
      expect(agent(roster('{command: x}'))).toMatchObject({ heartbeatInterval: null, heartbeatGrace: null });
      expectProblems(invalid(roster('{command: x, heartbeat: 5, heartbeat_grace: -1}')), [
        [3, 50, /^runtimes\.x\.heartbeat_grace: must be >= 0/],
      ]);
      // Without heartbeat it would mean nothing: said at the key, with what to do.
      expectProblems(invalid(roster('{command: x, heartbeatGrace: 60}')), [
        [
          3,
          19,
          /^runtimes\.x\.heartbeat_grace: only with "heartbeat" beside it; add heartbeat or remove heartbeatGrace$/,
        ],
      ]);
    });
  });

  describe('size and alias limits', () => {
    it('rejects a file over 1 MiB quickly, with a size message', () => {
      const text = doc('version: 1', 'agents: []', `# ${'x'.repeat(MAX_FILE_BYTES)}`);
      const started = performance.now();
      const problems = invalid(text);
      expect(performance.now() - started).toBeLessThan(500);
      expect(problems.map(formatProblem)).toEqual([
        `${FILE}:1:1: file is ${Buffer.byteLength(text)} bytes; the limit is 1048576 bytes`,
      ]);
    });

    it('accepts a file just under the limit', () => {
      const head = doc('version: 1', 'agents: []');
      const text = `${head}#${'x'.repeat(MAX_FILE_BYTES - head.length - 2)}\n`;
      expect(Buffer.byteLength(text)).toBe(MAX_FILE_BYTES);
      expect(valid(text).agents).toEqual([]);
    });

    it('rejects a YAML alias bomb (billion laughs) without hanging', () => {
      const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 9; i++) {
        const prev = String.fromCharCode(96 + i);
        const cur = String.fromCharCode(97 + i);
        levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
      }
      const text = doc('version: 1', ...levels, 'agents: []');
      const started = performance.now();
      const problems = invalid(text);
      expect(performance.now() - started).toBeLessThan(1000);
      expectProblems(problems, [[1, 1, /^invalid YAML: .*(alias|resource exhaustion)/i]]);
    });

    it('still accepts a few ordinary aliases', () => {
      const roster = valid(
        doc(
          'version: 1',
          'runtimes: {x: }',
          'agents:',
          '  - &base {name: a, runtime: x, class: implementer}',
          '  - {name: b, runtime: x}',
        ),
      );
      expect(roster.agents.map((a) => a.name)).toEqual(['a', 'b']);
    });
  });

  describe('every problem of a file is reported at once', () => {
    it('schema problems: five in one file', () => {
      const text = doc(
        'version: 2', //                     1
        'extra: 1', //                       2
        'runtimes: {x: }', //                3
        'agents:', //                        4
        '  - name: a', //                    5
        '    runtime: x', //                 6
        '    enabled: "yes"', //             7
        '  - runtime: x', //                 8
        '  - name: b', //                    9
        '    runtime: x', //                 10
        '    update: sometimes', //          11
      );
      expectProblems(invalid(text), [
        [1, 10, /^version: must be 1/],
        [2, 1, /^\(top level\): unknown key "extra"/],
        [7, 14, /^agents\[0\]\.enabled: must be boolean/],
        [8, 5, /^agents\[1\]: missing required key "name"/],
        [11, 13, /^agents\[2\]\.update: "sometimes" is not allowed/],
      ]);
    });

    it('roster rules: duplicate, holder clash, undeclared runtime and shell command together', () => {
      const text = doc(
        'version: 1', //                     1
        'runtimes: {x: }', //                2
        'agents:', //                        3
        '  - {name: a, runtime: x}', //      4
        '  - {name: a, runtime: x}', //      5
        '  - {name: _holder, runtime: x}', // 6
        '  - {name: c, runtime: y}', //      7
        '  - {name: d, runtime: x, command: "a | b"}', // 8
      );
      expectProblems(invalid(text), [
        [5, 12, /declared twice/],
        [6, 12, /holder session's name/],
        [7, 24, /"y" is not declared under runtimes/],
        [8, 36, /"\|" needs a shell/],
      ]);
    });

    it('schema errors and roster rules in one run: a typo does not hide an undeclared runtime', () => {
      const text = doc(
        'version: 1', //                          1
        'runtimes: {x: }', //                     2
        'agents:', //                             3
        '  - name: a', //                         4
        '    runtime: x', //                      5
        '    enviroment: {A: "1"}', //            6 (typo of env)
        '  - name: b', //                         7
        '    runtime: y', //                      8 (not declared)
        '  - name: c', //                         9
        '    runtime: z', //                      10 (not declared, in the agent with the typo)
        '    updat: manual', //                   11
      );
      expectProblems(invalid(text), [
        [6, 5, /^agents\[0\]: unknown key "enviroment"/],
        [8, 14, /^agents\[1\]\.runtime: "y" is not declared under runtimes/],
        [10, 14, /^agents\[2\]\.runtime: "z" is not declared under runtimes/],
        [11, 5, /^agents\[2\]: unknown key "updat"/],
      ]);
    });

    it('a rule leaves a value the schema refused alone (one problem per mistake)', () => {
      const text = doc(
        'version: 1', //                                 1
        'runtimes: {x: {command: ""}}', //               2 (empty: the schema says so, not the splitter)
        'agents:', //                                    3
        '  - {name: a, runtime: x}', //                  4
        '  - {name: b, runtime: x, command: 5}', //      5
        '  - {name: c, runtime: 7}', //                  6 (not a name: not judged as undeclared)
        '  - {name: 9, runtime: x}', //                  7
        '  - {name: d, runtime: x, working_directory: ""}', // 8
      );
      expectProblems(invalid(text), [
        [2, 25, /^runtimes\.x\.command: must NOT have fewer than 1 characters/],
        [5, 36, /^agents\[1\]\.command: must be string or array/],
        [6, 24, /^agents\[2\]\.runtime: must be string/],
        [7, 12, /^agents\[3\]\.name: must be string/],
        [8, 46, /^agents\[4\]\.working_directory: must NOT have fewer than 1 characters/],
      ]);
    });

    it('a command is not shown while the redact list that masks it is refused', () => {
      const text = doc(
        'version: 1',
        'runtimes:',
        '  x:',
        '    command: "run --key s3cret | tee"',
        '    redact: [--key, 5]',
        'agents:',
        '  - {name: a, runtime: x}',
      );
      const problems = invalid(text);
      expectProblems(problems, [[5, 21, /^runtimes\.x\.redact\[1\]: must be string/]]);
      expect(JSON.stringify(problems)).not.toContain('s3cret');
    });

    it('a value the YAML layer refused (NUL) is not judged again by the rules', () => {
      const text = doc(
        'version: 1',
        'runtimes: {x: }',
        'agents:',
        '  - {name: a, runtime: x, working_directory: "a\\0b"}',
      );
      expectProblems(invalid(text), [[4, 46, /^agents\[0\]\.working_directory: the value contains a NUL byte/]]);
    });
  });
});

// ---- commands -------------------------------------------------------------------

describe('splitCommandLine', () => {
  it.each([
    ['claude', ['claude']],
    ['  claude   --yolo\t-v ', ['claude', '--yolo', '-v']],
    [`claude --model 'opus 4'`, ['claude', '--model', 'opus 4']],
    [`say "a \\"b\\" \\\\ c"`, ['say', 'a "b" \\ c']],
    ['a c\\ d', ['a', 'c d']],
    [`a "x\\ny"`, ['a', 'x\\ny']],
    [`a 'it''s'`, ['a', 'its']],
    [`a ''`, ['a', '']],
    ['~/bin/claude --dir ~', ['/home/op/bin/claude', '--dir', '/home/op']],
    ['a x~/y', ['a', 'x~/y']],
    [`a '~/q'`, ['a', '~/q']],
    ['a b#c', ['a', 'b#c']],
    ['a "|;$"', null], // "$" inside double quotes still needs a shell
    [`a '|;$ > <'`, ['a', '|;$ > <']],
    ['a \\| b', ['a', '|', 'b']],
  ] as [string, string[] | null][])('%j', (line, argv) => {
    const r = splitCommandLine(line, HOME);
    if (argv) expect(r).toEqual({ argv });
    else expect(r).toHaveProperty('error');
  });

  it.each([
    ['a | b', '"|" needs a shell'],
    ['a; b', '";" needs a shell'],
    ['a && b', '"&" needs a shell'],
    ['echo $X', '"$" needs a shell'],
    ['echo `id`', '"`" needs a shell'],
    ['a > log', '">" needs a shell'],
    ['a < in', '"<" needs a shell'],
    ['a $(x)', '"$" needs a shell'],
    ['ls *.md', '"*" needs a shell'],
    ['a "$HOME"', '"$" inside double quotes needs a shell'],
    ['a "`x`"', '"`" inside double quotes needs a shell'],
    ["a 'open", 'unterminated single quote'],
    ['a "open', 'unterminated double quote'],
    ['a\\', 'trailing backslash'],
    ['   ', 'empty command'],
    ['~root/bin/x', '"~user" needs a shell'],
    ['claude # the model', '"#" starts a shell comment'],
    ['FOO=1 claude', '"FOO=1" is a shell variable assignment; put variables under env:'],
  ])('refuses %j', (line, message) => {
    const r = splitCommandLine(line, HOME);
    expect(r).toHaveProperty('error');
    expect((r as { error: string }).error).toContain(message);
  });

  it('says what to do instead of shell syntax', () => {
    expect(splitCommandLine('a | b', HOME)).toEqual({
      error: '"|" needs a shell; quote it, or write the command as an argv list (e.g. [sh, -c, "..."])',
    });
  });
});

describe('roster commands', () => {
  it('defaults to the runtime name', () => {
    expect(agent(rosterText([{ name: 'a', runtime: 'claude' }])).argv).toEqual(['claude']);
  });

  it('splits a runtime command line into argv, expanding ~/', () => {
    const text = stringify({
      version: 1,
      runtimes: { claude: { command: `~/.npm-global/bin/claude --model 'opus 4'` } },
      agents: [{ name: 'a', runtime: 'claude' }],
    });
    expect(agent(text).argv).toEqual(['/home/op/.npm-global/bin/claude', '--model', 'opus 4']);
  });

  it('keeps an argv list as written (no splitting, no expansion)', () => {
    const argv = ['sh', '-c', 'exec claude | tee ~/log; echo $X'];
    expect(agent(rosterText([{ name: 'a', runtime: 'claude', command: argv }])).argv).toEqual(argv);
  });

  it("an agent's command overrides its runtime's", () => {
    const text = stringify({
      version: 1,
      runtimes: { claude: { command: 'claude --yolo' } },
      agents: [
        { name: 'a', runtime: 'claude', command: 'claude --safe' },
        { name: 'b', runtime: 'claude' },
      ],
    });
    expect(valid(text).agents.map((x) => x.argv)).toEqual([
      ['claude', '--safe'],
      ['claude', '--yolo'],
    ]);
  });

  it('refuses shell syntax in an agent command, at the command', () => {
    expectProblems(
      invalid(
        doc('version: 1', 'runtimes: {x: }', 'agents:', '  - name: a', '    runtime: x', '    command: claude > log'),
      ),
      [[6, 14, /^command "claude > log": ">" needs a shell; quote it, or write the command as an argv list/]],
    );
  });

  it('refuses shell syntax in a runtime command, at the command', () => {
    expectProblems(
      invalid(
        doc(
          'version: 1',
          'runtimes:',
          '  x:',
          '    command: "claude; echo hi"',
          'agents:',
          '  - {name: a, runtime: x}',
        ),
      ),
      [[4, 14, /^command "claude; echo hi": ";" needs a shell/]],
    );
  });

  it('refuses empty commands by schema', () => {
    expectProblems(invalid(doc('version: 1', 'runtimes: {x: }', 'agents:', '  - {name: a, runtime: x, command: []}')), [
      [4, 36, /command: must NOT have fewer than 1 items/],
    ]);
  });
});

// ---- spec hash --------------------------------------------------------------------

describe('spec hash', () => {
  const base = {
    name: 'a',
    runtime: 'claude',
    command: 'claude --yolo',
    working_directory: '~/w',
    env: { A: '1', B: '2' },
  };
  const hashOf = (entry: object, extra: object = {}) => {
    const text = stringify({ version: 1, runtimes: { claude: {}, codex: {} }, agents: [entry], ...extra });
    return agent(text).specHash;
  };
  const h0 = hashOf(base);

  it.each([
    ['command', { ...base, command: 'claude --safe' }],
    ['command as argv', { ...base, command: ['claude', '--yolo', '-v'] }],
    ['cwd', { ...base, working_directory: '~/other' }],
    ['env value', { ...base, env: { A: '1', B: '3' } }],
    ['env key', { ...base, env: { A: '1', C: '2' } }],
    ['runtime', { ...base, runtime: 'codex' }],
  ])('changes when %s changes', (_what, entry) => {
    expect(hashOf(entry)).not.toBe(h0);
  });

  it('changes when the default cwd it inherits changes', () => {
    const { working_directory: _, ...noCwd } = base;
    expect(hashOf(noCwd, { defaults: { working_directory: '~/a' } })).not.toBe(
      hashOf(noCwd, { defaults: { working_directory: '~/b' } }),
    );
  });

  it.each([
    ['class', { ...base, class: 'reviewer' }],
    ['update', { ...base, update: 'recreate' }],
    ['enabled', { ...base, enabled: false }],
    ['host', { ...base, host: 'box1' }],
    ['tenant', { ...base, tenant: 'alice' }],
    ['reset_between_tasks', { ...base, reset_between_tasks: true }],
    ['model_hint', { ...base, model_hint: 'opus' }],
    ['env order', { ...base, env: { B: '2', A: '1' } }],
    ['env value type (1 vs "1")', { ...base, env: { A: 1, B: 2 } }],
    ['command spelling (same argv)', { ...base, command: ['claude', '--yolo'] }],
  ])('does not change when %s changes', (_what, entry) => {
    expect(hashOf(entry)).toBe(h0);
  });
});

// ---- fleet.yaml -------------------------------------------------------------------

describe('parseFleetConfig', () => {
  const d = { fleet: 'repo', branch: 'main', host: 'box1' };

  it('uses the defaults without a fleet.yaml, and for an empty one', () => {
    const want: FleetConfig = {
      fleet: 'repo',
      id: null,
      branch: 'main',
      statusBranch: 'main',
      paths: { rosters: 'rosters', boards: 'boards', huts: 'huts', vault: 'vault' },
      author: { name: 'gitfleet', email: 'gitfleet@box1' },
      hosts: [],
      prune: true,
      maxPrune: { percent: 50 },
      confirmPrune: null,
      supervisor: 'auto',
      ignore: [],
      schedule: '*/5 * * * *',
      observeEveryMs: 15_000,
    };
    expect(parseFleetConfig(null, d)).toEqual({ config: want, problems: [] });
    expect(parseFleetConfig('', d)).toEqual({ config: want, problems: [] });
    expect(parseFleetConfig('# nothing yet\n', d)).toEqual({ config: want, problems: [] });
  });

  it('reads every key, snake_case or camelCase', () => {
    const text = doc(
      'fleet: lab',
      'branch: trunk',
      'paths:',
      '  rosters: documentation/rosters/',
      '  boards: documentation/short-term/coordination',
      'status: {branch: gitfleet-status}',
      'git: {author: {name: Bot, email: bot@example.com}}',
      'hosts: [a, b]',
      'reconcile: {prune: false, maxPrune: 2, confirm_prune: abcdef1, schedule: "*/10 * * * *", observeEvery: 30s}',
      'supervisor: tmux',
      'ignore: ["*.bak", "rosters/drafts/**"]',
    );
    expect(parseFleetConfig(text, d)).toEqual({
      config: {
        fleet: 'lab',
        branch: 'trunk',
        statusBranch: 'gitfleet-status',
        paths: {
          rosters: 'documentation/rosters',
          boards: 'documentation/short-term/coordination',
          huts: 'huts',
          vault: 'vault',
        },
        author: { name: 'Bot', email: 'bot@example.com' },
        hosts: ['a', 'b'],
        prune: false,
        maxPrune: { count: 2 },
        confirmPrune: 'abcdef1',
        supervisor: 'tmux',
        id: null,
        ignore: ['*.bak', 'rosters/drafts/**'],
        schedule: '*/10 * * * *',
        observeEveryMs: 30_000,
      },
      problems: [],
    });
  });

  it('reconcile.schedule and observe_every: seconds syntax taken, a bad pattern or a too short look refused', () => {
    const ok = parseFleetConfig(doc('reconcile:', '  schedule: "* * * * * *"', '  observe_every: 2'), d);
    expect(ok.config).toMatchObject({ schedule: '* * * * * *', observeEveryMs: 2000 });
    expect(parseFleetConfig('reconcile: {observe_every: 500ms}\n', d).problems).toHaveLength(1);
    const bad = parseFleetConfig(doc('reconcile:', '  schedule: "every day"', '  observe_every: "1.5min"'), d);
    expect(bad.config).toBeNull();
    expectProblems(
      bad.problems,
      [[2, 13, /^reconcile\.schedule: not a cron pattern .*; allowed: a cron pattern/]],
      'fleet.yaml',
    );
    const short = parseFleetConfig(doc('reconcile:', '  observe_every: 100ms'), d);
    expectProblems(short.problems, [[2, 18, /^reconcile\.observe_every: allowed: seconds/]], 'fleet.yaml');
  });

  it('status branch follows the desired branch unless set', () => {
    expect(parseFleetConfig('branch: trunk\n', d).config!.statusBranch).toBe('trunk');
  });

  it('collects every problem with its position', () => {
    const text = doc(
      'fleet: "my fleet"', //               1
      'paths:', //                          2
      '  rosters: ../elsewhere', //         3
      '  vault: /etc', //                   4
      'hosts: [a, a]', //                   5
      'reconcile: {prune: "no", when: 1}', // 6
      'colour: blue', //                    7
      'supervisor: docker', //              8
    );
    const r = parseFleetConfig(text, d);
    expect(r.config).toBeNull();
    expectProblems(
      r.problems,
      [
        [1, 8, /^fleet: "my fleet" is not allowed; allowed: letters, digits/],
        [3, 12, /^paths\.rosters: "\.\.\/elsewhere" is not allowed; allowed: a path inside the repository/],
        [4, 10, /^paths\.vault: "\/etc" is not allowed; allowed: a path inside the repository/],
        [5, 8, /^hosts: must NOT have duplicate items/],
        [6, 20, /^reconcile\.prune: must be boolean, not string "no"$/],
        [6, 26, /^reconcile: unknown key "when"; allowed: prune, max_prune, schedule, observe_every, confirm_prune$/],
        [
          7,
          1,
          joinedRegExp(
            /^\(top level\): unknown key "colour"; /,
            /allowed: fleet, branch, paths, status, git, hosts, ignore, supervisor, reconcile$/,
          ),
        ],
        [8, 13, /^supervisor: "docker" is not allowed; allowed: "auto", "systemd", "tmux"$/],
      ],
      'fleet.yaml',
    );
  });

  it('reports broken YAML in fleet.yaml', () => {
    const r = parseFleetConfig(doc('fleet: lab', 'hosts: [a, b', 'branch: main'), d);
    expect(r.config).toBeNull();
    expect(r.problems.map((p) => `${p.file}:${p.line}:${p.col}`)).toEqual(['fleet.yaml:2:8']);
    expect(r.problems[0]!.message).toMatch(/^invalid YAML: .*end with a \].*never closed\)$/);
  });
});

// ---- rules across files ------------------------------------------------------------

function source(path: string, text: string, blob = `blob-of-${path}`): SourceFile {
  return { path, blob, text };
}

function config(fleetYaml: string | null = null): FleetConfig {
  const r = parseFleetConfig(fleetYaml, { fleet: 'f', branch: 'main', host: 'box1' });
  expect(r.problems).toEqual([]);
  return r.config!;
}

/** The kinds assembleDesired parses with. */
const kinds = [rosterKind];

function fleetState(): FileState {
  return { path: 'fleet.yaml', blob: null, valid: true, usingLastKnownGood: false, problems: [] };
}

function assemble(sources: SourceFile[], opts: { fleet?: string | null; fallback?: SourceFile[] } = {}) {
  const fallback = new Map((opts.fallback ?? []).map((s) => [s.path, s]));
  return assembleDesired(config(opts.fleet ?? null), fleetState(), sources, fallback, { home: HOME, kinds });
}

/**
 * A small roster: agents as `name` or `name@host`, on `socket`. Layout:
 * lines 1-6 are the header, the first agent starts on line 7, col 5; each
 * agent takes two lines, three with a host.
 */
function roster(names: string[], socket = 'mosaic-factory'): string {
  return stringify({
    version: 1,
    tmux: { socket_name: socket },
    runtimes: { claude: {} },
    agents: names.map((n) => {
      const [name, host] = n.split('@');
      return host ? { name, runtime: 'claude', host } : { name, runtime: 'claude' };
    }),
  });
}

const agentNames = (rosters: Roster[]) => rosters.flatMap((r) => r.agents.map((a) => `${a.socket}/${a.name}`)).sort();

describe('assembleDesired: rules across files', () => {
  it('valid files: every roster, every file state valid with its blob', () => {
    const desired = assemble([
      source('rosters/a.yaml', roster(['a1', 'a2'])),
      source('rosters/b.yaml', roster(['b1'])),
    ]);
    expect(desired.problems).toEqual([]);
    expect(agentNames(desired.rosters)).toEqual(['mosaic-factory/a1', 'mosaic-factory/a2', 'mosaic-factory/b1']);
    expect(desired.files.map((f) => [f.path, f.valid, f.blob, f.usingLastKnownGood])).toEqual([
      ['fleet.yaml', true, null, false],
      ['rosters/a.yaml', true, 'blob-of-rosters/a.yaml', false],
      ['rosters/b.yaml', true, 'blob-of-rosters/b.yaml', false],
    ]);
  });

  it('the same agent name in two roster files on one socket is an error in both; neither declaration applies', () => {
    const desired = assemble([
      source('rosters/a.yaml', roster(['x', 'a1'])),
      source('rosters/b.yaml', roster(['b1', 'x'])),
    ]);
    const rule =
      'on socket "mosaic-factory"; an agent has one owner file: remove one declaration ' +
      '(until then neither applies, and the last valid spec stays in force)';
    expect(desired.problems.map(formatProblem)).toEqual([
      `rosters/a.yaml:7:5: agent "x" is also declared in rosters/b.yaml ${rule}`,
      `rosters/b.yaml:9:5: agent "x" is also declared in rosters/a.yaml ${rule}`,
    ]);
    // Neither file has a last-known-good version: neither contributes agents
    // (and nothing is pruned: files are invalid).
    expect(agentNames(desired.rosters)).toEqual([]);
    expect(desired.files.find((f) => f.path === 'rosters/b.yaml')).toMatchObject({
      valid: false,
      blob: null,
      usingLastKnownGood: false,
    });
  });

  it('a new file redeclaring an agent does not take it: the owner keeps its last valid spec, in any file order', () => {
    // team.yaml owned a0 at the last status (unchanged since); aa.yaml is new and sorts first.
    const team = source('rosters/team.yaml', roster(['a0', 't1']), 'team-blob');
    const takeover = source(
      'rosters/aa.yaml',
      roster(['a0']).replace('runtime: claude', 'runtime: claude\n    update: recreate\n    command: evil'),
      'aa-blob',
    );
    const owners = new Map([['mosaic-factory/a0', 'rosters/team.yaml']]);
    const d = assembleDesired(
      config(null),
      fleetState(),
      [takeover, team],
      new Map([[team.path, team]]),
      { home: HOME, kinds },
      owners,
    );
    expect(d.problems.map((p) => p.file)).toEqual(['rosters/aa.yaml', 'rosters/team.yaml']);
    const a0 = d.rosters.flatMap((r) => r.agents).filter((a) => a.name === 'a0');
    expect(a0).toHaveLength(1);
    expect(a0[0]!.source.file).toBe('rosters/team.yaml');
    expect(a0[0]!.argv).toEqual(['claude']);
    expect(d.files.find((f) => f.path === 'rosters/team.yaml')).toMatchObject({
      valid: false,
      blob: 'team-blob',
      usingLastKnownGood: true,
    });
    expect(d.files.find((f) => f.path === 'rosters/aa.yaml')).toMatchObject({
      valid: false,
      blob: null,
      usingLastKnownGood: false,
    });
  });

  it('names that become one tmux session across files clash too (a.b and a_b)', () => {
    const desired = assemble([source('rosters/a.yaml', roster(['a.b'])), source('rosters/b.yaml', roster(['a_b']))]);
    expect(desired.problems).toHaveLength(2);
    expect(desired.problems[1]!.message).toMatch(/agent "a_b" is also declared in rosters\/a\.yaml/);
  });

  it.each([
    ['after', 'rosters/a.yaml', 'rosters/b.yaml'],
    ['before', 'rosters/b.yaml', 'rosters/a.yaml'],
  ])(
    "an agent named like another file's holder on the same socket is an error (agent file sorted %s)",
    (_order, holderFile, agentFile) => {
      const withHolder = source(holderFile, roster(['x'])); // holder _holder (the default)
      const withAgent = source(
        agentFile,
        stringify({
          version: 1,
          tmux: { holder_session: 'keeper' },
          runtimes: { claude: {} },
          agents: [{ name: '_holder', runtime: 'claude' }],
        }),
      );
      const sources = [withHolder, withAgent].sort((p, q) => (p.path < q.path ? -1 : 1));
      const desired = assemble(sources);
      // Two problems: the agent takes the other file's holder name, and the two
      // rosters on one socket name different holders (reported in the later file).
      const clash =
        agentFile > holderFile
          ? `${agentFile}:3:3: tmux.holder_session "keeper" differs from "_holder" in ${holderFile}`
          : `${holderFile}:1:1: the default holder session "_holder" differs from "keeper" in ${agentFile}`;
      const holderClash =
        `${clash}, which shares socket "mosaic-factory"; ` +
        'rosters on one socket name the same holder (set tmux.holder_session)';
      expect(desired.problems.map(formatProblem).sort()).toEqual(
        [
          `${agentFile}:7:5: agent "_holder" is the holder session of ${holderFile} ` +
            'on socket "mosaic-factory"; choose another name',
          holderClash,
        ].sort(),
      );
      // Only a file without problems is in force: the holder file, when it sorts first.
      expect(agentNames(desired.rosters)).toEqual(agentFile > holderFile ? ['mosaic-factory/x'] : []);
    },
  );

  it('an agent named like the holder of a roster on another socket is fine', () => {
    const other = stringify({
      version: 1,
      tmux: { socket_name: 's2', holder_session: 'keeper' },
      runtimes: { claude: {} },
      agents: [{ name: '_holder', runtime: 'claude' }],
    });
    expect(assemble([source('rosters/a.yaml', roster(['x'])), source('rosters/b.yaml', other)]).problems).toEqual([]);
  });

  it('the same agent name on two sockets is fine', () => {
    const desired = assemble([
      source('rosters/a.yaml', roster(['x'], 's1')),
      source('rosters/b.yaml', roster(['x'], 's2')),
    ]);
    expect(desired.problems).toEqual([]);
    expect(agentNames(desired.rosters)).toEqual(['s1/x', 's2/x']);
  });

  it('with hosts [a, b], an agent without host is an error listing the hosts', () => {
    const desired = assemble([source('rosters/r.yaml', roster(['one@a', 'two']))], { fleet: 'hosts: [a, b]\n' });
    expect(desired.problems.map(formatProblem)).toEqual([
      'rosters/r.yaml:10:5: agent "two" names no host; ' +
        'fleet.yaml declares several hosts, so every agent names one of: a, b',
    ]);
  });

  it('with hosts [a, b], a host not in the list is an error listing the allowed ones', () => {
    const desired = assemble([source('rosters/r.yaml', roster(['one@a', 'two@c']))], { fleet: 'hosts: [a, b]\n' });
    expect(desired.problems.map(formatProblem)).toEqual([
      'rosters/r.yaml:10:5: agent "two": host "c" is not in fleet.yaml hosts; allowed: a, b',
    ]);
  });

  it('with one host declared, agents need not name it, but may not name another', () => {
    expect(assemble([source('rosters/r.yaml', roster(['one', 'two@a']))], { fleet: 'hosts: [a]\n' }).problems).toEqual(
      [],
    );
    expect(assemble([source('rosters/r.yaml', roster(['one@b']))], { fleet: 'hosts: [a]\n' }).problems).toHaveLength(1);
  });

  it('without hosts in fleet.yaml, any host is accepted', () => {
    expect(assemble([source('rosters/r.yaml', roster(['one@x', 'two@y', 'three']))]).problems).toEqual([]);
  });

  it('an invalid file with a last-known-good version keeps its agents and is marked usingLastKnownGood', () => {
    const good = source('rosters/b.yaml', roster(['b1', 'b2']), 'good-blob');
    const bad = source(
      'rosters/b.yaml',
      doc('version: 1', 'runtimes: {claude: {}}', 'agents:', '  - name: b1', '    runtime: claude', '    colour: red'),
      'bad-blob',
    );
    const desired = assemble([source('rosters/a.yaml', roster(['a1'])), bad], { fallback: [good] });
    expect(agentNames(desired.rosters)).toEqual(['mosaic-factory/a1', 'mosaic-factory/b1', 'mosaic-factory/b2']);
    expect(desired.files.find((f) => f.path === 'rosters/b.yaml')).toEqual({
      path: 'rosters/b.yaml',
      blob: 'good-blob',
      valid: false,
      usingLastKnownGood: true,
      problems: [
        {
          file: 'rosters/b.yaml',
          line: 6,
          col: 5,
          message: expect.stringMatching(/unknown key "colour"/) as unknown as string,
        },
      ],
    });
    // The problem stays visible (it blocks prune and shows in status).
    expect(desired.problems.map((p) => `${p.file}:${p.line}:${p.col}`)).toEqual(['rosters/b.yaml:6:5']);
  });

  it('an invalid file with no last-known-good version contributes no agents', () => {
    const desired = assemble([
      source('rosters/a.yaml', roster(['a1'])),
      source('rosters/b.yaml', 'version: 1\nagents: {}\n'),
    ]);
    expect(agentNames(desired.rosters)).toEqual(['mosaic-factory/a1']);
    expect(desired.files.find((f) => f.path === 'rosters/b.yaml')).toMatchObject({
      valid: false,
      usingLastKnownGood: false,
      blob: null,
    });
  });

  it('a last-known-good version that now clashes with another file is not used', () => {
    const good = source('rosters/b.yaml', roster(['a1']), 'good-blob');
    const desired = assemble(
      [source('rosters/a.yaml', roster(['a1'])), source('rosters/b.yaml', 'version: 3\nagents: []\n')],
      { fallback: [good] },
    );
    expect(agentNames(desired.rosters)).toEqual(['mosaic-factory/a1']);
    expect(desired.rosters.map((r) => r.file)).toEqual(['rosters/a.yaml']);
    expect(desired.files.find((f) => f.path === 'rosters/b.yaml')).toMatchObject({
      valid: false,
      usingLastKnownGood: false,
    });
  });

  it('a file with errors of its own gets one note: the rules across files did not judge it', () => {
    const desired = assemble([
      source('rosters/a.yaml', roster(['x'])),
      source('rosters/b.yaml', doc('version: 1', 'agents:', '  - {name: x, runtime: claude, colour: red}', 'y: 1')),
    ]);
    // x in b.yaml would clash with a.yaml, but b.yaml is not judged until its own errors are fixed: it says so.
    expect(desired.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^rosters\/b\.yaml:3:24: agents\[0\]\.runtime: "claude" is not declared/),
      expect.stringMatching(/^rosters\/b\.yaml:3:32: agents\[0\]: unknown key "colour"/),
      expect.stringMatching(/^rosters\/b\.yaml:4:1: \(top level\): unknown key "y"/),
    ]);
    expect(desired.notes.map(formatProblem)).toEqual([
      'rosters/b.yaml:4:1: rules across files not checked ' +
        '(one owner file per agent, one holder per socket, hosts from fleet.yaml): this file has errors of its own',
    ]);
    // Notes are not errors: the valid file's state is untouched.
    expect(desired.files.find((f) => f.path === 'rosters/a.yaml')).toMatchObject({ valid: true, problems: [] });
    expect(assemble([source('rosters/a.yaml', roster(['x']))]).notes).toEqual([]);
  });

  it('sorts every problem of every file by file and position', () => {
    const desired = assemble([
      source('rosters/b.yaml', doc('version: 2', 'agents: []', 'x: 1')),
      source('rosters/a.yaml', doc('version: 1', 'agents:', '  - {name: a}', 'tmux: {y: 1}')),
    ]);
    expect(desired.problems.map((p) => `${p.file}:${p.line}:${p.col}`)).toEqual([
      'rosters/a.yaml:3:5',
      'rosters/a.yaml:4:8',
      'rosters/b.yaml:1:10',
      'rosters/b.yaml:3:1',
    ]);
  });

  it('keeps the fleet.yaml state first', () => {
    const bad: FileState = {
      path: 'fleet.yaml',
      blob: null,
      valid: false,
      usingLastKnownGood: false,
      problems: [{ file: 'fleet.yaml', line: 1, col: 1, message: 'x' }],
    };
    const desired = assembleDesired(
      defaultConfig({ fleet: 'f', branch: 'main', host: 'h' }),
      bad,
      [source('rosters/a.yaml', roster(['a1']))],
      new Map(),
      { home: HOME, kinds },
    );
    expect(desired.files[0]).toBe(bad);
    expect(desired.problems.map((p) => p.file)).toEqual(['fleet.yaml']);
    // fleet.yaml problems do not stop valid rosters from loading.
    expect(agentNames(desired.rosters)).toEqual(['mosaic-factory/a1']);
  });
});

describe('rosters sharing a socket', () => {
  it('must name the same holder; the later file is the one in error', async () => {
    const { assembleDesired } = await import('../../src/desired/load.js');
    const { defaultConfig } = await import('../../src/desired/fleet-config.js');
    const a = 'version: 1\ntmux:\n  socket_name: s\nruntimes:\n  r: {}\nagents:\n  - name: x\n    runtime: r\n';
    const b =
      'version: 1\ntmux:\n  socket_name: s\n  holder_session: keeper\n' +
      'runtimes:\n  r: {}\nagents:\n  - name: y\n    runtime: r\n';
    const cfg = defaultConfig({ fleet: 'f', branch: 'main', host: 'h' });
    const fleetState = { path: 'fleet.yaml', blob: null, valid: true, usingLastKnownGood: false, problems: [] };
    const d = assembleDesired(
      cfg,
      fleetState,
      [
        { path: 'rosters/a.yaml', blob: 'a', text: a },
        { path: 'rosters/b.yaml', blob: 'b', text: b },
      ],
      new Map(),
      { home: '/home/op', kinds },
    );
    expect(d.problems).toEqual([
      {
        file: 'rosters/b.yaml',
        line: 4,
        col: 3,
        message:
          'tmux.holder_session "keeper" differs from "_holder" in rosters/a.yaml, which shares socket "s"; ' +
          'rosters on one socket name the same holder (set tmux.holder_session)',
      },
    ]);
  });
});
