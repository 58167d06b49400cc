// Fault suite, part 4: tmux failing in every way (issue #8).
//
// A fake `tmux` first on PATH (a shell script) passes every call to the real
// tmux except the one it breaks: it exits 1 with odd stderr, prints garbage
// or a cut-off listing, hangs, dies by a signal, or lies that no server runs.
// Each case runs the real CLI (`node dist/cli.js apply --json`) against a
// fleet converged without the fake, sometimes after a change that makes apply
// call the broken command (a session to create, one to delete, a dead pane).
// Must hold: no session of a desired agent deleted or restarted (0 prunes),
// apply exits 1 or 3 with no stack trace, and no session that exists is
// "created" again because a broken listing was read as an empty server.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolateTmux, roster, sh, TestFleet, waitFor } from '../helpers/fleet.js';
import { crashIn, prng, reportFigures, runCli, Tally } from './lib.js';

const SEED = 0x5eed000b;

let tmuxDir: string;
let cwd: string;
let fleet: TestFleet;
let realTmux: string;
let head0: string;
let removedBeta: string;
const tally = new Tally();
const figures: Record<string, number | string> = {};

const AGENTS =
  '  - name: alpha\n    runtime: stub\n  - name: beta\n    runtime: stub\n  - name: gamma\n    runtime: stub\n';
const args = () => ['--repo', fleet.bare, '--state-dir', fleet.stateDir, '--host', fleet.host];
const pids = () => new Map([...fleet.panes()].map(([s, p]) => [s, p.pid]));

/** A fake tmux that runs `body` for subcommand `sub` and is the real tmux otherwise. */
function fakeTmux(name: string, sub: string, body: string): string {
  const dir = path.join(fleet.dir, 'fake', name);
  mkdirSync(dir, { recursive: true });
  const script = `#!/bin/sh
# Fake tmux for the fault suite: the subcommand is the first word that is not a global option.
REAL=${realTmux}
sub=""; skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in
    -L|-S|-f|-c|-T) skip=1 ;;
    -*) ;;
    *) sub="$a"; break ;;
  esac
done
if [ "$sub" = start-server ] || [ "$sub" = source-file ]; then
  # apply's batches (apply/tmux.ts) come as a command file on stdin: the subcommand is its first line's first word.
  input=$(cat; echo x)
  input=\${input%x}
  sub=$(printf '%s' "$input" | head -n 1 | cut -d ' ' -f 1)
fi
if [ "$sub" = "${sub}" ] || [ "${sub}" = "-V" -a "$1" = "-V" ]; then
${body}
fi
if [ -n "\${input+set}" ]; then printf '%s' "$input" | "$REAL" "$@"; exit $?; fi
exec "$REAL" "$@"
`;
  writeFileSync(path.join(dir, 'tmux'), script);
  chmodSync(path.join(dir, 'tmux'), 0o755);
  return dir;
}

interface Scenario {
  /** What to set up before the broken apply: nothing, a session to create, one to delete, a dead pane. */
  setup: 'converged' | 'missing alpha' | 'beta removed' | 'dead alpha';
}

interface TmuxCase extends Scenario {
  id: string;
  sub: string;
  body: string;
  /** Exit codes allowed (default 1 or 3). */
  codes?: number[];
  /**
   * An answer a real tmux could give (one session listed, "no server"): gitfleet
   * cannot tell it is false, so trying to create listed-as-missing sessions is
   * right (they fail as duplicates); deleting or restarting any still is not.
   */
  believable?: boolean;
}

