// Structural safety rules that must keep holding as the code grows.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmuxArgv } from '../../src/tmux/client.js';
import { describeImport, findCycles, type Import, importGraph, readSources } from '../helpers/import-graph.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('safety rules', () => {
  it('only src/exec.ts starts processes', () => {
    const spawners = sources('src').filter((f) =>
      /from ['"](node:)?child_process['"]|from ['"]execa['"]/.test(readFileSync(f, 'utf8')),
    );
    expect(spawners).toEqual([path.join('src', 'exec.ts')]);
  });

  it('tmux is always run on a named socket, never the default server', () => {
    expect(tmuxArgv('fleet-sock', [['list-panes', '-a']])).toEqual([
      'tmux',
      '-u',
      '-L',
      'fleet-sock',
      'list-panes',
      '-a',
    ]);
    expect(() => tmuxArgv('', [['kill-server']])).toThrow(/socket/);
    // No module builds a tmux argv by hand.
    const byHand = sources('src').filter(
      (f) =>
        f !== path.join('src', 'tmux', 'client.ts') &&
        /run\(\s*\[\s*['"]tmux['"]|\[\s*['"]tmux['"]\s*,\s*['"]-/.test(readFileSync(f, 'utf8')),
    );
    expect(byHand).toEqual([]);
  });

  it('several tmux commands become one process, separated by a ";" argument', () => {
    expect(
      tmuxArgv('s', [
        ['kill-session', '-t', '=a'],
        ['new-session', '-d', '-s', 'a;b'],
      ]),
    ).toEqual(['tmux', '-u', '-L', 's', 'kill-session', '-t', '=a', ';', 'new-session', '-d', '-s', 'a;b']);
  });
});

// ---- layers point one way ---------------------------------------------------

const { imports, unresolved } = importGraph(readSources('src'));
const inDir =
  (...dirs: string[]) =>
  (f: string) =>
    dirs.some((d) => f.startsWith(`src/${d}/`));

/** The imports from files `from` matches into files `to` matches, less the allowed ones, described. */
function offending(from: (f: string) => boolean, to: (f: string) => boolean, allowed = (_i: Import) => false) {
  return imports.filter((i) => from(i.from) && to(i.to) && !allowed(i)).map(describeImport);
}

describe('import graph of src/', () => {
  it('every relative import names a file in src/', () => {
    expect(unresolved.map(describeImport), 'imports that resolve to no .ts file').toEqual([]);
  });

  it('has no import cycles (type-only imports included)', () => {
    const cycles = findCycles(imports).map((c) => c.join(' -> '));
    expect(cycles, 'import cycles: move what both sides need into a leaf module').toEqual([]);
  });

  it('commands never import cli/main.ts (exit codes, Io and settings are leaf modules)', () => {
    const intoMain = offending(
      (f) => f !== 'src/cli.ts',
      (f) => f === 'src/cli/main.ts',
    );
    expect(intoMain, 'imports of src/cli/main.ts').toEqual([]);
  });

  it('observers return facts: observe/ imports nothing from plan/, apply/, install/ or status/build*', () => {
    const bad = offending(
      inDir('observe'),
      (f) => inDir('plan', 'apply', 'install')(f) || f.startsWith('src/status/build'),
    );
    expect(bad, 'observe/ importing a later layer').toEqual([]);
  });

  it('the planner imports only types from observe/', () => {
    const bad = offending(inDir('plan'), inDir('observe'), (i) => i.typeOnly);
    expect(bad, 'value imports from observe/ in plan/').toEqual([]);
  });

  it("apply does not import planner internals: only plan/types.ts's types and plan/action-kinds.ts", () => {
    const allowed = (i: Import) => (i.to === 'src/plan/types.ts' && i.typeOnly) || i.to === 'src/plan/action-kinds.ts';
    expect(offending(inDir('apply'), inDir('plan'), allowed), 'apply/ importing from plan/').toEqual([]);
  });

  it('the desired side imports nothing from observe/, plan/, apply/, status/ or cli/', () => {
    const desiredSide = (f: string) => inDir('desired')(f) || f === 'src/systemd/desired-files.ts';
    const bad = offending(desiredSide, inDir('observe', 'plan', 'apply', 'status', 'cli'));
    expect(bad, 'desired side importing a later layer').toEqual([]);
  });

  it('views (report/) import nothing from cli/: a command hands them a Style, they never read the terminal', () => {
    expect(offending(inDir('report'), inDir('cli')), 'report/ importing cli/').toEqual([]);
  });
});

describe('importGraph and findCycles', () => {
  const graph = importGraph(
    new Map([
      [
        'src/a.ts',
        "import { b } from './b.js';\n// import { z } from './z.js';\nimport { readFile } from 'node:fs';\n",
      ],
      ['src/b.ts', "import type { C } from './c.js';\nexport { a } from './a.js';\n"],
      [
        'src/c.ts',
        [
          "import { type B } from './b.js';",
          'const s = "import x from \'./nope.js\'";',
          "export const f = () => import('./d.js');",
          "export type T = typeof import('./a.js');",
          "import def, { g as h } from '../missing.js';",
        ].join('\n'),
      ],
      ['src/d.ts', "import * as c from './c.js';\nimport './d.js';\n"],
    ]),
  );
  const edge = (from: string, to: string) => graph.imports.filter((i) => i.from === from && i.to === to);

  it('tells type-only imports from those that load a module', () => {
    expect(graph.imports.map((i) => [i.from, i.to, i.typeOnly, i.names, i.line])).toEqual([
      ['src/a.ts', 'src/b.ts', false, ['b'], 1],
      ['src/b.ts', 'src/c.ts', true, ['C'], 1],
      ['src/b.ts', 'src/a.ts', false, ['a'], 2],
      ['src/c.ts', 'src/b.ts', true, ['B'], 1],
      ['src/c.ts', 'src/d.ts', false, ['*'], 3],
      ['src/c.ts', 'src/a.ts', true, ['*'], 4],
      ['src/d.ts', 'src/c.ts', false, ['*'], 1],
      ['src/d.ts', 'src/d.ts', false, [], 2],
    ]);
    expect(edge('src/a.ts', 'src/z.ts')).toEqual([]);
    expect(graph.unresolved.map(describeImport)).toEqual(['src/c.ts:5 imports ../missing.js (def, g)']);
  });

  it('finds each cycle with its path, type-only edges included', () => {
    expect(findCycles(graph.imports)).toEqual([['src/a.ts', 'src/b.ts', 'src/a.ts']]);
    const typesOnly = graph.imports.filter((i) => i.from !== 'src/a.ts' && i.from !== 'src/d.ts');
    expect(findCycles(typesOnly)).toEqual([['src/b.ts', 'src/c.ts', 'src/b.ts']]);
    expect(findCycles(graph.imports.filter((i) => i.to === 'src/d.ts' && i.from === 'src/d.ts'))).toEqual([
      ['src/d.ts', 'src/d.ts'],
    ]);
    expect(findCycles(graph.imports.filter((i) => i.from === 'src/a.ts' || i.from === 'src/c.ts'))).toEqual([]);
  });
});
