// The fleet's systemd --user units (src/systemd/fleet-units.ts): unit names,
// and the unit, drop-in and spec files gitfleet writes. Pure: the generated
// text is read back with a small ExecStart= word splitter, the way systemd
// reads it, so quoting is checked by what systemd would run, not by looks.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { specPath } from '../../src/paths.js';
import {
  agentDropInFile,
  agentInstance,
  agentSpecFile,
  agentTemplate,
  agentTemplateFile,
  agentUnit,
  classifyUnit,
  dropInPath,
  fleetFiles,
  holderTemplate,
  holderTemplateFile,
  holderUnit,
  parseAgentInstance,
  tmuxHasForeground,
  unitFleet,
  type AgentSpecFile,
  type FleetUnitContext,
  type GeneratedFile,
} from '../../src/systemd/fleet-units.js';
import { desired, FLEET, spec, STATE_DIR, UNIT_CTX, UNIT_DIR } from './builders.js';
import { joinedRegExp } from '../helpers/regexp.js';

// ---- helpers ------------------------------------------------------------------

/**
 * An Exec*= value as systemd splits it: words apart at spaces, double quotes
 * and backslash escapes undone, then `%%` → `%` (specifiers; `%i` is kept to
 * see where the instance goes) and `$$` → `$` (variables).
 */
function execWords(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === ' ') {
      i++;
      continue;
    }
    let w = '';
    if (value[i] === '"') {
      for (i++; value[i] !== '"'; i++) {
        if (i >= value.length) throw new Error(`unclosed quote in ${value}`);
        if (value[i] === '\\') i++;
        w += value[i];
      }
      i++;
      if (i < value.length && value[i] !== ' ') throw new Error(`no space after a closing quote in ${value}`);
    } else {
      while (i < value.length && value[i] !== ' ') w += value[i++];
    }
    words.push(w.replace(/%%|\$\$/g, (m) => m[0]!));
  }
  return words;
}

/** The value of the one `key=` line of a unit file. */
function setting(content: string, key: string): string {
  const found = content.split('\n').filter((l) => l.startsWith(`${key}=`));
  expect(found, `one ${key}= line`).toHaveLength(1);
  return found[0]!.slice(key.length + 1);
}

/** The values of every `key=` line. */
const settings = (content: string, key: string): string[] =>
  content
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

/** A `$` that systemd would expand: not part of a `$$` pair. */
const hasBareDollar = (line: string): boolean => /\$/.test(line.replace(/\$\$/g, ''));

const d = desired(['a.b', { name: 'w', env: { MODE: 'x' } }], { socket: 'my.sock-1' });
const ab = spec(d, 'a.b');
const w = spec(d, 'w');

// ---- names ------------------------------------------------------------------------

