// A rich status for the dashboard tests, built the way reconcile() builds one
// (plan, then buildStatus on what was seen after apply), over two runs so the
// conditions carry different transition times: at 12:00 everything ran; at
// 12:31 an agent crash-loops, one is missing, one waits for a manual restart,
// one is disabled, and a roster was broken (an undeclared runtime) while its
// last valid version stays in force.
import type { ActionResult } from '../../src/apply/types.js';
import type { DesiredState } from '../../src/desired/types.js';
import type { SocketObservation } from '../../src/observe/tmux.js';
import { plan } from '../../src/plan/plan.js';
import { TMUX_MODE } from '../../src/plan/units.js';
import { buildStatus } from '../../src/status/build.js';
import type { StatusDoc } from '../../src/status/types.js';
import {
  at,
  dead,
  desiredFrom,
  holder,
  NOW,
  observed,
  pane,
  context,
  planInput,
  rosterYaml,
  running,
  SOCKET,
  socket,
  spec,
} from './builders.js';

export const LAB_SOCKET = 'lab-bench';
export const TEAM = 'rosters/team.yaml';
export const LAB = 'rosters/lab.yaml';

const team = (mood: string) =>
  rosterYaml([
    'alpha',
    'bravo',
    { name: 'charlie', update: 'manual', env: { MOOD: mood } },
    { name: 'delta', enabled: false },
    'echo',
  ]);
const labGood = rosterYaml(['foxtrot'], { socket: LAB_SOCKET });
// golf names a runtime the file does not declare: the file is invalid.
const labBroken = rosterYaml(['foxtrot', { name: 'golf', runtime: 'gpt' }], { socket: LAB_SOCKET });

/** The 1-based line of the first line of `yaml` that contains `needle`. */
export const lineOf = (yaml: string, needle: string): number =>
  yaml.split('\n').findIndex((l) => l.includes(needle)) + 1;
export const GOLF_LINE = lineOf(labBroken, 'gpt');
export const LAB_GOOD_BLOB = '5eed0000c0ffee0000000000000000000000beef';

function reconcileOnce(
  d: DesiredState,
  before: Map<string, SocketObservation>,
  after: Map<string, SocketObservation>,
  previous: StatusDoc | null,
  now: Date,
  applied: (kind: string, session: string | undefined) => boolean,
): StatusDoc {
  const pol = context({ now, desiredRevision: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567' });
  const p = plan(planInput(d, before, previous), pol);
  const results: ActionResult[] = p.actions
    .filter((a) => applied(a.kind, a.apply.session))
    .map((action) => ({
      action,
      ok: true,
      error: null,
      startedAt: now.toISOString(),
      finishedAt: now.toISOString(),
      command: [],
    }));
  const observedAfter = { tmux: after, supervisor: TMUX_MODE, heartbeats: new Map() };
  return buildStatus({ desired: d, plan: p, observed: observedAfter, results, previous }, pol);
}

/** The status after the second run (12:31), and the specs and blobs it must not show. */
export function richStatus(): { status: StatusDoc; hashes: string[] } {
  const d1 = desiredFrom({ [TEAM]: team('calm'), [LAB]: labGood });
  const up1 = ['alpha', 'bravo', 'charlie', 'echo'].map((n) => running(spec(d1, n)));
  const seen1 = observed(
    socket(SOCKET, [holder(), ...up1]),
    socket(LAB_SOCKET, [holder(), running(spec(d1, 'foxtrot'))]),
  );
  const first = reconcileOnce(d1, seen1, seen1, null, NOW, () => true);

  const d2 = desiredFrom({ [TEAM]: team('stormy'), [LAB]: labBroken }, null, [
    { path: LAB, blob: LAB_GOOD_BLOB, text: labGood },
  ]);
  const later = at(31 * 60);
  const bravoDead = dead(spec(d1, 'bravo'), 1);
  const byHand = pane('scratch', { currentCommand: 'sleep' });
  const shared = [holder(), running(spec(d1, 'alpha')), running(spec(d1, 'charlie')), byHand];
  const lab = socket(LAB_SOCKET, [holder(), running(spec(d1, 'foxtrot'))]);
  const before = observed(socket(SOCKET, [...shared, bravoDead]), lab);
  // bravo was respawned and died again at once; echo's session was gone and is not recreated in this run.
  const status = reconcileOnce(d2, before, before, first, later, (kind, s) => kind === 'respawn_pane' && s === 'bravo');
  const hashes = [
    ...d1.rosters.flatMap((r) => r.agents.map((a) => a.specHash)),
    ...d2.rosters.flatMap((r) => r.agents.map((a) => a.specHash)),
    ...d2.files.flatMap((f) => (f.blob ? [f.blob] : [])),
    LAB_GOOD_BLOB,
    `blob:${TEAM}`,
  ];
  return { status, hashes: [...new Set(hashes)] };
}
