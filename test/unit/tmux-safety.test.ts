// The pure parts of what reaches tmux and what comes back from it: argument
// escaping (a final ';', format-expanded flags), the list-panes parser that
// refuses what real tmux never prints, and log rotation and tail reading.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLogTail } from '../../src/agent/logs.js';
import { rotateLog, rotateLogs } from '../../src/apply/log-rotate.js';
import { createAgentCommands, createHolderCommands, PANE_WRAPPER } from '../../src/apply/tmux.js';
import { LIST_FORMAT, parseListPanes, parsePanes } from '../../src/observe/tmux.js';
import { agentLogPath } from '../../src/paths.js';
import { argWord, formatLiteral, tmuxArgv } from '../../src/tmux/client.js';
import { desired, desiredFrom, SOCKET, spec } from './builders.js';

describe('tmux arguments', () => {
  it('escapes a final ; (tmux would end the command there) and nothing else', () => {
    expect(argWord('x;')).toBe('x\\;');
    expect(argWord(';')).toBe('\\;');
    expect(argWord('a\\;')).toBe('a\\\\;'); // tmux reads it back as a\;
    expect(argWord('a;b')).toBe('a;b');
    expect(argWord('#(x) $(y) ~ "q"')).toBe('#(x) $(y) ~ "q"');
    const argv = tmuxArgv('s', [
      ['new-session', '--', 'cat', 'x;', 'run-shell', 'touch c'],
      ['set-option', '@o', 'v;'],
    ]);
    expect(argv).toEqual([
      ...['tmux', '-u', '-L', 's'],
      ...['new-session', '--', 'cat', 'x\\;', 'run-shell', 'touch c'],
      ';',
      ...['set-option', '@o', 'v\\;'],
    ]);
  });

  it('doubles # only in the flags tmux format-expands (new-session -s, -c)', () => {
    expect(formatLiteral('/srv/#(touch c)/#{session_name}/##')).toBe('/srv/##(touch c)/##{session_name}/####');
    const d = desired([
      {
        name: 'a',
        working_directory: '/srv/#(touch c) $(x) %Y',
        env: { V: '#(touch c)#{pane_id}' },
        command: ['run', '#(touch c)', '#{x}'],
      },
    ]);
    const [create] = createAgentCommands(spec(d, 'a'), { fleet: 'f', path: '/bin', stateDir: '/state' });
    const flag = (f: string) => create![create!.indexOf(f) + 1];
    expect(flag('-s')).toBe('a');
    expect(flag('-c')).toBe('/srv/##(touch c) $(x) %Y');
    expect(create).toContain('V=#(touch c)#{pane_id}');
    const exitFile = '/state/run/f/mosaic-factory/a.exit';
    const pane = create!.slice(create!.indexOf('--') + 1);
    expect(pane).toEqual(['sh', '-c', PANE_WRAPPER, 'gitfleet:a', exitFile, 'run', '#(touch c)', '#{x}']);
    expect(createHolderCommands('_holder', 'f')[0]!.slice(0, 4)).toEqual(['new-session', '-d', '-s', '_holder']);
  });
});

describe('pane environment', () => {
  it('tells a heartbeat runtime its declared interval, so it beats at the pace it is judged by (#10)', () => {
    const d = desiredFrom({
      'rosters/agents.yaml': [
        'version: 1',
        `tmux: {socket_name: ${SOCKET}}`,
        'runtimes:',
        '  beats: {command: stub, heartbeat: 5}',
        '  quiet: {command: stub}',
        'agents:',
        '  - {name: b, runtime: beats}',
        '  - {name: q, runtime: quiet}',
      ].join('\n'),
    });
    const env = (name: string) => {
      const [create] = createAgentCommands(spec(d, name), { fleet: 'f', path: '/bin', stateDir: '/state' });
      return create!.flatMap((w, i) => (create![i - 1] === '-e' ? [w] : []));
    };
    expect(env('b')).toContain('GITFLEET_HEARTBEAT_INTERVAL=5');
    expect(env('b').some((e) => e.startsWith('GITFLEET_HEARTBEAT_FILE=/state/'))).toBe(true);
    expect(env('q').some((e) => e.startsWith('GITFLEET_HEARTBEAT_INTERVAL='))).toBe(false);
  });
});

