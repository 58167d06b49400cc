// The registry of desired-state kinds: the loader treats every kind alike.
// A toy second kind (a list of names per file, one owner per name) is
// registered here only, and read through loadDesired from an in-memory
// repository stand-in: its folder, its problems, its last-known-good
// versions and its rules across files all work with no loader change.
import type { TreeEntry } from 'isomorphic-git';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { defaultConfig } from '../../src/desired/fleet-config.js';
import type { DesiredKind } from '../../src/desired/kinds/kind.js';
import { valuesOf } from '../../src/desired/kinds/kind.js';
import { KINDS } from '../../src/desired/kinds/registry.js';
import { rosterKind } from '../../src/desired/kinds/roster/index.js';
import { loadDesired } from '../../src/desired/load.js';
import type { FileState } from '../../src/desired/types.js';
import type { Repo } from '../../src/git/repo.js';

/** The toy kind's value: the names one file lists. */
interface Tally {
  file: string;
  names: string[];
}

/** One name per line; a line that is not a plain word is a problem at its line. */
const tallyKind: DesiredKind<Tally> = {
  name: 'tallies',
  pathKey: 'huts', // FleetConfig.paths has no free key; the toy borrows one (it is never registered in src)
  schema: 'schemas/none.schema.json',
  parse: (file) => {
    const names: string[] = [];
    const problems = file.text.split('\n').flatMap((line, i) => {
      if (line === '') return [];
      if (/^\w+$/.test(line)) {
        names.push(line);
        return [];
      }
      return [{ file: file.path, line: i + 1, col: 1, message: `"${line}" is not a name` }];
    });
    return problems.length ? { value: null, problems } : { value: { file: file.path, names }, problems };
  },
  acrossFiles: {
    what: 'one owner per name',
    apply: (files) => {
      const owner = new Map<string, string>();
      for (const f of files)
        for (const n of f.value?.names ?? []) {
          const first = owner.get(n);
          if (first === undefined) owner.set(n, f.path);
          else f.problems.push({ file: f.path, line: 1, col: 1, message: `"${n}" is also listed in ${first}` });
        }
      for (const f of files) if (f.problems.length > 0 && f.inForce && !f.inForce.lastGood) f.inForce = null;
    },
  },
};

/** A commit as a map of path -> text; blob ids are `blob:<path>:<text>` so a changed text is a new blob. */
function repoOf(commits: Record<string, Record<string, string>>): Repo {
  const blobs = new Map<string, string>();
  const entriesOf = (commit: string, dir: string): TreeEntry[] => {
    const files = commits[commit]!;
    const below = Object.keys(files).filter((p) => p.startsWith(`${dir}/`));
    const names = [...new Set(below.map((p) => p.slice(dir.length + 1).split('/')[0]!))];
    return names.map((name) => {
      const path = `${dir}/${name}`;
      if (!(path in files)) return { mode: '040000', path: name, oid: `tree:${path}`, type: 'tree' };
      const oid = `blob:${path}:${files[path]}`;
      blobs.set(oid, files[path]!);
      return { mode: '100644', path: name, oid, type: 'blob' };
    });
  };
  const stand = {
    entryAt: async (commit: string, path: string) => {
      const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      const name = path.slice(path.lastIndexOf('/') + 1);
      const entries = parent
        ? entriesOf(commit, parent)
        : Object.keys(commits[commit]!).some((p) => p.startsWith(`${path}/`))
          ? [{ mode: '040000', path: name, oid: `tree:${path}`, type: 'tree' } as TreeEntry]
          : [];
      return entries.find((e) => e.path === name) ?? null;
    },
    listDir: async (commit: string, dir: string) => entriesOf(commit, dir),
    readBlob: async (oid: string) => {
      if (!blobs.has(oid)) throw new Error(`no blob ${oid}`);
      return blobs.get(oid)!;
    },
  };
  return stand as unknown as Repo;
}

const fleetState: FileState = { path: 'fleet.yaml', blob: null, valid: true, usingLastKnownGood: false, problems: [] };
const fleet = { config: defaultConfig({ fleet: 'f', branch: 'main', host: 'h' }), state: fleetState };
const ROSTER = 'version: 1\nruntimes: {claude: {}}\nagents:\n  - {name: a1, runtime: claude}\n';

