// Fault suite, part 1: malformed desired state (issue #8).
//
// How ~1000 inputs are run in a few minutes (the CLI needs ~1 s just to
// start, so not 2000 processes): one fleet converges on a valid roster; every
// input is one commit on top of that converged head, all written by a single
// `git fast-import`. For each input `main` is pointed at its commit and
// gitfleet's own `main()` (src/cli/main.ts: the CLI minus process start-up)
// runs `validate` in this process: exit 1, a `file:line:col:` error naming the
// broken file, no stack trace. `apply --json` follows, in-process too, for
// every hand-written input and a seeded quarter of the schema-generated ones
// (those share one ajv check and one wording): no action, the sessions keep
// their pids, the repo's config, refs and folders are untouched. A case that
// broke something is repaired (main back to the converged head, apply) before
// the next, so one failure neither masks nor fakes another. The parser-heavy
// inputs (deep nesting, bombs, huge, binary) and a seeded sample also run
// through the real CLI process (dist/cli.js), where a stack overflow or a
// crash is the process's own. Injection probes (tmux formats, shell syntax) in
// every string field of a new agent may validate, but must never run: a
// canary file must not appear.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolateTmux, sh, TestFleet, tmux } from '../helpers/fleet.js';
import {
  baseFleet,
  baseRoster,
  FLEET,
  injectionProbes,
  malformedCorpus,
  ROSTER,
  yamlText,
  type Case,
  type Ctx,
  type Entry,
} from './corpus.js';
import { crashIn, positionedLines, prng, reportFigures, runCli, Tally } from './lib.js';

const SEED = 0x5eed0008;
/** Through the real CLI: validate for every heavy input and this many others; apply for this many of all. */
const CLI_SAMPLE = 12;

let tmuxDir: string;
let cwd: string;
let projectDir: string;
let fleet: TestFleet;
let ctx: Ctx;
let cases: Case[];
let oids: Map<string, string>;
let head0: string;
let baseline: Map<string, number>;
let snapshot: { config: Buffer; refs: string; top: string[]; bareTop: string[] };
const tally = new Tally();
const timings: Record<string, number> = {};

const globalArgs = () => ['--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host];

function sessions(): Map<string, number> {
  return new Map([...fleet.panes()].map(([s, p]) => [s, p.pid]));
}

/** Branches besides main, read from the files (a spawn per case adds up). */
function refs(): string {
  const found: string[] = [];
  const walk = (dir: string, name: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name), `${name}${e.name}/`);
      else found.push(`${name}${e.name}`);
    }
  };
  walk(path.join(fleet.bare, 'refs', 'heads'), 'refs/heads/');
  const packed = path.join(fleet.bare, 'packed-refs');
  if (existsSync(packed))
    found.push(
      ...readFileSync(packed, 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((r) => r.startsWith('refs/heads/')),
    );
  return [...new Set(found)]
    .filter((r) => r !== 'refs/heads/main')
    .sort()
    .join(',');
}

function takeSnapshot() {
  return {
    config: readFileSync(path.join(fleet.bare, 'config')),
    refs: refs(),
    top: readdirSync(fleet.dir).sort(),
    bareTop: readdirSync(fleet.bare).sort(),
  };
}

/** Everything a case may have broken besides sessions: null when nothing. */
function damage(): string | null {
  const now = takeSnapshot();
  if (!now.config.equals(snapshot.config)) return 'the bare repo config was overwritten';
  if (now.refs !== snapshot.refs) return `refs changed: ${now.refs || '(none)'}`;
  if (now.top.join() !== snapshot.top.join())
    return `files appeared beside the repo: ${now.top.filter((f) => !snapshot.top.includes(f))}`;
  if (now.bareTop.join() !== snapshot.bareTop.join())
    return `files appeared in the bare repo: ${now.bareTop.filter((f) => !snapshot.bareTop.includes(f))}`;
  return null;
}

function sessionChange(before: Map<string, number>, after: Map<string, number>): string | null {
  const lost = [...before.keys()].filter((s) => !after.has(s));
  const extra = [...after.keys()].filter((s) => !before.has(s));
  const moved = [...before.keys()].filter((s) => after.has(s) && after.get(s) !== before.get(s));
  if (lost.length + extra.length + moved.length === 0) return null;
  const parts = [
    lost.length ? `deleted ${lost}` : '',
    extra.length ? `created ${extra}` : '',
    moved.length ? `restarted ${moved}` : '',
  ];
  return `sessions changed: ${parts.filter(Boolean).join(' ')}`;
}

