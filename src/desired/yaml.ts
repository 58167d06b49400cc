// YAML with positions: parse a file, normalise its keys, and map a path in
// the parsed value back to the line and column where it was written.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Parser, type Document } from 'yaml';
import type { Problem } from '../errors.js';

export type Path = readonly (string | number)[];

export interface YamlFile {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The value with structural keys normalised to snake_case. */
  value: unknown;
}

/** Largest desired-state file we read; a bigger one is an error, not a hang. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Deepest nesting of maps and lists we read: deeper is an error, never a stack overflow. */
export const MAX_DEPTH = 64;
/** Most aliases one file may expand (a billion-laughs file is an error, not a hang). */
const MAX_ALIASES = 100;

export const toSnake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Parse YAML; on failure return every syntax problem with its position. */
export function parseYaml(
  file: string,
  text: string,
  isDataMap: (path: Path) => boolean,
): { yaml: YamlFile; problems: Problem[]; broken: Path[] } | { yaml: null; problems: Problem[] } {
  const size = Buffer.byteLength(text);
  if (size > MAX_FILE_BYTES) {
    return {
      yaml: null,
      problems: [{ file, line: 1, col: 1, message: `file is ${size} bytes; the limit is ${MAX_FILE_BYTES} bytes` }],
    };
  }
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    // The parser recurses per nesting level: a pathological file overflows it.
    return { yaml: null, problems: [{ file, line: 1, col: 1, message: `invalid YAML: ${plainError(e)}` }] };
  }
  if (doc.errors.length > 0) {
    return {
      yaml: null,
      problems: doc.errors.map((e) => {
        // An unclosed quote or bracket is noticed far from where it opened: point at the opening.
        const quote = e.code === 'MISSING_CHAR' ? quoteRunningTo(text, e.pos[0]) : undefined;
        const bracket = quote === undefined ? unclosedFlowBefore(text, e.pos[0]) : undefined;
        const pos = lines.linePos(quote ?? bracket ?? e.pos[0]);
        const hint =
          quote !== undefined
            ? ' (the quoted string that starts here is never closed)'
            : bracket !== undefined
              ? ' (the [ or { that opens here is never closed)'
              : '';
        // Say what the parser's own wording means (stack overflow, its API hint for several documents).
        const what = /Maximum call stack/.test(e.message)
          ? `nested too deeply; allowed: at most ${MAX_DEPTH} levels of maps and lists`
          : e.code === 'MULTIPLE_DOCS'
            ? 'a second YAML document starts here (after "---" or "..."); allowed: one document per file'
            : firstLine(e.message);
        return { file, line: pos.line, col: pos.col, message: `invalid YAML: ${what}${hint}` };
      }),
    };
  }
  const deep = tooDeep(doc.contents);
  if (deep !== null) {
    const pos = lines.linePos(deep);
    const message = `nested more than ${MAX_DEPTH} levels deep; allowed: at most ${MAX_DEPTH} levels of maps and lists`;
    return { yaml: null, problems: [{ file, line: pos.line, col: pos.col, message }] };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    const message =
      `invalid YAML: ${plainError(e)}; allowed: ` +
      `at most ${MAX_ALIASES} alias expansions, no alias inside its own anchor`;
    return { yaml: null, problems: [{ file, line: 1, col: 1, message }] };
  }
  const yaml: YamlFile = { file, doc, lines, value: undefined };
  const problems: Problem[] = [];
  // Where each problem is in the normalised value, so rules can leave those values alone (see desired/schema.ts).
  const broken: Path[] = [];
  try {
    yaml.value = normaliseKeys(raw, [], isDataMap, (path, message, at = 'key', value = path) => {
      problems.push(problemAt(yaml, path, message, at));
      broken.push(value);
    });
  } catch (e) {
    // Aliases can rebuild depth the node walk above did not see.
    if (!(e instanceof RangeError)) throw e;
    return {
      yaml: null,
      problems: [
        { file, line: 1, col: 1, message: `nested too deeply (through aliases); allowed: at most ${MAX_DEPTH} levels` },
      ],
    };
  }
  return { yaml, problems, broken };
}

/** Offset of the first node nested deeper than MAX_DEPTH, or null. Iterative: no recursion to overflow. */
function tooDeep(root: unknown): number | null {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      if (depth >= MAX_DEPTH) return offsetOf(node) ?? 0;
      for (const item of node.items as unknown[]) {
        if (isPair(item)) stack.push([item.key, depth + 1], [item.value, depth + 1]);
        else stack.push([item, depth + 1]);
      }
    }
  }
  return null;
}

/** An exception's message without the JS class name ("ReferenceError: ..."), first line only. */
function plainError(e: unknown): string {
  const msg =
    e instanceof RangeError
      ? `nested too deeply; allowed: at most ${MAX_DEPTH} levels`
      : e instanceof Error
        ? e.message
        : String(e);
  return firstLine(msg).replace(/^[A-Za-z]*Error:\s*/, '');
}

