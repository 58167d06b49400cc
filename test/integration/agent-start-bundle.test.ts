// `gitfleet agent-start` runs once per agent unit at every boot (supervisor: systemd): the built CLI loads for it
// only the chunks it imports statically, and none of them may hold git, YAML, ajv or the daemon's dependencies.
// Read from dist/ (built by `npm test`) and its source maps, so it holds for what ships.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/** A chunk and every chunk it imports statically (what loading it loads), by file name. */
function loads(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(path.join(DIST, file), 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\s(?:[^;]*?\sfrom\s)?"\.\/([^"]+)";?$/gms)) loads(m[1]!, seen);
  return seen;
}

/** The source files a chunk was built from, as its source map names them (node_modules/<pkg>/..., src/...). */
function sources(file: string): string[] {
  const map = JSON.parse(readFileSync(path.join(DIST, `${file}.map`), 'utf8')) as { sources: string[] };
  return map.sources.map((s) => s.replace(/^(\.\.\/)+/, ''));
}

describe('the agent-start bundle', () => {
  const cli = readFileSync(path.join(DIST, 'cli.js'), 'utf8');
  const entry = /import\("\.\/(agent-start-[A-Z0-9]+\.js)"\)/.exec(cli)?.[1];

  it('is a chunk of its own that the CLI imports only when agent-start runs', () => {
    expect(entry).toBeDefined();
    expect(loads('cli.js').has(entry!)).toBe(false);
  });

  it('loads no git, YAML, ajv, file watcher, cron or metrics code, nor the desired-state parsers', () => {
    const files = [...loads(entry!)].flatMap(sources);
    expect(files).toContain('src/apply/agent-start.ts');
    const heavy = files.filter((f) =>
      /node_modules\/(isomorphic-git|yaml|ajv|chokidar|croner|prom-client|pako)\/|src\/(git|desired|daemon)\//.test(f),
    );
    expect(heavy).toEqual([]);
  });
});
