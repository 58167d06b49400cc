// The dashboard (status/<host>.md) as Markdown: a headline first, what needs
// attention next, then every agent by state; file errors once, linked to
// their line; no spec hashes or blob ids; the state words of `gitfleet ps`.
import { describe, expect, it } from 'vitest';
import { statusRows } from '../../src/ps.js';
import { agentState } from '../../src/report/agent-state.js';
import { renderPs } from '../../src/report/ps-text.js';
import { renderStatusMarkdown } from '../../src/report/status-md.js';
import { renderStatusText } from '../../src/report/status-text.js';
import type { StatusDoc } from '../../src/status/types.js';
import { agentRecord, desired, HOST, previousStatus, socketRecord, spec } from './builders.js';
import { GOLF_LINE, LAB, richStatus, TEAM } from './status-md-fixture.js';

const { status, hashes } = richStatus();
const md = renderStatusMarkdown(status);
const lines = md.split('\n');
/** Where `needle` first occurs in the dashboard (fails the test when absent). */
const pos = (needle: string | RegExp): number => {
  const i = typeof needle === 'string' ? md.indexOf(needle) : md.search(needle);
  expect(i, `${needle} in the dashboard`).toBeGreaterThanOrEqual(0);
  return i;
};
const tableRows = () => lines.filter((l) => /^\| \*\*/.test(l)).map((l) => /^\| \*\*(\w+)\*\*/.exec(l)![1]);

describe('dashboard: headline', () => {
  it('comes first: the verdict, the counts, the revision and when the status last changed', () => {
    expect(lines[0]).toBe('# ⚠️ lab on box1: not converged');
    expect(lines[2]).toContain('6 agents: 3 ready, **2 not ready**, 1 disabled');
    expect(lines[2]).toContain('**1 error in desired-state files**');
    expect(lines[2]).toContain('1 unmanaged session ·');
    expect(lines[2]).toContain('desired revision `0a1b2c3d4e5f`');
    // The newest transition (12:31), not a time of rendering: a converged fleet's dashboard does not churn.
    expect(lines[2]).toContain('last change 2026-03-01 12:31 UTC');
  });

  it('says "1 error", never "1 errors", and counts with plurals', () => {
    const d = desired(['solo']);
    const one: StatusDoc = previousStatus([agentRecord(spec(d, 'solo'))], [], {
      summary: { agents: 1, ready: 0, notReady: 1, disabled: 0, unmanaged: 2, errors: 1 },
      errors: [{ file: 'rosters/agents.yaml', line: 3, col: 5, message: 'something is wrong' }],
    });
    const text = renderStatusMarkdown(one);
    expect(text).not.toMatch(/\b1 \w+s\b/);
    expect(text).toContain('1 agent: 0 ready, **1 not ready**');
    expect(text).toContain('**1 error in desired-state files**');
    expect(text).toContain('2 unmanaged sessions');
  });

  it('takes the newest transition among all conditions as the last change', () => {
    const d = desired(['a', 'b']);
    const cond = (t: string) => ({
      type: 'Ready' as const,
      status: 'True' as const,
      reason: 'Running' as const,
      message: 'runs',
      lastTransitionTime: t,
    });
    const s = previousStatus([
      agentRecord(spec(d, 'a'), { conditions: [cond('2026-11-29T22:31:07.000Z')] }),
      agentRecord(spec(d, 'b'), { conditions: [cond('2026-11-28T08:00:00.000Z')] }),
    ]);
    expect(renderStatusMarkdown(s).split('\n')[2]).toContain('last change 2026-11-29 22:31 UTC');
  });
});

