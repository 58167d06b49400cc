// Issue #8: values from the repository that become refs, paths or process
// arguments are checked before anything uses them, and no input crashes the
// parser. Each case here was accepted (or crashed) before.
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../src/desired/fleet-parse.js';
import { globMatch, kindEntryProblem } from '../../src/desired/folder.js';
import { parseRoster } from '../../src/desired/kinds/roster/parse.js';
import { formatProblem } from '../../src/errors.js';
import { branchNameProblem } from '../../src/git/refname.js';

const HOME = '/home/op';
const d = { fleet: 'f', branch: 'main', host: 'h' };
const roster = (agent: string, head = '') =>
  `version: 1\n${head}runtimes:\n  r: {}\nagents:\n  - name: a\n    runtime: r\n${agent}`;
const problems = (text: string) => parseRoster('rosters/a.yaml', text, { home: HOME }).problems.map(formatProblem);

describe('branch names are refs, never paths', () => {
  it.each([
    '../../config',
    '../../../x',
    'a..b',
    '/abs',
    'a/',
    'a//b',
    '.hidden',
    'x.lock',
    'a/.b',
    'a b',
    'a~1',
    'a^',
    'a:b',
    'a?',
    'a*',
    'a[',
    'a\\b',
    '-x',
    'a.',
    '@',
    'a@{1}',
    'HEAD',
    'refs/heads/x',
    'nul\0x',
    'new\nline',
    '',
  ])('refuses %j', (name) => {
    expect(branchNameProblem(name)).toMatch(/allowed: a git branch name/);
  });
  it.each(['main', 'gitfleet-status', 'status/box1', 'release-1.2', 'user@host', 'a.b/c_d'])('accepts %j', (name) => {
    expect(branchNameProblem(name)).toBeNull();
  });
  it('fleet.yaml: branch and status.branch are checked with their position, and nothing is configured', () => {
    const r = parseFleetConfig('branch: main\nstatus:\n  branch: "../../config"\n', d);
    expect(r.config).toBeNull();
    expect(r.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^fleet\.yaml:3:11: status\.branch: branch "\.\.\/\.\.\/config" contains "\.\."/),
    ]);
    expect(parseFleetConfig('branch: "a..b"\n', d).problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^fleet\.yaml:1:9: branch: branch "a\.\.b"/),
    ]);
  });
  it('the git author, written into every status commit, cannot break the commit header', () => {
    for (const [text, where] of [
      ['git:\n  author:\n    name: "git\\nfleet"\n', 'fleet.yaml:3:11: git.author.name'],
      ['git:\n  author:\n    name: "a <b>"\n', 'fleet.yaml:3:11: git.author.name'],
      ['git:\n  author:\n    email: "a>b@x"\n', 'fleet.yaml:3:12: git.author.email'],
    ]) {
      expect(parseFleetConfig(text!, d).problems.map(formatProblem)).toEqual([expect.stringContaining(`${where}: `)]);
    }
  });

  it('reconcile.max_prune takes a count or a percentage only', () => {
    expect(parseFleetConfig('reconcile:\n  max_prune: "150%"\n', d).problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^fleet\.yaml:2:14: reconcile\.max_prune: allowed: a number of agents/),
    ]);
    expect(parseFleetConfig('reconcile:\n  max_prune: "25%"\n', d).config!.maxPrune).toEqual({ percent: 25 });
  });
});

describe('roster values that reach tmux and the kernel', () => {
  it('socket_name "default" is the default server: refused', () => {
    expect(problems(roster('', 'tmux:\n  socket_name: default\n'))).toEqual([
      expect.stringMatching(/^rosters\/a\.yaml:3:16: tmux\.socket_name: "default" is the default tmux server's socket/),
    ]);
  });
  it.each([
    ['relative', 'srv/x', /is a relative path/],
    ['dot-relative', './x', /is a relative path/],
    ['~user', '~root/x', /"~user" is not expanded/],
    ['newline', '"/srv/a\\nb"', /contains a control character/],
    ['NUL', '"/srv/a\\0b"', /the value contains a NUL byte/],
  ])('working_directory %s is refused with its position', (_what, value, why) => {
    const out = problems(roster(`    working_directory: ${value}\n`));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^rosters\/a\.yaml:7:24: agents\[0\]\.working_directory: /);
    expect(out[0]).toMatch(why);
  });
  it('defaults.working_directory follows the same rules', () => {
    expect(problems(roster('', 'defaults:\n  working_directory: rel\n'))).toEqual([
      expect.stringMatching(/^rosters\/a\.yaml:3:22: defaults\.working_directory: "rel" is a relative path/),
    ]);
  });
  it('absolute paths, ~ and ~/x are fine; # and $ in a path are just characters', () => {
    for (const dir of ['/srv/x', '"~"', '~/x', '"/srv/#(touch canary)"', '"/srv/$(x)"'])
      expect(problems(roster(`    working_directory: ${dir}\n`))).toEqual([]);
  });
  it('NUL in any value is refused with its position (execve, tmux and git all end a string at it)', () => {
    expect(problems(roster('    command: [sh, "a\\0b"]\n'))).toEqual([
      expect.stringMatching(/^rosters\/a\.yaml:7:19: agents\[0\]\.command\[1\]: the value contains a NUL byte/),
    ]);
    expect(problems(roster('    env:\n      X: "a\\0b"\n'))).toEqual([
      expect.stringMatching(/^rosters\/a\.yaml:8:10: agents\[0\]\.env\.X: the value contains a NUL byte/),
    ]);
    expect(problems(roster('    tenant: "me\\0"\n'))).toEqual([
      expect.stringMatching(/^rosters\/a\.yaml:7:13: agents\[0\]\.tenant: the value contains a NUL byte/),
    ]);
    expect(
      problems(roster('', 'runtimes:\n  r: {reset_command: "/clear\\0"}\n').replace('runtimes:\n  r: {}\n', '')),
    ).toEqual([expect.stringMatching(/runtimes\.r\.reset_command: the value contains a NUL byte/)]);
  });
  it('__proto__ as a key is refused, not silently dropped', () => {
    expect(problems(roster('    env:\n      __proto__: x\n'))).toEqual([
      expect.stringMatching(/^rosters\/a\.yaml:8:7: "__proto__" is a reserved name here/),
    ]);
  });
});

