// `gitfleet agent send`: put text into an agent's input line as a bracketed
// paste, then press Enter; with verify, watch the pane until it shows that
// the agent took it (verify.ts says how that is judged).
import { randomBytes } from 'node:crypto';
import type { AgentSpec } from '../desired/types.js';
import { TerminalError } from '../errors.js';
import { run } from '../exec.js';
import { tmux, tmuxArgv, windowTarget } from '../tmux/client.js';
import { captureScreen, type Screen } from './screen.js';
import { ownedSession, type Owner } from './session.js';
import { judge, probeOf, sameScreen, type Verdict } from './verify.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
const POLL_MS = 100;
/** How long to wait for the paste to show before Enter (less with a short --timeout). */
const SETTLE_MS = 1_500;

export interface SendOptions {
  verify: boolean;
  timeoutMs: number;
}

export interface SendResult {
  agent: string;
  socket: string;
  session: string;
  verified: boolean;
  /** With verify: what the pane showed in the end; null without. */
  result: Verdict | 'pane_dead' | null;
  elapsedMs: number;
}

/** The source label every message carries unless told otherwise: `[<host>:operator -> <agent>] `. */
export function withPreamble(text: string, agent: string, label: string | null): string {
  return label === null ? text : `[${label} -> ${agent}] ${text}`;
}

export async function sendText(agent: AgentSpec, owner: Owner, text: string, o: SendOptions): Promise<SendResult> {
  const start = Date.now();
  const deadline = start + o.timeoutMs;
  const live = await ownedSession(agent, owner);
  if (live.dead)
    throw new TerminalError(
      `the pane of agent "${agent.name}" (${agent.socket}/${agent.session}) is dead; gitfleet apply respawns it`,
    );
  const before = await captureScreen(agent.socket, agent.session);
  await paste(agent, text);
  // Wait for the paste to be drawn: some TUIs take an Enter that arrives with
  // the paste as part of it (a newline in the draft), and verify needs the draft.
  const pasted = await settle(agent, before, Math.min(deadline, Date.now() + Math.min(SETTLE_MS, o.timeoutMs / 2)));
  const enter = await tmux(agent.socket, [['send-keys', '-t', windowTarget(agent.session), 'Enter']]);
  if (enter.exitCode !== 0)
    throw new TerminalError(`cannot press Enter in ${agent.socket}/${agent.session}: ${enter.stderr.trim()}`);
  const done = (result: SendResult['result']): SendResult => ({
    agent: agent.name,
    socket: agent.socket,
    session: agent.session,
    verified: o.verify,
    result,
    elapsedMs: Date.now() - start,
  });
  if (!o.verify) return done(null);

  const probe = probeOf(text);
  let result: SendResult['result'] = 'unchanged';
  let confirmed = 0;
  for (;;) {
    await sleep(POLL_MS);
    const now = await captureScreen(agent.socket, agent.session);
    if (now.dead) return done('pane_dead');
    result = judge(before, pasted, now, probe);
    confirmed = result === 'accepted' ? confirmed + 1 : 0;
    if (confirmed >= 2) return done('accepted');
    // At the deadline, one more look only to confirm an acceptance just seen.
    if (Date.now() >= deadline && confirmed === 0) return done(result);
  }
}

/**
 * load-buffer from stdin and paste-buffer in one tmux process; -p brackets the paste when the program asked for it,
 * -d drops the buffer.
 */
async function paste(agent: AgentSpec, text: string): Promise<void> {
  const buffer = `gitfleet-send-${process.pid}-${randomBytes(4).toString('hex')}`;
  const argv = tmuxArgv(agent.socket, [
    ['load-buffer', '-b', buffer, '-'],
    ['paste-buffer', '-p', '-d', '-b', buffer, '-t', windowTarget(agent.session)],
  ]);
  const res = await run(argv, { input: text, timeoutMs: 15_000 });
  if (res.exitCode !== 0) {
    await tmux(agent.socket, [['delete-buffer', '-b', buffer]]);
    throw new TerminalError(
      `cannot paste into ${agent.socket}/${agent.session}: ${res.stderr.trim() || `tmux exited ${res.exitCode}`}`,
    );
  }
}

/** Poll until the screen has changed from `before` and then held still for one poll, or until `until`. */
async function settle(agent: AgentSpec, before: Screen, until: number): Promise<Screen> {
  let last = before;
  let changed = false;
  for (;;) {
    await sleep(50);
    const s = await captureScreen(agent.socket, agent.session);
    if (changed && sameScreen(s, last)) return s;
    if (!sameScreen(s, before)) changed = true;
    last = s;
    if (Date.now() >= until) return s;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
