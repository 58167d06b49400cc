// An internal error's stack trace, mapped from the bundle (dist/*.js) back to the lines of src/. Done here, only when
// such an error is printed, rather than with node's source maps on, which would make every run read and index the
// map of every chunk it loads.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A stack frame's location in a built file: file URL, line and column (both 1-based). */
const FRAME = /(file:\/\/[^\s()]+?\.js):(\d+):(\d+)/g;

/** The stack with each frame that has a source map pointing at its source file instead; other frames as they were. */
export function mappedStack(stack: string): string {
  const maps = new Map<string, SourceMap | null>();
  return stack.replace(FRAME, (frame, url: string, line: string, column: string) => {
    if (!maps.has(url)) maps.set(url, readMap(url));
    const entry = maps.get(url)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry)) return frame;
    const source = path.resolve(path.dirname(fileURLToPath(url)), entry.originalSource);
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

function readMap(url: string): SourceMap | null {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
  } catch {
    return null; // no map beside it (tests running the sources, a copied file): the frame stays as it is
  }
}
