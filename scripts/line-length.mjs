// Fails listing file:line for each source line over 120 characters in src/ and test/ (Biome cannot break a long
// string). Data is left alone: test/fixtures (the field's shapes) and snapshots are as wide as what they hold.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const MAX = 120;
const ROOTS = ['src', 'test'];
const SKIP = new Set(['test/fixtures', 'src/generated']);
const SOURCE = /\.(ts|mjs|js)$/;

const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.posix.join(dir, e.name);
    if (SKIP.has(p)) return [];
    return e.isDirectory() ? files(p) : e.isFile() && SOURCE.test(p) ? [p] : [];
  });

process.chdir(path.join(import.meta.dirname, '..'));
const long = [];
for (const file of ROOTS.flatMap(files).sort()) {
  for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
    const width = [...line].length; // characters as a reader counts them: code points, not UTF-16 units
    if (width > MAX) long.push(`${file}:${i + 1}: ${width} characters`);
  }
}
if (long.length > 0) {
  console.error(`${long.join('\n')}\n${long.length} lines over ${MAX} characters (split long strings readably)`);
  process.exit(1);
}
