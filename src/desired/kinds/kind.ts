// What a desired-state kind gives the loader (desired/load.ts): where its files
// live, how one file parses, its schema, and its rules across files. The
// loader does the rest the same way for every kind: it reads the kind's
// folder, parses each file, falls back to a file's last-known-good version,
// and reports file states; so a new kind is a folder plus a registry entry.
import type { Problem } from '../../errors.js';
import type { DesiredState, FleetConfig } from '../types.js';

/** What parse may depend on besides the file: nothing from the machine but the operator's home. */
export interface ParseContext {
  home: string;
}

export interface Parsed<T> {
  /** The normalised value; null when the file has any problem. */
  value: T | null;
  /** Every problem of the file, each with its position. */
  problems: Problem[];
}

/** One version of a file, with its value. */
export interface Version<T> {
  value: T;
  blob: string;
}

/** One file of a kind while the rules across files judge it. */
export interface Candidate<T> {
  readonly path: string;
  readonly blob: string;
  /** The current version's value; null when the file has problems of its own. */
  readonly value: T | null;
  /** The file's own problems, then those the rules across files add. */
  problems: Problem[];
  /** Its last-known-good version (from the previous status), parsed on first use; null when none parses. */
  lastGood(): Version<T> | null;
  /** The version whose value counts, or none. */
  inForce: (Version<T> & { lastGood: boolean }) | null;
}

/** What rules across files may read besides the files. */
export interface RuleContext {
  config: FleetConfig;
  /** Which file declared what at the last status (the roster kind: `<socket>/<session>` -> file). */
  previousOwners: ReadonlyMap<string, string>;
}

export interface DesiredKind<T> {
  /** Plural name: the key in `DesiredState.kinds`, and in messages ("the rosters folder"). */
  readonly name: string;
  /** The fleet.yaml `paths` key that names the kind's folder. */
  readonly pathKey: keyof FleetConfig['paths'];
  /** Its JSON Schema, relative to the repository root (editors and the docs point at it). */
  readonly schema: string;
  /** Pure: one file's text to its normalised value, with every problem positioned. */
  parse(file: { path: string; text: string }, ctx: ParseContext): Parsed<T>;
  /**
   * Rules that span files, when the kind has any. `apply` sees every file of
   * the kind with `inForce` preset (the current version when valid, else the
   * last-known-good one); it adds problems and may change `inForce`. A file
   * whose current version has problems of its own is not judged: the loader
   * says so once in that file, naming `what`.
   */
  readonly acrossFiles?: {
    what: string;
    apply(files: Candidate<T>[], ctx: RuleContext): void;
  };
}

/** A kind without its parser. */
export type KindAbout<T> = Omit<DesiredKind<T>, 'parse'>;

/**
 * A kind as the registry lists it: everything the loader needs on every run, and `load` for its parser. A kind's
 * parser brings the YAML parser and the schema validators; the loader imports it (through `load`) only when some
 * file's parse is not remembered (desired/parse-memo.ts), so a no-op run never loads them.
 */
export interface KindEntry<T> extends KindAbout<T> {
  /** The kind with its parser (its module is imported on the first call). */
  load(): Promise<DesiredKind<T>>;
}

/** A kind whose value type does not matter here (a list of kinds). */
// biome-ignore lint/suspicious/noExplicitAny: lists hold kinds of different value types
export type AnyKind = DesiredKind<any>;
/** A registry entry whose value type does not matter here (the registry's list). */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds kinds of different value types
export type AnyKindEntry = KindEntry<any>;

/** The values in force of one kind, typed by the kind. */
export function valuesOf<T>(desired: DesiredState, kind: DesiredKind<T> | KindAbout<T>): readonly T[] {
  return (desired.kinds[kind.name] ?? []) as readonly T[];
}