/** Put everything back as it was at the converged head (used only after a case changed something). */
async function repair(): Promise<void> {
  writeFileSync(path.join(fleet.bare, 'config'), snapshot.config);
  for (const f of readdirSync(fleet.dir)) if (!snapshot.top.includes(f)) sh('rm', ['-rf', path.join(fleet.dir, f)]);
  for (const f of readdirSync(fleet.bare))
    if (!snapshot.bareTop.includes(f)) sh('rm', ['-rf', path.join(fleet.bare, f)]);
  for (const r of refs().split(',').filter(Boolean))
    if (!snapshot.refs.split(',').includes(r)) spawnSync('git', ['--git-dir', fleet.bare, 'update-ref', '-d', r]);
  killStraySockets();
  sh('git', ['--git-dir', fleet.bare, 'update-ref', 'refs/heads/main', head0]);
  const r = await fleet.gitfleet('apply');
  baseline = sessions();
  if ([...baseline.keys()].sort().join() !== '_holder,alpha,beta')
    throw new Error(`cannot repair the fleet after a failed case: ${r.stdout}${r.stderr}`);
}

/** tmux servers a case started on other sockets (e.g. "default"): all live under our private TMUX_TMPDIR. */
function killStraySockets(): void {
  const dir = path.join(tmuxDir, `tmux-${process.getuid!()}`);
  if (!existsSync(dir)) return;
  for (const s of readdirSync(dir)) if (s !== fleet.socket) tmux(s, 'kill-server');
}