function cases(): TmuxCase[] {
  const rnd = prng(SEED);
  // Octal escapes for printf %b: any byte but NUL, and no quote can end the shell string early.
  const garbage = (n: number) =>
    Array.from({ length: n }, () => `\\0${rnd.int(1, 255).toString(8).padStart(3, '0')}`).join('');
  const lp = (id: string, body: string, extra: Partial<TmuxCase> = {}): TmuxCase => ({
    id: `list-panes: ${id}`,
    sub: 'list-panes',
    body,
    setup: 'converged',
    ...extra,
  });
  const list: TmuxCase[] = [
    lp('exit 1, "lost server"', '  echo "lost server" >&2; exit 1'),
    lp(
      'exit 1, permission denied on the socket',
      '  echo "error connecting to /tmp/tmux-0/x (Permission denied)" >&2; exit 1',
    ),
    lp('exit 1, protocol version mismatch', '  echo "protocol version mismatch (client 8, server 7)" >&2; exit 1'),
    lp('exit 1, nothing said', '  exit 1'),
    lp('exit 1, binary stderr', `  printf '%b' '${garbage(64)}' >&2; exit 1`),
    lp(
      'exit 2 with a usage message',
      '  echo "usage: list-panes [-as] [-F format] [-f filter] [-t target]" >&2; exit 2',
    ),
    lp('exit 0, random garbage', `  printf '%b' '${garbage(400)}'; exit 0`),
    lp('exit 0, printable garbage lines', '  printf "hello\\nworld\\n\\n"; exit 0'),
    lp('exit 0, empty output', '  exit 0'),
    lp('exit 0, one empty line', '  echo; exit 0'),
    lp('exit 0, listing cut after 40 bytes', '  "$REAL" "$@" | head -c 40; exit 0'),
    lp('exit 0, only the first line', '  "$REAL" "$@" | head -n 1; exit 0', { believable: true }),
    lp('exit 0, every line cut short', '  "$REAL" "$@" | sed "s/.\\{12\\}$//"; exit 0'),
    lp('exit 0, separators replaced', `  "$REAL" "$@" | tr '\\037' '|'; exit 0`),
    // Two lines for one session is what a split window gives: valid data, so exit 0 is right too.
    lp('exit 0, every line twice', '  "$REAL" "$@" | sed p; exit 0', { codes: [0, 1, 3] }),
    lp('exit 0, CRLF line ends', `  "$REAL" "$@" | sed 's/$/\\r/'; exit 0`),
    lp('exit 0, listing then garbage', `  "$REAL" "$@"; printf '%b\\n' '${garbage(80)}'; exit 0`),
    lp('exit 0, listing on stderr only', '  "$REAL" "$@" >&2; exit 0'),
    lp('exit 1 after a full listing', '  "$REAL" "$@"; exit 1'),
    lp('"no server running" while one runs', '  echo "no server running on /tmp/tmux-0/default" >&2; exit 1', {
      believable: true,
    }),
    lp('"no current target" while sessions run', '  echo "no current target" >&2; exit 1', { believable: true }),
    lp('killed by SIGKILL', '  kill -9 $$'),
    lp('killed by SIGSEGV', '  kill -SEGV $$'),
    lp('hangs (gitfleet must time out)', '  exec sleep 120'),
    {
      id: 'new-session: exit 1, fork failed',
      sub: 'new-session',
      body: '  echo "create window failed: fork failed: Resource temporarily unavailable" >&2; exit 1',
      setup: 'missing alpha',
    },
    { id: 'new-session: killed by SIGKILL', sub: 'new-session', body: '  kill -9 $$', setup: 'missing alpha' },
    { id: 'new-session: hangs', sub: 'new-session', body: '  exec sleep 120', setup: 'missing alpha' },
    {
      id: 'kill-session: exit 1, odd stderr',
      sub: 'kill-session',
      body: `  printf 'server exited unexpectedly\\n%b' '${garbage(20)}' >&2; exit 1`,
      setup: 'beta removed',
    },
    { id: 'kill-session: killed by SIGKILL', sub: 'kill-session', body: '  kill -9 $$', setup: 'beta removed' },
    {
      id: 'respawn-pane: exit 1',
      sub: 'respawn-pane',
      body: '  echo "respawn pane failed: pane %1 still active" >&2; exit 1',
      setup: 'dead alpha',
    },
    {
      id: '-V: garbage version',
      sub: '-V',
      body: `  printf 'tmux %b\\n' '${garbage(12)}'; exit 0`,
      setup: 'converged',
      codes: [0, 1, 3],
    },
  ];
  return list;
}

beforeAll(async () => {
  tmuxDir = isolateTmux();
  cwd = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-faults-cwd-'));
  realTmux = sh('sh', ['-c', 'command -v tmux']).trim();
  fleet = new TestFleet('tmuxfail');
  head0 = fleet.commit({
    'fleet.yaml': 'fleet: tmuxfail\nsupervisor: tmux\n',
    'rosters/team.yaml': roster(fleet.socket, AGENTS),
  });
  const r = await runCli(['apply', ...args()], process.env, cwd);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  removedBeta = fleet.commit({
    'rosters/team.yaml': roster(fleet.socket, AGENTS.replace('  - name: beta\n    runtime: stub\n', '')),
  });
  sh('git', ['--git-dir', fleet.bare, 'update-ref', 'refs/heads/main', head0]);
});

afterAll(() => {
  reportFigures('tmux failing', tally.list(), figures);
  fleet?.cleanup();
  sh('rm', ['-rf', tmuxDir, cwd]);
});