describe('dashboard: needs attention first, then every agent by state', () => {
  it('puts "Needs attention" after the headline and before the table', () => {
    expect(pos('## Needs attention')).toBeGreaterThan(pos('# ⚠️'));
    expect(pos('## Needs attention')).toBeLessThan(pos('## All agents\n'));
  });

  it('lists each problem with since when, in absolute UTC', () => {
    expect(md).toContain(
      '- **bravo**: CrashLoopBackOff since 2026-03-01 12:31 UTC: exited with status 1; ' +
        'respawned at 2026-03-01 12:31 UTC, and exited again',
    );
    expect(md).toContain('- **charlie**: PendingRestart since 2026-03-01 12:31 UTC: spec changed; update: manual');
    expect(md).toContain('- **echo**: SessionMissing since 2026-03-01 12:31 UTC');
    expect(md).toContain(
      `- **foxtrot**: Stalled since 2026-03-01 12:31 UTC: declared in [rosters/lab.yaml](../${LAB}#L`,
    );
    expect(md).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it('sorts the table by state (attention, ready, disabled), then by name', () => {
    expect(tableRows()).toEqual(['bravo', 'charlie', 'echo', 'foxtrot', 'alpha', 'delta']);
  });

  it('shows each agent state with the flags of `gitfleet ps`, and since when in one piece', () => {
    expect(md).toMatch(/^\| \*\*charlie\*\* \| Ready · PendingRestart \| 2026-03-01\u00a012:00\u00a0UTC \|/m);
    expect(md).toMatch(/^\| \*\*foxtrot\*\* \| Ready · stalled \|/m);
    expect(md).toMatch(/^\| \*\*delta\*\* \| Disabled \|/m);
  });

  it('leaves a quiet fleet with no "Needs attention" section', () => {
    const d = desired(['a']);
    const ok = previousStatus(
      [
        agentRecord(spec(d, 'a'), {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'Running',
              message: 'runs',
              lastTransitionTime: '2026-03-01T12:00:00.000Z',
            },
          ],
        }),
      ],
      [],
      { converged: true, summary: { agents: 1, ready: 1, notReady: 0, disabled: 0, unmanaged: 0, errors: 0 } },
    );
    const text = renderStatusMarkdown(ok);
    expect(text.split('\n')[0]).toBe('# ✅ lab on box1: converged');
    expect(text).not.toContain('Needs attention');
  });

  it('says "progressing" while agents await their first heartbeat: counted as starting, not as problems', () => {
    const d = desired(['a']);
    const starting = (type: 'Ready' | 'Progressing', status: 'Unknown' | 'True') => ({
      type,
      status,
      reason: 'AwaitingFirstHeartbeat' as const,
      message: 'no heartbeat yet from the session started at 2026-03-01T12:00:00.000Z: starting, not failed',
      lastTransitionTime: '2026-03-01T12:00:00.000Z',
    });
    const doc = previousStatus(
      [agentRecord(spec(d, 'a'), { conditions: [starting('Ready', 'Unknown'), starting('Progressing', 'True')] })],
      [],
      {
        converged: false,
        progressing: true,
        summary: { agents: 1, ready: 0, notReady: 1, disabled: 0, unmanaged: 0, errors: 0 },
      },
    );
    const text = renderStatusMarkdown(doc);
    expect(text.split('\n')[0]).toBe('# ⏳ lab on box1: progressing');
    expect(text.split('\n')[2]).toContain('1 agent: 0 ready, 1 starting ·');
    expect(text).not.toContain('not ready');
    expect(text).not.toContain('Needs attention');
    expect(text).toContain('AwaitingFirstHeartbeat');
    expect(renderStatusText(doc)).toContain('Progressing (agents starting): 0/1 ready');
  });
});

