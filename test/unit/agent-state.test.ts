// One name for an agent's state, shared by `gitfleet ps`, `gitfleet status`
// and the dashboard.
import { describe, expect, it } from 'vitest';
import { agentFlags, agentRank, agentState } from '../../src/report/agent-state.js';
import type { Condition } from '../../src/status/types.js';
import { agentRecord, desired, spec } from './builders.js';

const a = spec(desired(['a']), 'a');
const T = '2026-03-01T12:00:00.000Z';
const cond = (type: Condition['type'], status: Condition['status'], reason: Condition['reason']): Condition => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: T,
});

describe('agentState', () => {
  it('is Ready, Disabled, or the reason the agent is not Ready', () => {
    expect(agentState(agentRecord(a, { conditions: [cond('Ready', 'True', 'Running')] }))).toBe('Ready');
    const off = agentRecord(a, { enabled: false, conditions: [cond('Ready', 'False', 'Disabled')] });
    expect(agentState(off)).toBe('Disabled');
    expect(agentState(agentRecord(a, { conditions: [cond('Ready', 'False', 'SessionMissing')] }))).toBe(
      'SessionMissing',
    );
    expect(agentState(agentRecord(a, { conditions: [] }))).toBe('Unknown');
  });

  it('calls a dead pane with a crash streak CrashLoopBackOff, as ps does while the respawn waits', () => {
    const dead = [cond('Ready', 'False', 'PaneDead')];
    expect(agentState(agentRecord(a, { conditions: dead }))).toBe('PaneDead');
    const looping = agentRecord(a, { conditions: dead, backoff: { streak: 2, lastRestart: T } });
    expect(agentState(looping)).toBe('CrashLoopBackOff');
  });

  it('ranks agents needing attention first, then ready, then disabled', () => {
    const ready = agentRecord(a, { conditions: [cond('Ready', 'True', 'Running')] });
    const pending = agentRecord(a, {
      conditions: [cond('Ready', 'True', 'Running'), cond('PendingRestart', 'True', 'UpdateManual')],
    });
    const off = agentRecord(a, { enabled: false, conditions: [cond('Ready', 'False', 'Disabled')] });
    expect([agentRank(pending), agentRank(ready), agentRank(off)]).toEqual([0, 1, 2]);
    expect(agentFlags(pending)).toEqual(['PendingRestart']);
    expect(agentFlags(off)).toEqual(['disabled']);
  });
});