let converged: { head: string; pids: string } | null = null;

/** Back to the converged fleet with the real tmux (an apply only when the last case left anything changed). */
async function reconverge(): Promise<void> {
  const now = () => JSON.stringify([...pids()].sort());
  if (converged && fleet.headOf('main') === converged.head && now() === converged.pids) return;
  sh('git', ['--git-dir', fleet.bare, 'update-ref', 'refs/heads/main', head0]);
  const r = await runCli(['apply', ...args()], process.env, cwd);
  if (r.code !== 0 || [...pids().keys()].sort().join() !== '_holder,alpha,beta,gamma')
    throw new Error(`cannot reconverge: ${r.stdout}${r.stderr}`);
  converged = { head: fleet.headOf('main')!, pids: now() };
}

async function runCase(k: TmuxCase): Promise<string | null> {
  await reconverge();
  if (k.setup === 'missing alpha') fleet.tmux('kill-session', '-t', '=alpha');
  if (k.setup === 'beta removed') sh('git', ['--git-dir', fleet.bare, 'update-ref', 'refs/heads/main', removedBeta]);
  if (k.setup === 'dead alpha') {
    process.kill(fleet.panes().get('alpha')!.pid, 'SIGKILL');
    await waitFor(() => fleet.panes().get('alpha')?.dead === true);
  }
  const before = pids();
  const dir = fakeTmux(k.id.replace(/[^A-Za-z0-9]+/g, '-'), k.sub, k.body);
  const r = await runCli(['apply', '--json', ...args()], { ...process.env, PATH: `${dir}:${process.env.PATH}` }, cwd);
  const after = pids();
  // Sessions apply may rightly touch in this scenario: the one it must create, delete or respawn.
  const target =
    k.setup === 'missing alpha' || k.setup === 'dead alpha' ? 'alpha' : k.setup === 'beta removed' ? 'beta' : null;
  const deleted = [...before.keys()].filter((s) => s !== target && !after.has(s));
  const restarted = [...before.keys()].filter((s) => s !== target && after.has(s) && after.get(s) !== before.get(s));
  const crash = crashIn(r.stdout, r.stderr);
  if (r.signal) return `apply killed by ${r.signal}`;
  if (crash) return `crashed: ${crash}`;
  if (deleted.length) return `PRUNED ${deleted}`;
  if (restarted.length) return `restarted ${restarted}`;
  if (!(k.codes ?? [1, 3]).includes(r.code!))
    return `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ').slice(0, 200)}`;
  if (!k.believable && r.stdout.trim().startsWith('{')) {
    const results = (JSON.parse(r.stdout) as { results: { kind: string; target: string }[] }).results;
    const again = results.filter((x) => x.kind === 'create_session' && before.has(x.target.split('/').pop()!));
    if (again.length)
      return `read the broken listing as an empty server: tried ${again.map((x) => `${x.kind} ${x.target}`)}`;
  }
  return null;
}

describe('tmux failing in every way: no prune, no crash', () => {
  for (const k of cases()) {
    it(k.id, async () => {
      const t0 = Date.now();
      const why = await runCase(k);
      figures[`${k.id} ms`] = Date.now() - t0;
      tally.record(k.id.split(':')[0]!, k.id, why);
      expect(why).toBeNull();
    });
  }

  it('tmux missing from PATH or not executable: exit 1 or 3, a message naming tmux, no prune', async () => {
    await reconverge();
    const before = pids();
    const noexec = path.join(fleet.dir, 'fake', 'noexec');
    mkdirSync(noexec, { recursive: true });
    writeFileSync(path.join(noexec, 'tmux'), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(noexec, 'tmux'), 0o644);
    for (const [id, PATH] of [
      ['tmux not on PATH', path.join(fleet.dir, 'empty-path')],
      ['tmux not executable', noexec],
    ] as const) {
      const r = await runCli(['apply', ...args()], { ...process.env, PATH }, cwd);
      const crash = crashIn(r.stdout, r.stderr);
      const said = r.stderr + r.stdout;
      const why = crash
        ? `crashed: ${crash}`
        : r.code !== 1 && r.code !== 3
          ? `exit ${r.code}`
          : !/tmux/.test(said)
            ? `no word of tmux: ${said.trim().slice(0, 200)}`
            : null;
      const moved = [...before].filter(([s, p]) => pids().get(s) !== p);
      tally.record('missing tmux', id, why ?? (moved.length ? `sessions changed: ${moved.map(([s]) => s)}` : null));
    }
    expect(tally.failed('missing tmux')).toEqual([]);
  });
});
