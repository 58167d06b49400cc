// Parsed desired-state files, remembered in the state dir across runs. Parsing a roster (YAML with positions, the
// schema, every agent's checks) was ~150 ms of a no-op apply at 1000 agents, and a no-op parses the same blobs as
// the run before. A parse is a pure function of the kind, the file's path and blob, the operator's home and the
// code that parses, so that is the key (the code by GITFLEET_BUILD, a hash of the sources the build injects).
// Only what is remembered is the parse: observation, planning and the rules across files run every time.
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

  /** `parse()`'s result for this file, remembered when it had no problem (a file with problems is parsed anew). */
  parse<T>(kind: string, file: { path: string; blob: string }, home: string, parse: () => Parsed<T>): Parsed<T> {
    const key = JSON.stringify([kind, file.path, file.blob, home]);
    const text = this.known[key];
    if (typeof text === 'string') {
      try {
        const parsed = JSON.parse(text) as Parsed<T>;
        this.used.set(key, text);
        return parsed;
      } catch {
        /* damaged entry: parse */
      }
    }
    const parsed = parse();
    if (parsed.value !== null && parsed.problems.length === 0) {
      this.used.set(key, JSON.stringify(parsed));
      this.missed = true;
    }
    return parsed;
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