describe('pathological YAML is an error, never a crash', () => {
  it('nesting 5,000 deep', () => {
    const deep = `version: 1\nagents: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const out = problems(deep);
    expect(out.length).toBeGreaterThan(0);
    for (const p of out) expect(p).toMatch(/^rosters\/a\.yaml:\d+:\d+: /);
    expect(out.join('\n')).not.toMatch(/RangeError|Maximum call stack/);
    const nested = Array.from({ length: 200 }, (_, i) => `${'  '.repeat(i + 1)}- `).join('\n');
    const block = `version: 1\nagents:\n${nested}x\n`;
    expect(problems(block).join('\n')).toMatch(/nested more than 64 levels deep|invalid YAML/);
  });
  it('a self-referencing anchor and an alias bomb', () => {
    for (const text of [
      'version: 1\nagents: &x [*x]\n',
      'version: 1\n' +
        'a: &a [x,x,x,x,x,x,x,x,x]\n' +
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n' +
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' +
        'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n' +
        'agents: []\n',
    ]) {
      const out = problems(text);
      expect(out.length).toBeGreaterThan(0);
      for (const p of out) {
        expect(p).toMatch(/^rosters\/a\.yaml:\d+:\d+: /);
        expect(p).not.toMatch(/(Reference|Range|Type)Error/);
      }
    }
  });
});

describe('what may sit in the rosters folder', () => {
  const entry = (path: string, type: 'blob' | 'tree' | 'commit', mode = '100644') => ({
    path,
    type,
    mode,
    oid: '0'.repeat(40),
  });
  it('yaml files are rosters; Markdown notes and ignored paths are skipped', () => {
    expect(kindEntryProblem('rosters/a.yaml', entry('a.yaml', 'blob'), { kind: 'rosters' })).toBeNull();
    expect(kindEntryProblem('rosters/a.yml', entry('a.yml', 'blob', '100755'), { kind: 'rosters' })).toBeNull();
    expect(kindEntryProblem('rosters/README.md', entry('README.md', 'blob'), { kind: 'rosters' })).toBe('ignored');
    expect(kindEntryProblem('rosters/a.bak', entry('a.bak', 'blob'), { kind: 'rosters' }, ['*.bak'])).toBe('ignored');
    expect(kindEntryProblem('rosters/drafts', entry('drafts', 'tree'), { kind: 'rosters' }, ['rosters/drafts'])).toBe(
      'ignored',
    );
  });
  it.each([
    ['a.YAML', 'blob', '100644', /a file without the \.yaml or \.yml extension/],
    ['a.bak', 'blob', '100644', /a file without the \.yaml or \.yml extension/],
    ['sub', 'tree', '040000', /is a directory in the rosters folder/],
    ['link.yaml', 'blob', '120000', /is a symbolic link/],
    ['mod', 'commit', '160000', /is a submodule \(gitlink\)/],
  ] as const)('%s (%s %s) is an error naming it', (name, type, mode, why) => {
    const p = kindEntryProblem(`rosters/${name}`, entry(name, type, mode), { kind: 'rosters' });
    expect(formatProblem(p as never)).toMatch(new RegExp(`^rosters/${name.replace('.', '\\.')}:1:1: is `));
    expect(formatProblem(p as never)).toMatch(why);
    expect(formatProblem(p as never)).toMatch(/allowed: rename or move it, or list it under ignore: in fleet\.yaml/);
  });
  it('the folder itself, and fleet.yaml, must be what they claim', () => {
    expect(kindEntryProblem('rosters', entry('rosters', 'blob'), 'folder')!.message).toMatch(
      /^is a file but fleet\.yaml paths name it as a desired-state folder/,
    );
    expect(kindEntryProblem('fleet.yaml', entry('fleet.yaml', 'tree'), 'fleet.yaml')!.message).toBe(
      'is a directory; allowed: a YAML file',
    );
  });
  it('globs', () => {
    expect(globMatch('*.bak', 'rosters/x.bak')).toBe(true);
    expect(globMatch('rosters/drafts/**', 'rosters/drafts/a/b.yaml')).toBe(true);
    expect(globMatch('rosters/*.yaml', 'rosters/sub/a.yaml')).toBe(false);
    expect(globMatch('a?c', 'rosters/abc')).toBe(true);
  });
});
