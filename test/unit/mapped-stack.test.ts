// Internal errors from the bundle are printed with the lines of src/ (src/cli/mapped-stack.ts), without node's
// source maps turned on for every run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { mappedStack } from '../../src/cli/mapped-stack.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles a two-file source the way scripts/build.mjs does and returns the stack of the error it throws. */
async function thrownByBundle(withMap: boolean): Promise<string> {
  writeFileSync(path.join(dir, 'inner.ts'), "export function boom(): never {\n  throw new Error('boom');\n}\n");
  writeFileSync(path.join(dir, 'outer.ts'), "import { boom } from './inner.js';\n\nexport const run = () => boom();\n");
  const out = path.join(dir, 'dist', withMap ? 'with.js' : 'without.js');
  await build({
    entryPoints: [path.join(dir, 'outer.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    sourcemap: withMap ? 'linked' : false,
    sourcesContent: false,
    logLevel: 'silent',
  });
  // In a plain node, as the bin runs: vitest would map the stack itself.
  const script =
    `const { run } = await import(${JSON.stringify(pathToFileURL(out).href)}); ` +
    'try { run(); } catch (e) { console.log(e.stack); }';
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).stdout.trimEnd();
}

describe('mappedStack', () => {
  it('points each frame of a bundled file with a map at its source file, line and column', async () => {
    const stack = await thrownByBundle(true);
    expect(stack).toContain('dist/with.js:');
    const mapped = mappedStack(stack);
    expect(mapped).toContain(`at boom (${path.join(dir, 'inner.ts')}:2:9)`);
    expect(mapped).toContain(`${path.join(dir, 'outer.ts')}:3:`);
    expect(mapped).not.toContain('with.js');
    expect(mapped.split('\n')[0]).toBe('Error: boom');
  });

  it('leaves frames without a map beside their file as they were', async () => {
    const stack = await thrownByBundle(false);
    expect(mappedStack(stack)).toBe(stack);
  });
});