describe('unit names', () => {
  it('holder and agent units of a fleet, and their templates', () => {
    expect(holderTemplate(FLEET)).toBe('gitfleet-lab-tmux@.service');
    expect(agentTemplate(FLEET)).toBe('gitfleet-lab-agent@.service');
    expect(holderUnit(FLEET, 'my.sock-1')).toBe('gitfleet-lab-tmux@my.sock-1.service');
    expect(ab.session).toBe('a_b'); // a session never holds a '.'
    expect(agentInstance(ab)).toBe('a_b.my.sock-1');
    expect(agentUnit(FLEET, ab)).toBe('gitfleet-lab-agent@a_b.my.sock-1.service');
    expect(dropInPath(UNIT_CTX, ab)).toBe(`${UNIT_DIR}/gitfleet-lab-agent@a_b.my.sock-1.service.d/gitfleet.conf`);
  });

  it('an agent instance splits back into session and socket, even when the socket has dots and dashes', () => {
    for (const a of [
      { session: 'a_b', socket: 'my.sock-1' },
      { session: 'x', socket: 's' },
      { session: 'long-name_2', socket: 'a.b.c.d' },
      { session: '-', socket: '.' },
    ]) {
      expect(parseAgentInstance(agentInstance(a))).toEqual(a);
    }
  });

  it('a string that is not <session>.<socket> is no agent instance', () => {
    expect(parseAgentInstance('nodot')).toBeNull();
    expect(parseAgentInstance('.sock')).toBeNull();
    expect(parseAgentInstance('sess.')).toBeNull();
    expect(parseAgentInstance('')).toBeNull();
  });

  it("classifyUnit recognises this fleet's holder and agent units", () => {
    expect(classifyUnit(FLEET, holderUnit(FLEET, 'my.sock-1'))).toEqual({ role: 'holder', socket: 'my.sock-1' });
    expect(classifyUnit(FLEET, agentUnit(FLEET, ab))).toEqual({ role: 'agent', session: 'a_b', socket: 'my.sock-1' });
    const odd = 'fleet one';
    expect(classifyUnit(odd, holderUnit(odd, 's'))).toEqual({ role: 'holder', socket: 's' });
    expect(classifyUnit(odd, agentUnit(odd, { session: 'x', socket: 's.t' }))).toEqual({
      role: 'agent',
      session: 'x',
      socket: 's.t',
    });
  });

  it('classifyUnit claims no template, other unit type, malformed instance or foreign unit', () => {
    for (const u of [
      holderTemplate(FLEET),
      agentTemplate(FLEET),
      'gitfleet-lab-tmux@s.timer',
      'gitfleet-lab-agent@nodot.service',
      'gitfleet-lab-other@s.service',
      'gitfleet-lab.service',
      'tmux@s.service',
      'gitfleet-labx-tmux@s.service',
      'gitfleet-xlab-tmux@s.service',
      // the sanitised name without its hash is another fleet's
      'gitfleet-fleet-one-tmux@s.service',
    ]) {
      expect(classifyUnit(FLEET, u), u).toBeNull();
    }
    expect(classifyUnit('fleet one', 'gitfleet-fleet-one-tmux@s.service')).toBeNull();
  });

  it('a fleet never claims the units of a fleet whose name it prefixes, nor the other way round', () => {
    // fleet a-b's agent x on socket s; fleet a's holder on socket s
    expect(classifyUnit('a', 'gitfleet-a-b-agent@x.s.service')).toBeNull();
    expect(classifyUnit('a-b', 'gitfleet-a-b-agent@x.s.service')).toEqual({ role: 'agent', session: 'x', socket: 's' });
    expect(classifyUnit('a-b', 'gitfleet-a-tmux@s.service')).toBeNull();
    // names that end like a role
    expect(classifyUnit('a', holderUnit('a-tmux', 's'))).toBeNull();
    expect(classifyUnit('a-tmux', holderUnit('a', 's'))).toBeNull();
    expect(classifyUnit('a-tmux', holderUnit('a-tmux', 's'))).toEqual({ role: 'holder', socket: 's' });
    expect(classifyUnit('a', agentUnit('a-agent', { session: 'x', socket: 's' }))).toBeNull();
    expect(classifyUnit('a-agent', agentUnit('a-agent', { session: 'x', socket: 's' }))).toEqual({
      role: 'agent',
      session: 'x',
      socket: 's',
    });
  });

  it('every fleet claims exactly its own units among many', () => {
    const fleets = ['a', 'a-b', 'a-b-c', 'a.b', 'b', 'a-tmux', 'a-agent', 'fleet one', 'fleet  one', 'flotte é'];
    const units = fleets.flatMap((f) =>
      [holderUnit(f, 's-1'), agentUnit(f, { session: 'x', socket: 's-1' })].map((u) => ({ f, u })),
    );
    for (const f of fleets) {
      expect(
        units.filter(({ u }) => classifyUnit(f, u) !== null).map(({ u }) => u),
        f,
      ).toEqual([holderUnit(f, 's-1'), agentUnit(f, { session: 'x', socket: 's-1' })]);
    }
  });

  it('unitFleet keeps a plain fleet name as it is', () => {
    for (const f of ['lab', 'a-b', 'a.b', 'A_1']) expect(unitFleet(f)).toBe(f);
  });

  it('unitFleet turns any other name into a stable, distinct name of [A-Za-z0-9_.-]', () => {
    const odd = [
      'fleet one',
      'fleet  one',
      'fleet/one',
      'fleet\tone',
      'flotte é',
      'flotte è',
      '舰队',
      '艦隊',
      'a b',
      'a@b',
      'a%b',
      '$HOME',
      '',
    ];
    const names = odd.map(unitFleet);
    for (const [i, n] of names.entries()) {
      expect(n, JSON.stringify(odd[i])).toMatch(/^[A-Za-z0-9_.-]+$/);
      expect(unitFleet(odd[i]!)).toBe(n); // stable
      expect(holderUnit(odd[i]!, 's')).toMatch(/^gitfleet-[A-Za-z0-9_.-]+-tmux@s\.service$/);
    }
    expect(new Set(names).size).toBe(odd.length);
    // ... and none is taken for a plain name that looks alike
    for (const plain of ['fleet-one', 'a-b', 'flotte-']) expect(names).not.toContain(unitFleet(plain));
    expect(unitFleet('fleet one')).toMatch(/^fleet-one-[0-9a-f]{6}$/);
  });
});

