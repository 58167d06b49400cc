// Parses remembered in the state dir (src/desired/parse-memo.ts): a remembered parse is exactly the parse, and it is
// reused only for the same kind, path, blob, home and build; a file with problems is always parsed anew. Real files
// in a temp dir.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { TreeEntry } from '../../src/git/object-parse.js';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../src/desired/fleet-parse.js';
import { scheduleIntervalMs } from '../../src/desired/cron.js';
import { FLEET_FILE } from '../../src/desired/fleet-config.js';
import type { DesiredKind, KindEntry } from '../../src/desired/kinds/kind.js';
import { rosterKind } from '../../src/desired/kinds/roster/index.js';
import { assembleDesired, loadDesired, readFleetConfig } from '../../src/desired/load.js';
import { PARSE_MEMO_FILE, ParseMemo } from '../../src/desired/parse-memo.js';
import { REMEMBERED_RUNS, scheduleInterval } from '../../src/desired/schedule.js';
import type { DesiredTree } from '../../src/desired/tree.js';
import type { FileState, SourceFile } from '../../src/desired/types.js';
import type { Repo } from '../../src/git/repo.js';
import { HOME } from './builders.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-memo-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const FIELD = path.join(import.meta.dirname, '..', 'fixtures', 'field', 'rosters');
const fieldRoster = (name: string): SourceFile => ({
  path: `rosters/${name}`,
  blob: `blob-${name}`,
  text: readFileSync(path.join(FIELD, name), 'utf8'),
});

/** A kind that counts its parses: `bad` in the text is a problem. */
function countingKind() {
  const calls: string[] = [];
  const kind: DesiredKind<{ text: string }> = {
    name: 'counted',
    pathKey: 'rosters',
    schema: 'schemas/none.schema.json',
    parse: (file) => {
      calls.push(file.path);
      return file.text.includes('bad')
        ? { value: null, problems: [{ file: file.path, line: 1, col: 1, message: 'bad' }] }
        : { value: { text: file.text }, problems: [] };
    },
  };
  return { kind, calls };
}

const run = async (kind: DesiredKind<{ text: string }>, file: SourceFile, build = 'b1', home = HOME) => {
  const memo = await ParseMemo.load(dir, build);
  const parsed = memo.parse(kind.name, file, home, () => kind.parse(file, { home }));
  await memo.save();
  return parsed;
};

describe('a remembered parse', () => {
  it('is exactly the parse of the field rosters (JSON keeps every field, nothing undefined is lost)', () => {
    for (const name of ['minimal.yaml', 'local-canary.yaml']) {
      const parsed = rosterKind.parse(fieldRoster(name), { home: HOME });
      expect(parsed.problems, name).toEqual([]);
      expect(JSON.parse(JSON.stringify(parsed)), name).toStrictEqual(parsed);
    }
  });

  it('makes the same desired state as parsing, on the next run', async () => {
    const sources = [fieldRoster('minimal.yaml'), fieldRoster('local-canary.yaml')];
    const { config } = parseFleetConfig(null, { fleet: 'lab', branch: 'main', host: 'box1' });
    const state: FileState = { path: 'fleet.yaml', blob: null, valid: true, usingLastKnownGood: false, problems: [] };
    const plain = assembleDesired(config!, state, sources, new Map(), { home: HOME, kinds: [rosterKind] });
    const first = await ParseMemo.load(dir, 'b1');
    const fresh = assembleDesired(config!, state, sources, new Map(), { home: HOME, kinds: [rosterKind], memo: first });
    await first.save();
    const second = await ParseMemo.load(dir, 'b1');
    const remembered = assembleDesired(config!, state, sources, new Map(), {
      home: HOME,
      kinds: [rosterKind],
      memo: second,
    });
    expect(fresh).toStrictEqual(plain);
    expect(remembered).toStrictEqual(plain);
    expect(remembered.rosters.flatMap((r) => r.agents).length).toBeGreaterThan(0);
  });
});

