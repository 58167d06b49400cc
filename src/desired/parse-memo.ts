// Parsed desired-state files, remembered in the state dir across runs. Parsing a roster (YAML with positions, the
// schema, every agent's checks) was ~150 ms of a no-op apply at 1000 agents, and a no-op parses the same blobs as
// the run before. A parse is a pure function of the kind, the file's path and blob, the operator's home and the
// code that parses, so that is the key (the code by GITFLEET_BUILD, a hash of the sources the build injects).
// Only what is remembered is the parse: observation, planning and the rules across files run every time.
// So a no-op run does not even load the code that parses (the YAML parser, the schema validators, croner): the
// loader asks `has` first and imports a kind's parser only for a file the memo does not hold (desired/load.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readText, writeAtomic } from '../files.js';
import type { Parsed } from './kinds/kind.js';

/** Replaced by the build (scripts/build.mjs, esbuild `define`) with a hash of what it bundled. */
declare const GITFLEET_BUILD: string | undefined;

/** The build's hash; null from the sources (vitest), where nothing is remembered across runs. */
export function buildId(): string | null {
  return typeof GITFLEET_BUILD === 'string' ? GITFLEET_BUILD : null;
}

export const PARSE_MEMO_FILE = 'parse-memo.json';

interface MemoFile {
  build: string;
  /** Key -> the clean parse as JSON text (parsed anew on each use: nothing downstream can change the stored one). */
  entries: Record<string, string>;
}

export class ParseMemo {
  /** Entries used by this run: what save() keeps, so the file holds the current files' parses only. */
  private readonly used = new Map<string, string>();
  /** Entries `has` has read, by key, for the parse() that follows it. */
  private readonly read = new Map<string, unknown>();
  private missed = false;

  private constructor(
    private readonly file: string,
    private readonly build: string,
    private readonly known: Readonly<Record<string, string>>,
  ) {}

  /** The memo of a state dir; an unreadable, damaged or other build's file is an empty memo. */
  static async load(stateDir: string, build: string): Promise<ParseMemo> {
    const file = path.join(stateDir, PARSE_MEMO_FILE);
    let known: Record<string, string> = {};
    try {
      const doc = JSON.parse((await readText(file)) ?? 'null') as MemoFile | null;
      if (doc?.build === build && doc.entries && typeof doc.entries === 'object') known = doc.entries;
    } catch {
      /* damaged: start afresh */
    }
    return new ParseMemo(file, build, known);
  }

  /**
   * Whether parse() will answer for this file from memory, without calling its parser (an entry that does not
   * read back is not held). The entry read here is what that parse() returns.
   */
  has(kind: string, file: { path: string; blob: string }, home: string): boolean {
    return this.readEntry(JSON.stringify([kind, file.path, file.blob, home])) !== undefined;
  }

  /** `parse()`'s result for this file, remembered when it had no problem (a file with problems is parsed anew). */
  parse<T>(kind: string, file: { path: string; blob: string }, home: string, parse: () => Parsed<T>): Parsed<T> {
    const key = JSON.stringify([kind, file.path, file.blob, home]);
    const known = this.take<Parsed<T>>(key);
    if (known !== undefined) return known;
    const parsed = parse();
    if (parsed.value !== null && parsed.problems.length === 0) this.keep(key, parsed);
    return parsed;
  }

  /**
   * A value worked out from `input` that holds only for a while (a cron pattern's next runs: see
   * desired/schedule.ts): the remembered one while `fresh` says it still holds, else `work()`'s, remembered.
   */
  async recall<T>(kind: string, input: string, fresh: (v: T) => boolean, work: () => Promise<T>): Promise<T> {
    const key = JSON.stringify([kind, input]);
    const known = this.readEntry(key) as T | undefined;
    if (known !== undefined && fresh(known)) return this.take<T>(key)!;
    const value = await work();
    this.keep(key, value);
    return value;
  }

  /** The entry under `key`, read once and held for take(); undefined when absent or damaged. */
  private readEntry(key: string): unknown {
    if (this.read.has(key)) return this.read.get(key);
    const text = this.known[key];
    if (typeof text !== 'string') return undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (value === null || typeof value !== 'object') return undefined;
      this.read.set(key, value);
      return value;
    } catch {
      return undefined; // damaged entry: worked out anew
    }
  }

  /** The entry under `key`, used by this run (kept by save()); each call gets its own copy. */
  private take<T>(key: string): T | undefined {
    const value = this.readEntry(key) as T | undefined;
    if (value === undefined) return undefined;
    this.read.delete(key);
    this.used.set(key, this.known[key]!);
    return value;
  }

  private keep(key: string, value: unknown): void {
    this.used.set(key, JSON.stringify(value));
    this.missed = true;
  }

  /**
   * Write the entries this run used, when it parsed something new or dropped something old, into a state dir
   * that exists (a memo never creates one); never fails a run.
   */
  async save(): Promise<void> {
    const stale = Object.keys(this.known).some((k) => !this.used.has(k));
    if ((!this.missed && !stale) || !existsSync(path.dirname(this.file))) return;
    const doc: MemoFile = { build: this.build, entries: Object.fromEntries(this.used) };
    await writeAtomic(this.file, `${JSON.stringify(doc)}\n`, 0o600, 0o700).catch(() => undefined);
  }
}
