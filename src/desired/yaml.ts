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

export const toSnake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Parse YAML; on failure return every syntax problem with its position. */
export function parseYaml(
  file: string,
  text: string,
  isDataMap: (path: Path) => boolean,
): { yaml: YamlFile; problems: Problem[] } | { yaml: null; problems: Problem[] } {
  const size = Buffer.byteLength(text);
  if (size > MAX_FILE_BYTES) {
    return {
      yaml: null,
      problems: [{ file, line: 1, col: 1, message: `file is ${size} bytes; the limit is ${MAX_FILE_BYTES} bytes` }],
    };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      yaml: null,
      problems: doc.errors.map((e) => {
        // An unclosed quote is noticed at the end of the file: point at the quote that opened it.
        const opened = e.code === 'MISSING_CHAR' ? quoteRunningTo(text, e.pos[0]) : undefined;
        const pos = lines.linePos(opened ?? e.pos[0]);
        const hint = opened === undefined ? '' : ' (the quoted string that starts here is never closed)';
        return { file, line: pos.line, col: pos.col, message: `invalid YAML: ${firstLine(e.message)}${hint}` };
      }),
    };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { yaml: null, problems: [{ file, line: 1, col: 1, message: `invalid YAML: ${firstLine(String(e))}` }] };
  }
  const yaml: YamlFile = { file, doc, lines, value: undefined };
  const problems: Problem[] = [];
  yaml.value = normaliseKeys(raw, [], isDataMap, (path, message) => problems.push(problemAt(yaml, path, message, 'key')));
  return { yaml, problems };
}

/** Offset of the quoted scalar whose text runs up to `end`, if any. */
function quoteRunningTo(text: string, end: number): number | undefined {
  let found: number | undefined;
  const visit = (t: unknown): void => {
    if (found !== undefined || t === null || typeof t !== 'object') return;
    const tok = t as { type?: unknown; offset?: unknown; source?: unknown };
    if ((tok.type === 'double-quoted-scalar' || tok.type === 'single-quoted-scalar') && typeof tok.offset === 'number' && typeof tok.source === 'string' && tok.offset + tok.source.length === end) {
      found = tok.offset;
      return;
    }
    for (const v of Object.values(t)) visit(v);
  };
  for (const token of new Parser().parse(text)) visit(token);
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
  report: (path: Path, message: string) => void,
): unknown {
  if (Array.isArray(value)) return value.map((v, i) => normaliseKeys(v, [...path, i], isDataMap, report));
  if (value === null || typeof value !== 'object') return value;
  const data = isDataMap(path);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = data ? k : toSnake(k);
    if (Object.prototype.hasOwnProperty.call(out, key)) {
      report([...path, k], `"${k}" repeats "${key}" (snake_case and camelCase spellings of one key); keep one`);
      continue;
    }
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
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && keyMatches(String(p.key.value), seg));
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
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && keyMatches(String(p.key.value), seg));
      if (!pair) break;
      if (i === path.length - 1) return String((pair.key as { value: unknown }).value);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') node = node.items[seg];
    else break;
  }
  return String(path[path.length - 1] ?? '');
}

function keyMatches(written: string, seg: string | number): boolean {
  return written === String(seg) || toSnake(written) === String(seg);
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