/** All cases as commits on top of head0, in one fast-import; returns id -> commit. */
function writeCommits(
  all: { id: string; files: Record<string, Entry> }[],
  base: string,
  refPrefix: string,
): Map<string, string> {
  const chunks: Buffer[] = [];
  const data = (b: Buffer | string) => {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b);
    chunks.push(Buffer.from(`data ${buf.length}\n`), buf, Buffer.from('\n'));
  };
  all.forEach((k, i) => {
    chunks.push(
      Buffer.from(
        `commit refs/faults/${refPrefix}-${i}\nmark :${i + 1}\n` +
          'committer Operator <op@example.invalid> 1700000000 +0000\n',
      ),
    );
    data(`fault case: ${k.id}`);
    chunks.push(Buffer.from(`from ${base}\n`));
    for (const [file, e] of Object.entries(k.files)) {
      if (e === null) chunks.push(Buffer.from(`D ${file}\n`));
      else if (typeof e === 'object' && 'gitlink' in e) chunks.push(Buffer.from(`M 160000 ${e.gitlink} ${file}\n`));
      else if (typeof e === 'object' && 'symlink' in e) {
        chunks.push(Buffer.from(`M 120000 inline ${file}\n`));
        data(e.symlink);
      } else {
        chunks.push(Buffer.from(`M 100644 inline ${file}\n`));
        data(e);
      }
    }
  });
  const marks = path.join(fleet.dir, 'marks');
  const r = spawnSync('git', ['--git-dir', fleet.bare, 'fast-import', '--quiet', `--export-marks=${marks}`], {
    input: Buffer.concat(chunks),
  });
  if (r.status !== 0) throw new Error(`fast-import: ${r.stderr}`);
  const byMark = new Map(
    readFileSync(marks, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
  sh('rm', ['-f', marks]);
  return new Map(all.map((k, i) => [k.id, byMark.get(`:${i + 1}`)!]));
}

/** What is wrong with validate's answer for a malformed case, or null. */
function judgeValidate(k: Case, v: { code: number | null; stdout: string; stderr: string }): string | null {
  const crash = crashIn(v.stdout, v.stderr);
  if (crash) return `validate crashed: ${crash}`;
  const lines = positionedLines(v.stdout + v.stderr);
  if (v.code !== 1) return `validate exit ${v.code}: ${(v.stdout + v.stderr).trim().split('\n').slice(-2).join(' | ')}`;
  if (lines.length === 0) return `validate gave no file:line:col: error: ${(v.stdout + v.stderr).trim().slice(0, 200)}`;
  for (const f of k.expect ?? [])
    if (!lines.some((l) => l.startsWith(`${f}:`))) return `no error names ${f}: ${lines[0]}`;
  return null;
}

/** What apply did that it must not have, or null. */
function judgeApply(
  a: { code: number | null; stdout: string; stderr: string },
  before: Map<string, number>,
): string | null {
  const crash = crashIn(a.stdout, a.stderr);
  if (crash) return `apply crashed: ${crash}`;
  if (a.code !== 0 && a.code !== 1 && a.code !== 3) return `apply exit ${a.code}`;
  if (a.stdout.trim().startsWith('{')) {
    let results: { kind: string; target: string }[];
    try {
      results = (JSON.parse(a.stdout) as { results: typeof results }).results;
    } catch {
      return `apply --json printed something that is not JSON: ${a.stdout.slice(0, 120)}`;
    }
    if (results.length > 0) return `apply acted: ${results.map((r) => `${r.kind} ${r.target}`).join(', ')}`;
  }
  return sessionChange(before, sessions()) ?? damage();
}

beforeAll(async () => {
  tmuxDir = isolateTmux();
  fleet = new TestFleet('faults');
  // Our own cwd: anything resolved against gitfleet's cwd lands here, not in the project.
  cwd = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-faults-cwd-'));
  projectDir = process.cwd();
  process.chdir(cwd);
  const wd = path.join(fleet.dir, 'wd');
  mkdirSync(wd);
  ctx = {
    socket: fleet.socket,
    wd,
    user: os.userInfo().username,
    host: fleet.host,
    canary: path.join(fleet.dir, 'canary'),
  };
  fleet.commit({ [FLEET]: yamlText(baseFleet(ctx)), [ROSTER]: yamlText(baseRoster(ctx)) });
  const first = await fleet.gitfleet('apply');
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect((await fleet.gitfleet('apply')).code).toBe(0);
  head0 = fleet.headOf('main')!;
  baseline = sessions();
  expect([...baseline.keys()].sort()).toEqual(['_holder', 'alpha', 'beta']);
  cases = malformedCorpus(ctx, SEED);
  const t0 = Date.now();
  oids = writeCommits(cases, head0, 'case');
  timings['fast-import ms'] = Date.now() - t0;
  snapshot = takeSnapshot();
}, 120_000);

afterAll(() => {
  const { run, passed } = tally
    .list()
    .reduce((s, r) => ({ run: s.run + r.run, passed: s.passed + r.passed }), { run: 0, passed: 0 });
  reportFigures('malformed inputs', tally.list(), {
    'malformed inputs': cases?.length ?? 0,
    'cases run': run,
    passed,
    'in-process applies': applied,
    ...timings,
  });
  fleet?.cleanup();
  if (projectDir) process.chdir(projectDir);
  sh('rm', ['-rf', tmuxDir, cwd]);
});

/**
 * Apply runs on every hand-written case and on a seeded quarter of the
 * schema-generated ones: those all fail in one ajv call with one wording, so a
 * sample shows what apply does with them; the hand-written ones each take
 * their own path (fallbacks, cross-file rules, folders, refs, the YAML parser).
 */
const sampler = prng(SEED ^ 0xa991);
const withApply = (k: Case) => !k.schema || sampler.next() < 0.25;
let applied = 0;

/** FAULTS_TRACE=file: one line per case with its milliseconds and verdict (to find a slow or hanging case). */
const trace = (line: string) => process.env.FAULTS_TRACE && appendFileSync(process.env.FAULTS_TRACE, `${line}\n`);

async function runCase(k: Case): Promise<string | null> {
  const t0 = Date.now();
  trace(`start ${k.id}`);
  sh('git', ['--git-dir', fleet.bare, 'update-ref', 'refs/heads/main', oids.get(k.id)!]);
  const before = baseline;
  const v = await fleet.gitfleet('validate');
  const t1 = Date.now();
  const a = withApply(k) ? await fleet.gitfleet('apply', '--json') : null;
  const t2 = Date.now();
  const why = judgeValidate(k, v) ?? (a && judgeApply(a, before));
  applied += a ? 1 : 0;
  if (sessionChange(before, sessions()) || damage()) await repair();
  else killStraySockets();
  trace(`${t1 - t0} ${t2 - t1} ${Date.now() - t2} ${k.id}: ${why ?? 'ok'}`);
  return why;
}

describe('malformed desired state: refused with a position, nothing applied, nothing pruned', () => {
  it('the corpus has at least 500 inputs, each one a distinct commit', () => {
    expect(cases.length).toBeGreaterThanOrEqual(500);
    expect(new Set(oids.values()).size).toBe(cases.length);
  });

  // One test per category, so the report names every failing category at once.
  const categories = [
    'roster: wrong type',
    'roster: not allowed value',
    'roster: constraint',
    'roster: bad name',
    'roster: unknown key',
    'roster: bad key',
    'roster: missing required key',
    'roster: reserved socket',
    'roster: working directory',
    'roster: NUL',
    'roster: reserved key',
    'roster: command line',
    'roster: reference',
    'roster: collision',
    'roster: raw text',
    'fleet: wrong type',
    'fleet: not allowed value',
    'fleet: constraint',
    'fleet: bad name',
    'fleet: unknown key',
    'fleet: status.branch',
    'fleet: branch',
    'fleet: git author',
    'fleet: reference',
    'fleet: raw text',
    'cross-file',
    'layout',
  ];
  for (const category of categories) {
    it(category, async () => {
      const mine = cases.filter((k) => k.category === category);
      expect(mine.length).toBeGreaterThan(0);
      const t0 = Date.now();
      for (const k of mine) tally.record(category, k.id, await runCase(k));
      timings[`${category} ms`] = Date.now() - t0;
      expect(tally.failed(category)).toEqual([]);
    });
  }

  it('every category above is listed (none generated but never run)', () => {
    expect([...new Set(cases.map((k) => k.category))].filter((c) => !categories.includes(c))).toEqual([]);
  });

  // The CLI takes ~1 s to start, so: validate for the heavy inputs and a sample, apply for a sample.
  it('the parser-heavy inputs and a seeded sample, through the real CLI process', async () => {
    const rnd = prng(SEED);
    const light = cases.filter((k) => !k.heavy);
    const validateThese = new Set([
      ...cases.filter((k) => k.heavy),
      ...Array.from({ length: CLI_SAMPLE }, () => rnd.pick(light)),
    ]);
    const applyThese = new Set(Array.from({ length: CLI_SAMPLE }, () => rnd.pick(cases)));
    const t0 = Date.now();
    for (const k of new Set([...validateThese, ...applyThese])) {
      sh('git', ['--git-dir', fleet.bare, 'update-ref', 'refs/heads/main', oids.get(k.id)!]);
      const before = baseline;
      const v = validateThese.has(k) ? await runCli(['validate', ...globalArgs()], process.env, cwd) : null;
      const a = applyThese.has(k) ? await runCli(['apply', '--json', ...globalArgs()], process.env, cwd) : null;
      const why =
        (v && (v.signal ? `validate killed by ${v.signal}` : judgeValidate(k, v))) ??
        (a && (a.signal ? `apply killed by ${a.signal}` : judgeApply(a, before)));
      if (sessionChange(before, sessions()) || damage()) await repair();
      tally.record('real CLI process', `${v ? 'validate' : ''}${v && a ? '+' : ''}${a ? 'apply' : ''} ${k.id}`, why);
    }
    timings['real CLI process ms'] = Date.now() - t0;
    expect(tally.failed('real CLI process')).toEqual([]);
  });

  it('tmux format and shell injection in every string field of a new agent never runs', async () => {
    const probes = injectionProbes(ctx);
    const commits = writeCommits(probes, head0, 'probe');
    const t0 = Date.now();
    for (const p of probes) {
      sh('git', ['--git-dir', fleet.bare, 'update-ref', 'refs/heads/main', commits.get(p.id)!]);
      const before = baseline;
      const v = await fleet.gitfleet('validate');
      const a = await fleet.gitfleet('apply');
      const crash = crashIn(v.stdout, v.stderr, a.stdout, a.stderr);
      const refused = v.code === 1 && positionedLines(v.stdout).length > 0;
      // The probe agent itself may come and go; the others must not move.
      const after = new Map([...sessions()].filter(([s]) => s !== 'probe'));
      await new Promise((r) => setTimeout(r, 300)); // #() jobs run in the background of the server
      const why = crash
        ? `crashed: ${crash}`
        : existsSync(p.canary)
          ? `the injected command ran (${p.canary} exists)`
          : !refused && v.code !== 0
            ? `validate exit ${v.code} without a positioned error`
            : (sessionChange(before, after) ?? damage());
      tally.record('injection probes', p.id, why);
      await repair(); // main back to the converged head: the probe agent is pruned
    }
    timings['injection probes ms'] = Date.now() - t0;
    expect(tally.failed('injection probes')).toEqual([]);
  });
});
