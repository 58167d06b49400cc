// Parses remembered in the state dir (src/desired/parse-memo.ts): a remembered parse is exactly the parse, and it is
// reused only for the same kind, path, blob, home and build; a file with problems is always parsed anew. Real files
// in a temp dir.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../src/desired/fleet-config.js';
import type { DesiredKind } from '../../src/desired/kinds/kind.js';
import { rosterKind } from '../../src/desired/kinds/roster/index.js';
import { assembleDesired } from '../../src/desired/load.js';
import { PARSE_MEMO_FILE, ParseMemo } from '../../src/desired/parse-memo.js';
import type { FileState, SourceFile } from '../../src/desired/types.js';
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
    const plain = assembleDesired(config!, state, sources, new Map(), { home: HOME });
    const first = await ParseMemo.load(dir, 'b1');
    const fresh = assembleDesired(config!, state, sources, new Map(), { home: HOME, memo: first });
    await first.save();
    const second = await ParseMemo.load(dir, 'b1');
    const remembered = assembleDesired(config!, state, sources, new Map(), { home: HOME, memo: second });
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