describe('the registry', () => {
  it('lists the roster kind, which names its folder key and its schema', async () => {
    expect(KINDS.map((k) => k.name)).toEqual(['rosters']);
    expect(KINDS[0]).toMatchObject({ name: 'rosters', pathKey: 'rosters', schema: 'schemas/roster.schema.json' });
    // The entry holds no parser; load() gives the kind with it.
    expect(KINDS[0]).not.toHaveProperty('parse');
    expect(await KINDS[0]!.load()).toBe(rosterKind);
    expect(rosterKind).toMatchObject({ name: 'rosters', pathKey: 'rosters', schema: 'schemas/roster.schema.json' });
  });
});

describe('loadDesired walks the kinds it is given, treating each alike', () => {
  const kinds = [rosterKind, tallyKind];
  const load = (repo: Repo, commit: string, lastGood = new Map<string, string>()) =>
    loadDesired(repo, commit, fleet, { home: '/home/op', lastGood, kinds });

  it("reads a second kind's folder and keeps its values apart", async () => {
    const repo = repoOf({ c1: { 'rosters/team.yaml': ROSTER, 'huts/a.txt.yaml': 'x\ny\n', 'huts/b.yaml': 'z\n' } });
    const d = await load(repo, 'c1');
    expect(d.problems).toEqual([]);
    expect(valuesOf(d, tallyKind)).toEqual([
      { file: 'huts/a.txt.yaml', names: ['x', 'y'] },
      { file: 'huts/b.yaml', names: ['z'] },
    ]);
    expect(d.rosters.map((r) => r.file)).toEqual(['rosters/team.yaml']);
    expect(valuesOf(d, rosterKind)).toEqual(d.rosters);
    expect(d.files.map((f) => [f.path, f.valid])).toEqual([
      ['fleet.yaml', true],
      ['rosters/team.yaml', true],
      ['huts/a.txt.yaml', true],
      ['huts/b.yaml', true],
    ]);
  });

  it('reports its problems, and anything in its folder that is not one of its files (folder rules)', async () => {
    const repo = repoOf({
      c1: { 'huts/a.yaml': 'x\nnot a name\n', 'huts/sub/b.yaml': 'y\n', 'huts/notes.md': '# hi' },
    });
    const d = await load(repo, 'c1');
    expect(d.problems.map(formatProblem)).toEqual([
      'huts/a.yaml:2:1: "not a name" is not a name',
      expect.stringMatching(/^huts\/sub:1:1: is a directory in the tallies folder, where gitfleet reads only huts\//),
    ]);
    expect(valuesOf(d, tallyKind)).toEqual([]);
    // Its rules across files did not judge the broken file: one note says so, after the file's problems.
    expect(d.notes.map(formatProblem)).toEqual([
      'huts/a.yaml:2:1: rules across files not checked (one owner per name): this file has errors of its own',
    ]);
  });

  it('applies its rules across files', async () => {
    const repo = repoOf({ c1: { 'huts/a.yaml': 'x\n', 'huts/b.yaml': 'x\ny\n' } });
    const d = await load(repo, 'c1');
    expect(d.problems.map(formatProblem)).toEqual(['huts/b.yaml:1:1: "x" is also listed in huts/a.yaml']);
    expect(valuesOf(d, tallyKind)).toEqual([{ file: 'huts/a.yaml', names: ['x'] }]);
    expect(d.notes).toEqual([]);
  });

  it('keeps the last-known-good version of a file that turned invalid', async () => {
    const repo = repoOf({ c1: { 'huts/a.yaml': 'x\ny\n' }, c2: { 'huts/a.yaml': 'x\ny y\n' } });
    const first = await load(repo, 'c1');
    const good = first.files.find((f) => f.path === 'huts/a.yaml')!;
    expect(good).toMatchObject({ valid: true, blob: 'blob:huts/a.yaml:x\ny\n' });

    const d = await load(repo, 'c2', new Map([[good.path, good.blob!]]));
    expect(d.problems.map(formatProblem)).toEqual(['huts/a.yaml:2:1: "y y" is not a name']);
    expect(valuesOf(d, tallyKind)).toEqual([{ file: 'huts/a.yaml', names: ['x', 'y'] }]);
    expect(d.files.find((f) => f.path === 'huts/a.yaml')).toMatchObject({
      valid: false,
      usingLastKnownGood: true,
      blob: good.blob,
    });
  });

  it('a folder fleet.yaml names explicitly must exist, for any kind', async () => {
    const repo = repoOf({ c1: { 'rosters/team.yaml': ROSTER } });
    const config = { ...fleet.config, paths: { ...fleet.config.paths, huts: 'slots' } };
    const d = await loadDesired(repo, 'c1', { config, state: fleetState }, { home: '/h', lastGood: new Map(), kinds });
    expect(d.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^fleet\.yaml:1:1: paths\.huts: "slots" does not exist at c1; .*default "huts"/),
    ]);
  });
});