/** Offset of the quoted scalar whose text runs up to `end`, if any. */
function quoteRunningTo(text: string, end: number): number | undefined {
  for (const t of cstNodes(text)) {
    const tok = t as { type?: unknown; offset?: unknown; source?: unknown };
    if (
      (tok.type === 'double-quoted-scalar' || tok.type === 'single-quoted-scalar') &&
      typeof tok.offset === 'number' &&
      typeof tok.source === 'string' &&
      tok.offset + tok.source.length === end
    ) {
      return tok.offset;
    }
  }
  return undefined;
}

/** Every object in the CST of `text`, walked without recursion (a file may nest thousands deep). */
function* cstNodes(text: string): Generator<object> {
  const stack: unknown[] = [...new Parser().parse(text)];
  while (stack.length > 0) {
    const t = stack.pop();
    if (t === null || typeof t !== 'object') continue;
    yield t;
    for (const v of Object.values(t)) stack.push(v);
  }
}

/** Offset of the last flow collection ([...] or {...}) opened before `pos` and never closed. */
function unclosedFlowBefore(text: string, pos: number): number | undefined {
  let found: number | undefined;
  for (const t of cstNodes(text)) {
    const tok = t as { type?: unknown; start?: { offset?: unknown }; end?: { source?: unknown }[] };
    if (tok.type === 'flow-collection' && typeof tok.start?.offset === 'number' && tok.start.offset < pos) {
      const closed = (tok.end ?? []).some((x) => x.source === ']' || x.source === '}');
      if (!closed && (found === undefined || tok.start.offset > found)) found = tok.start.offset;
    }
  }
  return found;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** snake_case every key except those of data maps (runtime names, env vars). */
function normaliseKeys(
  value: unknown,
  path: (string | number)[],
  isDataMap: (path: Path) => boolean,
  /** `path` is where the problem is written; `value` where it is in the normalised value (default: `path`). */
  report: (path: Path, message: string, at?: 'key' | 'value', value?: Path) => void,
): unknown {
  if (Array.isArray(value)) return value.map((v, i) => normaliseKeys(v, [...path, i], isDataMap, report));
  if (typeof value === 'string' && value.includes('\0')) {
    // No value gitfleet reads can carry NUL: argv, env, paths and git metadata all end at it.
    report(path, `${showPath(path)}: the value contains a NUL byte; allowed: text without NUL`, 'value');
    return value.replace(/\0/g, '');
  }
  if (value === null || typeof value !== 'object') return value;
  const data = isDataMap(path);
  const out: Record<string, unknown> = {};
  const written = new Map<string, string>();
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = data ? k : toSnake(k);
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      // Plain objects would drop or misread these keys silently: refuse them.
      report([...path, k], `"${k}" is a reserved name here; allowed: any other key`);
      continue;
    }
    if (Object.hasOwn(out, key)) {
      report(
        [...path, k],
        `"${k}" repeats "${written.get(key) ?? key}" (snake_case and camelCase spellings of one key); keep one`,
        'key',
        [...path, key],
      );
      continue;
    }
    written.set(key, k);
    out[key] = normaliseKeys(v, [...path, key], isDataMap, report);
  }
  return out;
}

/** Where a path was written: the key ('key') or the value ('value'). */
export function positionOf(yaml: YamlFile, path: Path, at: 'key' | 'value' = 'value'): { line: number; col: number } {
  let node: unknown = yaml.doc.contents;
  let best: number | undefined = offsetOf(node);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = findPair(node.items, seg);
      if (!pair) break;
      if (last && at === 'key') {
        best = offsetOf(pair.key) ?? best;
        break;
      }
      node = pair.value;
      best = offsetOf(node) ?? offsetOf(pair.key) ?? best;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      best = offsetOf(node) ?? best;
    } else break;
  }
  if (best === undefined) return { line: 1, col: 1 };
  const pos = yaml.lines.linePos(best);
  return { line: pos.line, col: pos.col };
}

/** The last key of `path` as written in the file (the parsed value has it in snake_case). */
export function keyAsWritten(yaml: YamlFile, path: Path): string {
  let node: unknown = yaml.doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isMap(node)) {
      const pair = findPair(node.items, seg);
      if (!pair) break;
      if (i === path.length - 1) return String((pair.key as { value: unknown }).value);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') node = node.items[seg];
    else break;
  }
  return String(path[path.length - 1] ?? '');
}

/** The pair for a path segment: the key written exactly so, else its camelCase spelling. */
function findPair<T>(items: readonly T[], seg: string | number): T | undefined {
  const keyOf = (p: T) => (isPair(p) && isScalar(p.key) ? String(p.key.value) : undefined);
  return (
    items.find((p) => keyOf(p) === String(seg)) ??
    items.find((p) => {
      const k = keyOf(p);
      return k !== undefined && toSnake(k) === String(seg);
    })
  );
}

function offsetOf(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? range[0] : undefined;
}

export function problemAt(yaml: YamlFile, path: Path, message: string, at: 'key' | 'value' = 'value'): Problem {
  const { line, col } = positionOf(yaml, path, at);
  return { file: yaml.file, line, col, message };
}

/** `agents[2].runtime` for messages. */
export function showPath(path: Path): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s || '(top level)';
}
