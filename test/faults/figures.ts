// globalSetup of the fault suite: gives every test file a directory for its
// figures, and prints them all in one table once every file has run.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { formatFigures, type FigureRow } from './lib.js';

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-fault-figures-'));
  project.provide('faultFiguresDir', dir);
  const t0 = Date.now();
  return () => {
    const parts = readdirSync(dir)
      .sort()
      .map(
        (f) =>
          JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
            suite: string;
            rows: FigureRow[];
            extra: Record<string, string | number>;
          },
      );
    const lines = ['', '==================== gitfleet fault suite: figures ===================='];
    for (const p of parts) lines.push(formatFigures(p.suite, p.rows, p.extra), '');
    const run = parts.flatMap((p) => p.rows).reduce((n, r) => n + r.run, 0);
    const passed = parts.flatMap((p) => p.rows).reduce((n, r) => n + r.passed, 0);
    lines.push(`all: ${passed}/${run} cases passed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    console.log(lines.join('\n'));
    rmSync(dir, { recursive: true, force: true });
  };
}
