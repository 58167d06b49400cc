// Shared parts of the fault suite: a seeded PRNG (every random choice in the
// suite comes from one, so a failure replays exactly), the real CLI run as a
// child process (dist/, built by `npm run test:faults`), the checks every
// fault shares (no stack trace, positioned errors, a sound repo), and the
// figures each file hands to the summary printed at the end (figures.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** mulberry32: tiny, fast, good enough to pick delays and cases; same seed, same run. */
export function prng(seed: number): {
  next: () => number;
  int: (lo: number, hi: number) => number;
  pick: <T>(xs: readonly T[]) => T;
} {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return { next, int, pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Spawned {
  pid: number;
  done: Promise<CliRun>;
  kill: () => void;
}

/** Start the built CLI as its own process (so it can be SIGKILLed, and crashes are a process's). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Spawned {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm run test:faults does)`);
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 })),
  );
  return { pid: child.pid!, done, kill: () => child.kill('SIGKILL') };
}

export function runCli(args: string[], env?: NodeJS.ProcessEnv, cwd?: string): Promise<CliRun> {
  return startCli(args, env, cwd).done;
}

/** A JS stack frame, a JS error class name, or gitfleet's own "internal error" wording. */
const CRASH = /^\s+at |\b[A-Za-z]*Error\b(?!s)|internal error|Maximum call stack/m;

/** The crash text found in some output, or null. */
export function crashIn(...outputs: string[]): string | null {
  for (const o of outputs) {
    const m = CRASH.exec(o);
    if (m) return o.slice(Math.max(0, m.index - 80), m.index + 160).trim();
  }
  return null;
}

/** `file:line:col: message` lines, the one shape every desired-state error takes. */
export const POSITIONED = /^[^:\n]+:\d+:\d+: /;

export function positionedLines(text: string): string[] {
  return text.split('\n').filter((l) => POSITIONED.test(l));
}

/** `git fsck --full` on a repo: null when clean, else what it said. */
export function fsck(gitDir: string): string | null {
  const r = spawnSync('git', ['--git-dir', gitDir, 'fsck', '--full', '--no-dangling'], { encoding: 'utf8' });
  const said = `${r.stdout}${r.stderr}`.trim();
  return r.status === 0 && !/error|missing|corrupt|broken|empty|bad /i.test(said)
    ? null
    : `exit ${r.status}: ${said.slice(0, 600)}`;
}

export interface FigureRow {
  category: string;
  run: number;
  passed: number;
  /** One failing example, shortened. */
  example?: string;
}

/** Hand this file's figures to the summary printed once all files ran (figures.ts), and print them now too. */
export function reportFigures(suite: string, rows: FigureRow[], extra: Record<string, string | number> = {}): void {
  const dir = inject('faultFiguresDir');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${suite}.json`), JSON.stringify({ suite, rows, extra }));
  console.log(formatFigures(suite, rows, extra));
}

export function formatFigures(suite: string, rows: FigureRow[], extra: Record<string, string | number>): string {
  const w = Math.max(8, ...rows.map((r) => r.category.length));
  const lines = [`== ${suite}`, `${'category'.padEnd(w)}   run  passed`];
  for (const r of rows) {
    lines.push(
      `${r.category.padEnd(w)} ${String(r.run).padStart(5)} ${String(r.passed).padStart(7)}` +
        (r.passed < r.run ? '  FAIL' : ''),
    );
    if (r.example) lines.push(`${' '.repeat(w)}   e.g. ${r.example}`);
  }
  const run = rows.reduce((n, r) => n + r.run, 0);
  const passed = rows.reduce((n, r) => n + r.passed, 0);
  lines.push(`${'total'.padEnd(w)} ${String(run).padStart(5)} ${String(passed).padStart(7)}`);
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  return lines.join('\n');
}

/** Tally of cases per category, with the first failure of each kept as its example. */
export class Tally {
  readonly rows = new Map<string, FigureRow>();
  readonly failures: { category: string; id: string; why: string }[] = [];

  record(category: string, id: string, why: string | null): void {
    const row = this.rows.get(category) ?? { category, run: 0, passed: 0 };
    this.rows.set(category, row);
    row.run++;
    if (why === null) row.passed++;
    else {
      this.failures.push({ category, id, why });
      row.example ??= `${id}: ${why}`.replace(/\s+/g, ' ').slice(0, 300);
    }
  }

  list(): FigureRow[] {
    return [...this.rows.values()];
  }

  failed(category?: string): string[] {
    return this.failures
      .filter((f) => category === undefined || f.category === category)
      .map((f) => `${f.id}: ${f.why}`);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    faultFiguresDir: string;
  }
}