describe('list-panes output', () => {
  const SEP = '\u001f';
  // Format variables by name; anything else (the end-of-line marker) is printed as written.
  const fields = LIST_FORMAT.split(SEP).map((f) => (f.startsWith('#{') ? f.slice(2, -1) : { literal: f }));
  /** One line as tmux prints it; `o` overrides fields by name. */
  function line(session: string, o: Record<string, string> = {}): string {
    const v: Record<string, string> = {
      session_name: session,
      window_index: '0',
      pane_index: '0',
      pane_id: '%1',
      pane_pid: '100',
      pane_dead: '0',
      pane_dead_status: '',
      pane_dead_time: '',
      pane_current_command: 'cat',
      window_activity: '1700000000',
      pane_width: '80',
      pane_height: '24',
      pid: '42',
      version: '3.3a',
      ...o,
    };
    return fields.map((f) => (typeof f === 'string' ? (v[f] ?? '') : f.literal)).join(SEP);
  }
  const good = `${line('a')}\n${line('b', { pane_id: '%2', pane_dead: '1', pane_dead_status: '3' })}\n`;

  it('reads what tmux prints', () => {
    const l = parseListPanes(good);
    expect(l.serverPid).toBe(42);
    expect(l.version).toBe('3.3a');
    expect([...l.sessions.keys()]).toEqual(['a', 'b']);
    expect(l.sessions.get('b')).toMatchObject({ dead: true, deadStatus: 3, paneId: '%2' });
  });

  it('reads the tenant tag, and no tag as null (a session from before tenants were tagged)', () => {
    const l = parseListPanes(`${line('a', { '@gitfleet-tenant': 'bob' })}\n${line('b', { pane_id: '%2' })}\n`);
    expect(l.sessions.get('a')?.tenant).toBe('bob');
    expect(l.sessions.get('b')?.tenant).toBeNull();
  });

  it.each([
    ['garbage', 'garbage\n', /line 1: 1 fields/],
    ['no output', '', /no output/],
    ['output cut short', good.slice(0, -5), /cut short/],
    ['a line with a field missing', `${line('a')}\n${line('b').split(SEP).slice(1).join(SEP)}\n`, /line 2: \d+ fields/],
    ['a non-numeric pid', `${line('a', { pane_pid: 'x' })}\n`, /pane_pid is not a number/],
    ['a non-numeric window index', `${line('a', { window_index: '' })}\n`, /window_index is not a number/],
    ['a pane id not like %N', `${line('a', { pane_id: '1' })}\n`, /pane_id is not %N/],
    ['a dead flag not 0 or 1', `${line('a', { pane_dead: 'yes' })}\n`, /pane_dead is not 0 or 1/],
    ['a non-numeric exit status', `${line('a', { pane_dead_status: '-' })}\n`, /pane_dead_status is not a number/],
    ['an empty line in the middle', `${line('a')}\n\n${line('b')}\n`, /line 2: 1 fields/],
    [
      'every line cut by its last 12 characters',
      `${line('a').slice(0, -12)}\n`,
      /line 1: .*(fields|does not end as it should)/,
    ],
  ])('refuses %s (never "no sessions")', (_what, out, error) => {
    expect(() => parseListPanes(out)).toThrow(error);
    expect(() => parsePanes(out)).toThrow(error);
  });
});

describe('pane logs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lines = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `line ${from + i}\r\n`).join('');

  it('leaves a log under the cap alone, and moves the last cap bytes of one over it aside', async () => {
    const log = path.join(dir, 'a.log');
    writeFileSync(log, lines(0, 10));
    expect(await rotateLog(log, 1000)).toBe(false);
    expect(await rotateLog(path.join(dir, 'none.log'), 10)).toBe(false);
    writeFileSync(log, lines(0, 1000));
    expect(await rotateLog(log, 1000)).toBe(true);
    const aside = readFileSync(`${log}.1`, 'utf8');
    expect(aside.length).toBeLessThanOrEqual(1000);
    expect(aside.endsWith('line 999\r\n')).toBe(true);
    expect(aside).toMatch(/^line \d+\r\n/);
    expect(statSync(log).size).toBe(0);
    expect(statSync(`${log}.1`).mode & 0o777).toBe(0o600);
  });

  it("rotateLogs goes through the fleet's agents and reports each rotated log", async () => {
    const ref = (session: string) => ({ fleet: 'f', socket: 's', session });
    const big = agentLogPath(dir, ref('big'));
    const small = agentLogPath(dir, ref('small'));
    mkdirSync(path.dirname(big), { recursive: true });
    writeFileSync(big, lines(0, 500));
    writeFileSync(small, lines(0, 5));
    const agents = ['big', 'small', 'gone'].map((session) => ({ socket: 's', session }));
    const r = await rotateLogs(dir, 'f', agents, 2000);
    expect(r).toEqual({ rotated: [big], errors: [] });
    expect(readFileSync(small, 'utf8')).toBe(lines(0, 5));
  });

  it('agent logs reads the end of <log>.1 before <log> when -n needs more, joining a line cut in two', async () => {
    const log = path.join(dir, 'a.log');
    writeFileSync(`${log}.1`, `${lines(0, 50)}line 5`);
    writeFileSync(log, `0\r\n${lines(51, 55)}`);
    expect((await readLogTail(log, 3)).lines).toEqual(['line 52', 'line 53', 'line 54']);
    const t = await readLogTail(log, 8);
    expect(t).toMatchObject({ exists: true, lines: [47, 48, 49, 50, 51, 52, 53, 54].map((n) => `line ${n}`) });
    expect((await readLogTail(log, 1000)).lines).toHaveLength(55);
    // Only the rotated file (the log was just truncated and nothing was written since).
    writeFileSync(log, '');
    expect((await readLogTail(log, 2)).lines).toEqual(['line 49', 'line 5']);
    rmSync(log);
    expect((await readLogTail(log, 2)).lines).toEqual(['line 49', 'line 5']);
    rmSync(`${log}.1`);
    expect(await readLogTail(log, 2)).toEqual({ path: log, exists: false, lines: [] });
  });
});