describe('dashboard: the fleet', () => {
  it('lists an unobserved supervisor or socket, lingering off and held deletes under "Needs attention"', () => {
    const s = previousStatus([], [socketRecord('lab-bench', { observed: false, error: 'tmux: permission denied' })], {
      supervisor: {
        mode: 'systemd',
        reason: 'fleet.yaml',
        observed: false,
        error: 'Failed to connect to bus',
        linger: false,
        lingerFix: 'loginctl enable-linger op',
      },
      pruneHeld: [{ socket: 'lab-bench', deletes: 2, running: 2, agents: ['x', 'y'], message: '2 of 2 agents' }],
    });
    const text = renderStatusMarkdown(s);
    const attention = text.slice(text.indexOf('## Needs attention'), text.indexOf('## About this host'));
    expect(attention).toContain('- The systemd user manager could not be observed;');
    expect(attention).toContain('Failed to connect to bus');
    expect(attention).toContain('- Lingering is off for op:');
    expect(attention).toContain('Fix: loginctl enable-linger op');
    expect(attention).toContain('- Socket `lab-bench` could not be observed: tmux: permission denied');
    expect(attention).toContain('### Deletes held (PruneHeld)');
    expect(text.split('\n')[2]).toContain('No agents run on this host');
  });
});

describe('dashboard: file errors', () => {
  it('are listed once, above the table, linked to their line relative to status/', () => {
    expect(md.split('is not declared under runtimes').length - 1).toBe(1);
    expect(pos('is not declared under runtimes')).toBeLessThan(pos('## All agents\n'));
    expect(md).toContain(`[line ${GOLF_LINE}](../${LAB}#L${GOLF_LINE})`);
  });

  it('say what an invalid file means for the agents, since an agent it adds never reaches the status', () => {
    // golf (runtime "gpt", undeclared) exists only in the broken version: the status has no record of it.
    expect(status.agents.map((a) => a.name)).not.toContain('golf');
    expect(md).toContain('its last valid version stays in force');
    expect(md).toContain('is not listed below, until it is fixed');
  });

  it('link each agent to the line that declares it, and the evidence of this host', () => {
    const bravo = status.agents.find((a) => a.name === 'bravo')!;
    const line = Number(bravo.source.split(':')[1]);
    expect(md).toContain(`[team.yaml:${line}](../${TEAM}#L${line})`);
    expect(md).toContain(`(../evidence/${HOST}/)`);
  });
});

describe('dashboard: words', () => {
  it('shows no spec hash and no blob id', () => {
    for (const h of hashes) expect(md, h).not.toContain(h.slice(0, 8));
  });

  it('names states as `gitfleet ps` and `gitfleet status` do (one function)', () => {
    const bravo = status.agents.find((a) => a.name === 'bravo')!;
    // The run respawned bravo and saw it die again: Ready says PaneDead, the streak makes it a crash loop.
    expect(bravo.conditions[0]!.reason).toBe('PaneDead');
    expect(agentState(bravo)).toBe('CrashLoopBackOff');
    const ps = renderPs({
      formatVersion: 1,
      fleet: status.fleet,
      host: 'elsewhere',
      supervisor: status.supervisor,
      agents: statusRows(status, 'c0ffee0000000000000000000000000000000000'),
      unmanaged: [],
    });
    expect(ps).toMatch(/^bravo .* no \(CrashLoopBackOff\)/m);
    // delta is disabled: it has no pane by design, which is neither "dead" nor "missing" (#10 item 5).
    expect(ps).toMatch(/^delta +\S+ +\S+ +\S+ +- +- +- +- +- +no \(Disabled\)/m);
    expect(renderStatusText(status)).toMatch(/^bravo +mosaic-factory +CrashLoopBackOff /m);
    expect(md).toMatch(/^\| \*\*bravo\*\* \| CrashLoopBackOff \|/m);
  });

  it('escapes Markdown in messages, so a placeholder like <pid> is shown, not taken for HTML', () => {
    const d = desired(['a']);
    const s = previousStatus([
      agentRecord(spec(d, 'a'), {
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'HeartbeatInvalid',
            message: 'not protocol v1 (ts=<ISO-8601> pid=<pid> status=<ok|busy>)',
            lastTransitionTime: '2026-03-01T12:00:00.000Z',
          },
        ],
      }),
    ]);
    expect(renderStatusMarkdown(s)).toContain('pid=\\<pid\\> status=\\<ok\\|busy\\>');
  });
});