describe('the memo', () => {
  const file = (text: string, blob = 'b-1', p = 'rosters/a.yaml'): SourceFile => ({ path: p, blob, text });

  it('is used on the next run for the same kind, path, blob, home and build only', async () => {
    const { kind, calls } = countingKind();
    const a = await run(kind, file('one'));
    expect(await run(kind, file('one'))).toStrictEqual(a);
    expect(calls).toHaveLength(1);
    await run(kind, file('two', 'b-2'));
    await run(kind, file('one', 'b-1', 'rosters/b.yaml'));
    await run(kind, file('one'), 'b2');
    await run(kind, file('one'), 'b2', '/home/other');
    expect(calls).toHaveLength(5);
  });

  it('never remembers a file with problems: its messages come from a fresh parse every time', async () => {
    const { kind, calls } = countingKind();
    const bad = await run(kind, file('bad'));
    expect(await run(kind, file('bad'))).toStrictEqual(bad);
    expect(calls).toHaveLength(2);
    expect(() => statSync(path.join(dir, PARSE_MEMO_FILE)), 'nothing to remember, nothing written').toThrow();
  });

  it('is not rewritten by a run that parsed nothing new, and keeps only the current files', async () => {
    const { kind } = countingKind();
    await run(kind, file('one'));
    const memoFile = path.join(dir, PARSE_MEMO_FILE);
    const written = statSync(memoFile).mtimeMs;
    await run(kind, file('one'));
    expect(statSync(memoFile).mtimeMs).toBe(written);
    await run(kind, file('two', 'b-2'));
    expect(Object.keys(JSON.parse(readFileSync(memoFile, 'utf8')).entries)).toHaveLength(1);
  });

  it('starts empty from a damaged file, and never creates a state dir', async () => {
    const { kind, calls } = countingKind();
    writeFileSync(path.join(dir, PARSE_MEMO_FILE), '{"build": "b1", "entries": {"x": ');
    await run(kind, file('one'));
    await run(kind, file('one'));
    expect(calls).toHaveLength(1);
    const gone = path.join(dir, 'none');
    const memo = await ParseMemo.load(gone, 'b1');
    memo.parse(kind.name, file('one'), HOME, () => kind.parse(file('one'), { home: HOME }));
    await memo.save();
    expect(() => statSync(gone)).toThrow();
  });
});

/** A tree holding files (path -> [blob, text]) that counts the texts it is asked for; it has no older versions. */
function treeOf(files: Record<string, [string, string]>) {
  const reads: string[] = [];
  const entry = (p: string, [oid]: [string, string]): TreeEntry => ({
    mode: '100644',
    path: p.slice(p.lastIndexOf('/') + 1),
    oid,
    type: 'blob',
  });
  const tree: DesiredTree = {
    where: 'at test',
    olderVersions: async () => null,
    entryAt: async (p) => {
      if (files[p]) return entry(p, files[p]);
      return Object.keys(files).some((f) => f.startsWith(`${p}/`))
        ? { mode: '040000', path: p, oid: `tree-${p}`, type: 'tree' }
        : null;
    },
    listDir: async (dir) =>
      Object.entries(files)
        .filter(([p]) => p.startsWith(`${dir}/`))
        .map(([p, f]) => entry(p, f)),
    readText: async (p) => {
      reads.push(p);
      return files[p]![1];
    },
  };
  return { tree, reads };
}

describe("fleet.yaml's parse", () => {
  const d = { fleet: 'lab', branch: 'main', host: 'box1' };
  const noRepo = {} as Repo;
  const read = async (files: Record<string, [string, string]>, defaults = d) => {
    const { tree, reads } = treeOf(files);
    const memo = await ParseMemo.load(dir, 'b1');
    const fleet = await readFleetConfig(noRepo, tree, defaults, memo);
    await memo.save();
    return { fleet, reads };
  };

  it('is remembered: the next run reads no text, and the defaults still apply to it', async () => {
    const text = 'fleet: lab2\nhosts: [a]\nreconcile:\n  schedule: "*/10 * * * *"\n  max_prune: "20%"\n';
    const first = await read({ [FLEET_FILE]: ['f-1', text] });
    expect(first.reads).toEqual([FLEET_FILE]);
    expect(first.fleet.config).toEqual(parseFleetConfig(text, d).config);
    const again = await read({ [FLEET_FILE]: ['f-1', text] });
    expect(again.reads).toEqual([]);
    expect(again.fleet).toStrictEqual(first.fleet);
    // What fleet.yaml leaves to the defaults comes from this run's defaults, not the remembered run's.
    const other = await read({ [FLEET_FILE]: ['f-1', text] }, { ...d, branch: 'trunk', host: 'box2' });
    expect(other.reads).toEqual([]);
    expect(other.fleet.config).toEqual(parseFleetConfig(text, { ...d, branch: 'trunk', host: 'box2' }).config);
    expect(other.fleet.config.statusBranch).toBe('trunk');
  });

  it('is parsed anew when its blob changes, and never remembered with problems', async () => {
    await read({ [FLEET_FILE]: ['f-1', 'fleet: one\n'] });
    const changed = await read({ [FLEET_FILE]: ['f-2', 'fleet: two\n'] });
    expect(changed.reads).toEqual([FLEET_FILE]);
    expect(changed.fleet.config.fleet).toBe('two');
    const bad = 'fleet: three\nreconcile:\n  prune: maybe\n';
    for (let i = 0; i < 2; i++) {
      const broken = await read({ [FLEET_FILE]: ['f-3', bad] });
      expect(broken.reads).toEqual([FLEET_FILE]);
      expect(broken.fleet.state.problems.map((p) => `${p.line}:${p.col}`)).toEqual(['3:10']);
      expect(broken.fleet.state).toMatchObject({ valid: false, blob: null });
    }
    const memoFile = JSON.parse(readFileSync(path.join(dir, PARSE_MEMO_FILE), 'utf8')) as { entries: object };
    expect(Object.keys(memoFile.entries).some((k) => k.includes('f-3'))).toBe(false);
  });
});