// ---- the server unit --------------------------------------------------------------

describe('holder (tmux server) template', () => {
  const f = holderTemplateFile(UNIT_CTX);

  it('is a unit file in the unit dir, restarted always, started at login/boot', () => {
    expect(f).toMatchObject({ path: `${UNIT_DIR}/gitfleet-lab-tmux@.service`, kind: 'unit' });
    expect(setting(f.content, 'Type')).toBe('simple');
    expect(setting(f.content, 'Restart')).toBe('always');
    expect(setting(f.content, 'WantedBy')).toBe('default.target');
    expect(setting(f.content, 'Description')).toBe('gitfleet lab: tmux server on socket %i');
    expect(
      f.content
        .split('\n')
        .slice(0, 2)
        .every((l) => l.startsWith('#')),
    ).toBe(true);
  });

  it('runs tmux -D through /bin/sh -c, the tmux path and socket (%i) as arguments, never in the script', () => {
    const start = setting(f.content, 'ExecStart');
    const words = execWords(start);
    expect(words).toEqual(['/bin/sh', '-c', words[2], 'gitfleet-tmux', '/usr/bin/tmux', '%i']);
    const script = words[2]!;
    expect(script).toContain('exec "$1" -L "$2" -D');
    expect(script).not.toContain('%i');
    expect(script).not.toContain('/usr/bin/tmux');
    expect(script).not.toContain('%');
    expect(hasBareDollar(start)).toBe(false); // every $ is $$: systemd expands none
  });

  it('adopts a server already running on the socket instead of starting a second one', () => {
    const script = execWords(setting(f.content, 'ExecStart'))[2]!;
    expect(script).toMatch(
      joinedRegExp(
        /^if "\$1" -L "\$2" list-sessions .*; then /,
        /.*while "\$1" -L "\$2" list-sessions .*done; exit 75; fi; /,
        /exec "\$1" -L "\$2" -D$/,
      ),
    );
  });

  it('ExecStartPost waits until the server answers (so agents start after it), and gives up in the end', () => {
    const post = setting(f.content, 'ExecStartPost');
    const words = execWords(post);
    expect(words.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(words.slice(3)).toEqual(['gitfleet-tmux', '/usr/bin/tmux', '%i']);
    expect(words[2]).toMatch(
      joinedRegExp(
        /^i=0; until "\$1" -L "\$2" list-sessions >\/dev\/null 2>&1; /,
        /do i=\$\(\(i\+1\)\); \[ "\$i" -ge \d+ \] && exit 1; sleep [\d.]+; done$/,
      ),
    );
    expect(hasBareDollar(post)).toBe(false);
  });

  it('sets PATH, LANG and TMUX_TMPDIR, quoted, with % escaped', () => {
    const g = holderTemplateFile({
      ...UNIT_CTX,
      path: '/opt/my bin:/usr/bin',
      tmuxTmpdir: '/run/user/1000/tmux 50%',
      lang: 'C.UTF-8',
    });
    expect(settings(g.content, 'Environment')).toEqual([
      '"PATH=/opt/my bin:/usr/bin"',
      '"LANG=C.UTF-8"',
      '"TMUX_TMPDIR=/run/user/1000/tmux 50%%"',
    ]);
    expect(settings(f.content, 'Environment')).toEqual(['"PATH=/usr/local/bin:/usr/bin:/bin"', '"LANG=C.UTF-8"']);
  });

  it('without tmux -D (before 3.2): Type=forking and a holder session tagged with the fleet (an argument)', () => {
    const g = holderTemplateFile({ ...UNIT_CTX, fleet: 'fleet one', tmuxForeground: false });
    expect(setting(g.content, 'Type')).toBe('forking');
    expect(settings(g.content, 'ExecStartPost')).toEqual([]);
    expect(setting(g.content, 'Restart')).toBe('always');
    const start = setting(g.content, 'ExecStart');
    const words = execWords(start);
    expect(words).toEqual(['/bin/sh', '-c', words[2], 'gitfleet-tmux', '/usr/bin/tmux', '%i', 'fleet one']);
    expect(words[2]).toMatch(
      /^exec "\$1" -L "\$2" new-session -d -s \S+ .*@gitfleet-fleet "\$3" .*@gitfleet-role holder$/,
    );
    expect(words[2]).not.toContain('fleet one');
    expect(words[2]).not.toContain(' -D');
    expect(hasBareDollar(start)).toBe(false);
    expect(g.path).toBe(`${UNIT_DIR}/${holderTemplate('fleet one')}`);
  });

  it('escapes % in the fleet name where systemd expands specifiers', () => {
    const g = holderTemplateFile({ ...UNIT_CTX, fleet: '100%', tmuxForeground: false });
    expect(setting(g.content, 'Description')).toBe('gitfleet 100%%: tmux server on socket %i');
    expect(execWords(setting(g.content, 'ExecStart')).at(-1)).toBe('100%');
  });
});

// ---- the agent unit -----------------------------------------------------------------

describe('agent template', () => {
  const f = agentTemplateFile(UNIT_CTX);

  it('is a oneshot that stays active, started at login/boot', () => {
    expect(f).toMatchObject({ path: `${UNIT_DIR}/gitfleet-lab-agent@.service`, kind: 'unit' });
    expect(setting(f.content, 'Type')).toBe('oneshot');
    expect(setting(f.content, 'RemainAfterExit')).toBe('yes');
    expect(setting(f.content, 'WantedBy')).toBe('default.target');
    expect(settings(f.content, 'Restart')).toEqual([]);
  });

  it('runs `node cli agent-start --state-dir DIR FLEET %i`', () => {
    expect(execWords(setting(f.content, 'ExecStart'))).toEqual([
      '/usr/bin/node',
      '/opt/gitfleet/dist/cli.js',
      'agent-start',
      '--state-dir',
      STATE_DIR,
      FLEET,
      '%i',
    ]);
  });

  it('quotes state dir, fleet and paths with spaces, quotes, backslashes, % and $: systemd passes them as is', () => {
    const ctx: FleetUnitContext = {
      ...UNIT_CTX,
      fleet: 'fleet one',
      node: '/opt/node 20/bin/node',
      cli: '/opt/git"fleet/cli.js',
      stateDir: '/home/o p/100%/$HOME/back\\slash/%i',
    };
    const start = setting(agentTemplateFile(ctx).content, 'ExecStart');
    expect(execWords(start)).toEqual([
      ctx.node,
      ctx.cli,
      'agent-start',
      '--state-dir',
      ctx.stateDir,
      'fleet one',
      '%i',
    ]);
    expect(start).toContain('%%i'); // the state dir's literal "%i" is not the instance
    expect(start.endsWith(' %i')).toBe(true);
    expect(hasBareDollar(start)).toBe(false);
  });
});

// ---- per agent: drop-in and spec file ----------------------------------------------------

describe('agent drop-in', () => {
  const f = agentDropInFile(UNIT_CTX, ab);
  const holderName = 'gitfleet-lab-tmux@my.sock-1.service';

  it("binds the agent to its socket's server unit", () => {
    expect(f).toMatchObject({ path: dropInPath(UNIT_CTX, ab), kind: 'unit' });
    expect(setting(f.content, 'Requires')).toBe(holderName);
    expect(setting(f.content, 'After')).toBe(holderName);
    expect(setting(f.content, 'PartOf')).toBe(holderName);
  });

  it('stops exactly its own session, only while it has the fleet tag; a session already gone is no failure', () => {
    const stop = setting(f.content, 'ExecStop');
    expect(stop.startsWith('-')).toBe(true);
    const words = execWords(stop.slice(1));
    // Values reach the script as arguments, never inside its text.
    expect(words.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(words.slice(3)).toEqual(['gitfleet-stop', '/usr/bin/tmux', 'my.sock-1', 'a_b', 'lab']);
    expect(words[2]).toBe(
      '[ "$("$1" -L "$2" show-options -qv -t "=$3:" @gitfleet-fleet 2>/dev/null)" = "$4" ] ' +
        '&& exec "$1" -L "$2" kill-session -t "=$3"; exit 0',
    );
  });

  it('has no ExecStart of its own (the template starts the agent)', () => {
    expect(settings(f.content, 'ExecStart')).toEqual([]);
  });
});

describe('agent spec file', () => {
  const f = agentSpecFile(UNIT_CTX, w);
  const doc = JSON.parse(f.content) as AgentSpecFile & { agent: Record<string, unknown> };

  it('sits at the spec path of the state dir, as what agent-start reads', () => {
    expect(f.kind).toBe('spec');
    expect(f.path).toBe(specPath(STATE_DIR, { fleet: FLEET, socket: 'my.sock-1', session: 'w' }));
    expect(f.path).toBe(`${STATE_DIR}/specs/lab/my.sock-1/w.json`);
    expect(f.content.endsWith('}\n')).toBe(true);
  });

  it('holds the fleet, PATH and agent spec with its hash; not its source, redact list nor heartbeat grace', () => {
    expect(doc.formatVersion).toBe(1);
    expect(doc.fleet).toBe(FLEET);
    expect(doc.path).toBe(UNIT_CTX.path);
    expect('source' in doc.agent).toBe(false);
    expect('redact' in doc.agent).toBe(false);
    expect('heartbeatGrace' in doc.agent).toBe(false);
    const { source: _source, redact: _redact, heartbeatGrace: _grace, ...rest } = w;
    expect(doc.agent).toEqual(rest);
    expect(doc.agent.specHash).toBe(w.specHash);
    expect(doc.agent.env).toEqual({ MODE: 'x' });
  });

  it('does not change when only the declaring line moves', () => {
    const moved = { ...w, source: { file: 'rosters/other.yaml', line: 99, col: 3 } };
    expect(agentSpecFile(UNIT_CTX, moved).content).toBe(f.content);
  });

  it('keeps a raw fleet name in the path and the document (unit names only are sanitised)', () => {
    const g = agentSpecFile({ ...UNIT_CTX, fleet: 'fleet one' }, w);
    expect(g.path).toBe(`${STATE_DIR}/specs/fleet one/my.sock-1/w.json`);
    expect((JSON.parse(g.content) as AgentSpecFile).fleet).toBe('fleet one');
  });
});

describe('fleetFiles', () => {
  it('keeps both templates, and a drop-in and a spec file per agent, by path', () => {
    const files = fleetFiles(UNIT_CTX, [ab, w]);
    expect([...files.keys()].sort()).toEqual(
      [
        `${UNIT_DIR}/gitfleet-lab-tmux@.service`,
        `${UNIT_DIR}/gitfleet-lab-agent@.service`,
        `${UNIT_DIR}/gitfleet-lab-agent@a_b.my.sock-1.service.d/gitfleet.conf`,
        `${UNIT_DIR}/gitfleet-lab-agent@w.my.sock-1.service.d/gitfleet.conf`,
        `${STATE_DIR}/specs/lab/my.sock-1/a_b.json`,
        `${STATE_DIR}/specs/lab/my.sock-1/w.json`,
      ].sort(),
    );
    for (const [p, file] of files) expect(file.path).toBe(p);
    expect([...files.values()].filter((x) => x.kind === 'spec')).toHaveLength(2);
  });

  it('with no agents, still the two templates', () => {
    expect([...fleetFiles(UNIT_CTX, []).values()].map((x) => x.path)).toEqual([
      `${UNIT_DIR}/gitfleet-lab-tmux@.service`,
      `${UNIT_DIR}/gitfleet-lab-agent@.service`,
    ]);
  });

  it('is deterministic', () => {
    const render = () => [...fleetFiles(UNIT_CTX, [ab, w]).values()].map((x) => x.content).join('\0');
    expect(render()).toBe(render());
  });

  it('a fleet name with a control character never adds a line to a unit file', () => {
    // The default fleet name is the repository's directory name, which fleet.yaml's pattern does not check.
    const ctx = { ...UNIT_CTX, fleet: 'x\nExecStartPre=/bin/evil' };
    let files: GeneratedFile[] = [];
    try {
      files = [...fleetFiles(ctx, [ab]).values()];
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError); // refusing it, as install does for its values, is fine too
    }
    for (const file of files.filter((x) => x.kind === 'unit')) {
      expect(
        file.content.split('\n').filter((l) => l.startsWith('ExecStartPre')),
        file.path,
      ).toEqual([]);
    }
  });

  it('the full set for one agent, as written to disk', async () => {
    const dd = desired([{ name: 'a.b', working_directory: '/srv/work', env: { MODE: 'x' } }], { socket: 'my.sock-1' });
    const files = fleetFiles({ ...UNIT_CTX, tmuxTmpdir: '/run/user/1000' }, [spec(dd, 'a.b')]);
    const text = [...files.values()].map((x) => `==> ${x.path} (${x.kind})\n${x.content}`).join('\n');
    // In a file beside this test: unit lines are as long as systemd needs, which source lines are not.
    await expect(text).toMatchFileSnapshot('__snapshots__/fleet-units.full-set.txt');
  });
});

// ---- tmux versions -------------------------------------------------------------------

describe('tmuxHasForeground', () => {
  it('is true from tmux 3.2 on, and for development builds', () => {
    const cases: [string, boolean][] = [
      ['tmux 3.3a', true],
      ['tmux 3.2', true],
      ['3.2', true],
      ['tmux 3.2a', true],
      ['tmux 3.4', true],
      ['tmux 4.0', true],
      ['tmux 10.1', true],
      ['tmux next-3.4', true],
      ['next-3.4', true],
      ['tmux master', true],
      ['master', true],
      ['tmux 3.1c', false],
      ['3.1c', false],
      ['tmux 3.0a', false],
      ['tmux 2.9', false],
      ['tmux 1.8', false],
    ];
    expect(cases.map(([v]) => [v, tmuxHasForeground(v)])).toEqual(cases);
  });
});
