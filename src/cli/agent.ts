// `gitfleet agent <verb> <name>`: options in, one result out, rendered for
// people or as JSON. The work is in src/agent/.
import { readFile } from 'node:fs/promises';
import { attachAgent } from '../agent/attach.js';
import { readLogTail } from '../agent/logs.js';
import { resetAgent, type ResetResult } from '../agent/reset.js';
import { findAgent } from '../agent/resolve.js';
import { DEFAULT_TIMEOUT_MS, sendText, withPreamble, type SendResult } from '../agent/send.js';
import { watchAgent } from '../agent/watch.js';
import { TerminalError, UsageError, errorMessage } from '../errors.js';
import { runInteractive } from '../exec.js';
import { agentLogPath } from '../paths.js';
import { readSource } from '../reconcile.js';
import { AGENT_VERBS, type Verb, VERBS } from './commands.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import { pinnedSettings } from './settings.js';
import type { GlobalOptions } from './options.js';

const DEFAULT_LINES = 50;

export async function agent(opts: GlobalOptions, positionals: string[], io: Io): Promise<number> {
  const [verb, name, ...extra] = positionals;
  if (!verb) throw new UsageError(`agent needs a verb: ${VERBS.join(', ')}; see gitfleet agent --help`);
  if (!isVerb(verb)) throw new UsageError(`unknown agent verb "${verb}"; verbs: ${VERBS.join(', ')}`);
  if (!name) throw new UsageError(`agent ${verb} needs an agent name; see gitfleet agent ${verb} --help`);
  if (extra.length > 0) throw new UsageError(`agent ${verb} takes one agent name (got also ${extra.join(' ')})`);
  checkOptions(verb, opts);
  const message = verb === 'send' ? await messageText(opts) : null;

  const src = await readSource(opts);
  const spec = findAgent(src.desired, name, opts);
  // A disabled agent has no session by design: say that, not that a session is missing or not ours.
  if (!spec.enabled && verb !== 'logs') {
    throw new TerminalError(
      `agent "${name}" is disabled (enabled: false in ${spec.source.file}:${spec.source.line}); ` +
        'it has no session: set enabled: true and apply',
    );
  }
  const fleet = src.desired.config.fleet;
  // Only this tenant's session (or one from before tenants were tagged): tenants may share a tmux server.
  const owner = { fleet, tenant: opts.tenant };
  switch (verb) {
    case 'watch': {
      needTerminal('watch');
      const r = await watchAgent(spec, owner, runInteractive);
      if (r.exitCode !== 0)
        throw new TerminalError(`tmux could not attach the watch of ${spec.name} (exit ${r.exitCode})`);
      const reaped = r.reaped.length ? `; removed ${r.reaped.length} left over from killed watches` : '';
      const removed = r.removed ? 'removed' : 'NOT removed';
      io.stdout(`watch of ${spec.name} ended; throw-away session ${r.session} ${removed}${reaped}\n`);
      return r.removed ? EXIT.ok : EXIT.error;
    }
    case 'attach': {
      needTerminal('attach');
      const code = await attachAgent(spec, owner, runInteractive);
      if (code !== 0) throw new TerminalError(`tmux could not attach ${spec.socket}/${spec.session} (exit ${code})`);
      return EXIT.ok;
    }
    case 'send': {
      const label = opts.raw ? null : (opts.from ?? `${opts.host}:operator`);
      const r = await sendText(spec, owner, withPreamble(message!, spec.name, label), {
        verify: opts.verify,
        timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      });
      if (opts.json) io.stdout(`${JSON.stringify({ formatVersion: 1, ...r, label }, null, 2)}\n`);
      else if (r.result === null)
        io.stdout(
          `sent to ${spec.name} (${r.socket}/${r.session}); not verified (--verify checks that it was taken)\n`,
        );
      else if (r.result === 'accepted') io.stdout(`${spec.name} accepted the message (${seconds(r.elapsedMs)})\n`);
      else io.stderr(`gitfleet: ${spec.name} did not accept the message: ${notAccepted(r)}\n`);
      return r.result === null || r.result === 'accepted' ? EXIT.ok : EXIT.notAccepted;
    }
    case 'reset': {
      const ctx = { ...owner, path: pinnedSettings(opts, io).path, stateDir: opts.stateDir };
      const r = await resetAgent(spec, ctx, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const ok = r.method === 'restart' || r.send.result === 'accepted';
      if (opts.json) io.stdout(`${JSON.stringify({ formatVersion: 1, ...r }, null, 2)}\n`);
      else (ok ? io.stdout : io.stderr)(renderReset(r, spec.runtime));
      return ok ? EXIT.ok : EXIT.notAccepted;
    }
    case 'logs': {
      const log = agentLogPath(opts.stateDir, { fleet, socket: spec.socket, session: spec.session });
      const tail = await readLogTail(log, opts.lines ?? DEFAULT_LINES);
      if (opts.json)
        io.stdout(
          `${JSON.stringify(
            { formatVersion: 1, agent: spec.name, log: tail.path, exists: tail.exists, lines: tail.lines },
            null,
            2,
          )}\n`,
        );
      else if (!tail.exists)
        io.stderr(
          `gitfleet: no log yet for ${spec.name}: ${log} does not exist ` +
            '(it starts when gitfleet apply creates the session)\n',
        );
      else io.stdout(tail.lines.map((l) => `${l}\n`).join(''));
      return EXIT.ok;
    }
  }
}

function isVerb(v: string): v is Verb {
  return (VERBS as readonly string[]).includes(v);
}

function checkOptions(verb: Verb, opts: GlobalOptions): void {
  const given: Record<string, boolean> = {
    message: opts.message !== null,
    file: opts.file !== null,
    verify: opts.verify,
    timeout: opts.timeoutMs !== null,
    from: opts.from !== null,
    raw: opts.raw,
    lines: opts.lines !== null,
    json: opts.json,
  };
  // The agent options each verb takes are in commands.ts (options.ts keeps them all to `agent`).
  const takes: readonly string[] = AGENT_VERBS[verb].options;
  if (opts.json && !takes.includes('json')) throw new UsageError(`agent ${verb} does not support --json`);
  for (const [k, on] of Object.entries(given)) {
    if (on && !takes.includes(k))
      throw new UsageError(`--${k} is not an option of agent ${verb}; see gitfleet agent ${verb} --help`);
  }
  if (verb === 'send' && opts.timeoutMs !== null && !opts.verify)
    throw new UsageError('--timeout is how long --verify waits: give --verify too');
  if (opts.raw && opts.from !== null) throw new UsageError('--raw sends no label, --from sets one: give one of them');
  if (opts.from !== null && (opts.from.trim() === '' || /[\x00-\x1f\x7f]/.test(opts.from)))
    throw new UsageError('--from needs a label of printable characters');
}

/** The message: --message, --file (- for stdin), or piped stdin. */
async function messageText(opts: GlobalOptions): Promise<string> {
  if (opts.message !== null && opts.file !== null) throw new UsageError('give the message once: --message or --file');
  let text: string;
  if (opts.message !== null) text = opts.message;
  else if (opts.file !== null && opts.file !== '-') {
    try {
      text = await readFile(opts.file, 'utf8');
    } catch (e) {
      throw new UsageError(`--file ${opts.file}: ${errorMessage(e)}`);
    }
  } else if (opts.file === null && process.stdin.isTTY)
    throw new UsageError('no message: give --message TEXT, --file PATH, or pipe it on stdin');
  else text = await readStdin();
  text = text.replace(/\r\n/g, '\n').replace(/\n+$/, '');
  if (text.trim() === '') throw new UsageError('the message is empty');
  const bad = /[\x00-\x08\x0b-\x1f\x7f]/.exec(text);
  if (bad)
    throw new UsageError(
      `the message holds a control character (${JSON.stringify(bad[0])} at offset ${bad.index}); ` +
        'only text, tabs and newlines can be sent',
    );
  return text;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function needTerminal(verb: 'watch' | 'attach'): void {
  if (!process.stdin.isTTY) throw new UsageError(`agent ${verb} needs a terminal: stdin is not one`);
}

function notAccepted(r: SendResult): string {
  const t = seconds(r.elapsedMs);
  switch (r.result) {
    case 'draft':
      return `it is still a draft in the input line after ${t}`;
    case 'pane_dead':
      return `the pane died (${t})`;
    default:
      return `nothing visible changed after Enter within ${t} (no reply, no new prompt, the input line not cleared)`;
  }
}

function renderReset(r: ResetResult, runtime: string): string {
  if (r.method === 'reset_command') {
    const sent = `reset ${r.agent}: sent the reset command ${JSON.stringify(r.command)}`;
    return r.send.result === 'accepted'
      ? `${sent}; accepted (${seconds(r.send.elapsedMs)})\n`
      : `gitfleet: ${sent}; NOT accepted: ${notAccepted(r.send)}\n`;
  }
  const watches = r.watchesClosed.length ? `; closed ${r.watchesClosed.length} watch session(s)` : '';
  const spec = r.specChanged ? '; it now runs the roster spec, which differed from what ran' : '';
  const pids = `pid ${r.pidBefore ?? '?'} -> ${r.pidAfter ?? '?'}`;
  return (
    `reset ${r.agent}: runtime "${runtime}" has no reset command; ` +
    `restarted session ${r.socket}/${r.session} (${pids})${watches}${spec}\n`
  );
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