describe('loadDesired with every parse remembered', () => {
  const ROSTER = 'version: 1\nruntimes: {claude: {}}\nagents:\n  - {name: a1, runtime: claude}\n';
  /** The roster kind as the registry lists it, counting how often its parser is loaded. */
  function countingEntry() {
    const loads: number[] = [];
    const entry: KindEntry<unknown> = {
      name: rosterKind.name,
      pathKey: rosterKind.pathKey,
      schema: rosterKind.schema,
      acrossFiles: rosterKind.acrossFiles as KindEntry<unknown>['acrossFiles'],
      load: async () => {
        loads.push(1);
        return rosterKind as DesiredKind<unknown>;
      },
    };
    return { entry, loads };
  }
  const load = async (files: Record<string, [string, string]>, lastGood = new Map<string, string>()) => {
    const { entry, loads } = countingEntry();
    const { tree } = treeOf(files);
    // Last good versions are read from the repository: every one is this roster.
    const repo = { readBlob: async () => ROSTER } as unknown as Repo;
    const memo = await ParseMemo.load(dir, 'b1');
    const config = parseFleetConfig(null, { fleet: 'lab', branch: 'main', host: 'box1' }).config!;
    const state: FileState = { path: 'fleet.yaml', blob: null, valid: true, usingLastKnownGood: false, problems: [] };
    const desired = await loadDesired(repo, tree, { config, state }, { home: HOME, memo, kinds: [entry], lastGood });
    await memo.save();
    return { desired, loads: loads.length };
  };

  it("never loads a kind's parser, and makes the same desired state", async () => {
    const first = await load({ 'rosters/a.yaml': ['r-1', ROSTER] });
    expect(first.loads).toBe(1);
    expect(first.desired.rosters.flatMap((r) => r.agents.map((a) => a.name))).toEqual(['a1']);
    const again = await load({ 'rosters/a.yaml': ['r-1', ROSTER] }, new Map([['rosters/a.yaml', 'r-1']]));
    expect(again.loads).toBe(0);
    expect(again.desired).toStrictEqual(first.desired);
    // A changed file is parsed, with the parser loaded again.
    const changed = await load({ 'rosters/a.yaml': ['r-2', ROSTER.replace('a1', 'a2')] });
    expect(changed.loads).toBe(1);
    expect(changed.desired.rosters[0]!.agents[0]!.name).toBe('a2');
  });

  it("loads the parser when a changed file's last good version is not remembered either", async () => {
    await load({ 'rosters/a.yaml': ['r-1', ROSTER] });
    // r-1 is remembered, r-0 (the last good version the status names) is not: its rules may need it parsed.
    const run = await load({ 'rosters/a.yaml': ['r-1', ROSTER] }, new Map([['rosters/a.yaml', 'r-0']]));
    expect(run.loads).toBe(1);
  });
});

describe('the interval of reconcile.schedule', () => {
  const T0 = new Date('2026-01-20T10:02:03.456Z');
  const later = (ms: number) => new Date(T0.getTime() + ms);
  const patterns = ['*/5 * * * *', '*/30 * * * * *', '0 9,17 * * *', '0 0 1 * *', '@hourly', '0 0 29 2 *'];

  it("is croner's, from remembered runs, at any later time the runs still reach", async () => {
    for (const pattern of patterns) {
      const memo = await ParseMemo.load(dir, 'b1');
      expect(await scheduleInterval(pattern, memo, T0), pattern).toBe(scheduleIntervalMs(pattern, T0));
      await memo.save();
      for (const at of [later(1), later(299_999), later(3_600_000), later(40 * 86_400_000), later(400 * 86_400_000)]) {
        const next = await ParseMemo.load(dir, 'b1');
        expect(await scheduleInterval(pattern, next, at), `${pattern} at ${at.toISOString()}`).toBe(
          scheduleIntervalMs(pattern, at),
        );
      }
    }
  });

  it('is answered from the memo while its runs reach far enough, and worked out anew after', async () => {
    const stored = () =>
      JSON.parse(
        JSON.parse(readFileSync(path.join(dir, PARSE_MEMO_FILE), 'utf8')).entries['["schedule","*/5 * * * *"]'],
      );
    const run = async (at: Date) => {
      const memo = await ParseMemo.load(dir, 'b1');
      const ms = await scheduleInterval('*/5 * * * *', memo, at);
      await memo.save();
      return ms;
    };
    expect(await run(T0)).toBe(300_000);
    expect(stored()).toMatchObject({ from: T0.getTime(), complete: false });
    expect(stored().runs).toHaveLength(REMEMBERED_RUNS);
    expect(await run(later(3_600_000))).toBe(300_000);
    expect(stored().from).toBe(T0.getTime());
    // Past the last remembered runs (and before the first, as a clock set back): croner again, remembered anew.
    const far = later(REMEMBERED_RUNS * 300_000);
    expect(await run(far)).toBe(300_000);
    expect(stored().from).toBe(far.getTime());
    expect(await run(T0)).toBe(300_000);
    expect(stored().from).toBe(T0.getTime());
  });
});
