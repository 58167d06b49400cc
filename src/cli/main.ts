// Command dispatch and the one place where outcomes become exit codes.
// Each command's modules are imported when it is chosen (dynamic import(), a chunk of its own in the bundle):
// --version and --help load nearly nothing, and agent-start does not load git, YAML or ajv.
import { GitfleetError, TerminalError, UsageError, ValidationError } from '../errors.js';
import { traceRuns } from '../exec.js';
import { isRemoteRepo, parseRemoteUrl } from '../git/remote-url.js';
import { stderrStyle, stdoutStyle } from './colour.js';
import { type CommandName, commandInfo, PUBLIC_COMMANDS } from './commands.js';
import { HELP } from './help.js';
import { parseCommandLine, type GlobalOptions } from './options.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import { mappedStack } from './mapped-stack.js';
import { version } from './version.js';

type Handler = (opts: GlobalOptions, positionals: string[], io: Io) => Promise<number>;

/** Each command's handler, loaded on demand; keyed by the command table (commands.ts), all of it. */
const COMMANDS: Record<CommandName, () => Promise<Handler>> = {
  validate: async () => (await import('./validate.js')).validate,
  plan: async () => plan,
  apply: async () => apply,
  status: async () => status,
  install: async () => (await import('./install.js')).install,
  uninstall: async () => (await import('./install.js')).uninstall,
  heartbeat: async () => (await import('./heartbeat.js')).heartbeat,
  ps: async () => (await import('./ps.js')).ps,
  'agent-start': async () => (await import('./agent-start.js')).agentStartCommand,
  agent: async () => (await import('./agent.js')).agent,
  run: async () => (await import('./run.js')).run,
  completion: async () => (await import('./completion.js')).completion,
  __complete: async () => (await import('./completion.js')).complete,
};

/** Commands that take arguments; the others refuse any. */
const TAKES_ARGUMENTS = new Set(['agent-start', 'agent', 'validate', 'completion', '__complete']);

/** Commands whose output is what was asked for, so -q does not silence it. */
const ALWAYS_PRINTS = new Set(['completion', '__complete']);

export async function main(argv: string[], io: Io): Promise<number> {
  // Until the command line is parsed, --json is known only as a word in it: a usage error still answers in JSON.
  const end = argv.indexOf('--');
  let json = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  try {
    const { command, positionals, opts } = parseCommandLine(argv, io.env);
    json = opts.json;
    if (opts.version) {
      io.stdout(opts.json ? `${JSON.stringify(versionInfo(), null, 2)}\n` : `gitfleet ${version()}\n`);
      return EXIT.ok;
    }
    if (!command && !opts.help && opts.json)
      throw new UsageError(`a command is needed; commands: ${PUBLIC_COMMANDS.join(', ')}`);
    if (!command || command === 'help') {
      const topic = command === 'help' ? positionals.join(' ') : '';
      if (!(topic in HELP)) throw new UsageError(`no help for "${topic}"; commands: ${PUBLIC_COMMANDS.join(', ')}`);
      (opts.help || command === 'help' ? io.stdout : io.stderr)(`${HELP[topic]}\n`);
      return opts.help || command === 'help' ? EXIT.ok : EXIT.usage;
    }
    const info = commandInfo(command);
    if (!info) throw new UsageError(`unknown command "${command}"; commands: ${PUBLIC_COMMANDS.join(', ')}`);
    // A remote --repo is checked before anything runs (credentials in it, plain http); the opt-in is said aloud.
    const warning = isRemoteRepo(opts.repo) ? parseRemoteUrl(opts.repo, opts.remote).warning : null;
    if (warning && !opts.help) io.stderr(`gitfleet: ${warning}\n`);
    opts.remote.notice = (message) => io.stderr(`gitfleet: ${message}\n`);
    if (opts.help) {
      io.stdout(`${HELP[`${command} ${positionals[0]}`] ?? HELP[command]}\n`);
      return EXIT.ok;
    }
    if (opts.json && !info.json) throw new UsageError(`${command} does not support --json`);
    if (positionals.length > 0 && !TAKES_ARGUMENTS.has(command))
      throw new UsageError(
        `${command} takes no arguments (got ${positionals.join(' ')}); see gitfleet ${command} --help`,
      );
    const run = await COMMANDS[command as CommandName]();
    if (opts.verbose) traceRuns((line) => io.stderr(`· ran ${line}\n`));
    // -q: what a command prints for people is dropped; its errors (stderr) and --json documents are not.
    const quiet = opts.quiet && !opts.json && !ALWAYS_PRINTS.has(command);
    return await run(opts, positionals, quiet ? { ...io, stdout: () => {} } : io);
  } catch (e) {
    return fail(e, io, json);
  } finally {
    traceRuns(null);
  }
}

/** `--version --json`: what a bug report needs about this gitfleet and the node running it. */
function versionInfo(): Record<string, string | number> {
  return {
    formatVersion: 1,
    version: version(),
    node: process.versions.node,
    platform: process.platform,
    arch: process.arch,
  };
}

/** An error as `--json` prints it on stderr (docs/formats.md, "error"). */
export interface ErrorJson {
  code: 'usage' | 'invalid' | 'terminal' | 'transient' | 'internal';
  message: string;
  exitCode: number;
  problems?: { file: string; line: number; col: number; message: string }[];
  stack?: string;
}

export function errorJson(e: unknown): ErrorJson {
  if (e instanceof UsageError) return { code: 'usage', message: e.message, exitCode: EXIT.usage };
  if (e instanceof ValidationError)
    return { code: 'invalid', message: e.message, exitCode: EXIT.error, problems: e.problems };
  if (e instanceof GitfleetError) return { code: e.kind, message: e.message, exitCode: EXIT.error };
  const message = e instanceof Error ? e.message : String(e);
  const stack = e instanceof Error && e.stack ? { stack: mappedStack(e.stack) } : {};
  return { code: 'internal', message: `internal error: ${message}`, exitCode: EXIT.error, ...stack };
}

function fail(e: unknown, io: Io, json: boolean): number {
  const err = errorJson(e);
  if (json) {
    io.stderr(`${JSON.stringify({ formatVersion: 1, error: err }, null, 2)}\n`);
    return err.exitCode;
  }
  const text =
    err.code === 'internal'
      ? `internal error: ${e instanceof Error ? mappedStack(e.stack ?? e.message) : String(e)}`
      : err.message;
  io.stderr(`${stderrStyle(io)('error', 'gitfleet:')} ${text}\n`);
  return err.exitCode;
}

async function plan(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const [{ reconcile }, { reconcileOptions }, { renderPlanJson }, planText, { Repo }, { noteUncommitted }] =
    await Promise.all([
      import('../reconcile.js'),
      import('./settings.js'),
      import('../report/plan-json.js'),
      import('../report/plan-text.js'),
      import('../git/repo.js'),
      import('./uncommitted.js'),
    ]);
  const { plan, desired } = await reconcile(reconcileOptions(opts, io), 'plan');
  // A remote repository is read from a private clone, which has no work tree: nothing can be uncommitted there.
  const uncommitted = isRemoteRepo(opts.repo)
    ? []
    : await noteUncommitted(await Repo.open(opts.repo), desired.config, 'planned', io);
  io.stdout(
    opts.json
      ? `${JSON.stringify(renderPlanJson(plan, uncommitted), null, 2)}\n`
      : planText.renderPlan(plan, stdoutStyle(io)),
  );
  if (opts.quiet && !opts.json) for (const line of planText.planProblemLines(plan)) io.stderr(`${line}\n`);
  // A PR check runs plan: a broken file must fail it, even though apply would still run on last-known-good specs.
  if (plan.errors.length > 0 || plan.unobserved.length > 0 || !plan.supervisor.observed) return EXIT.error;
  // Deferred work (a restart waiting for idle, a held prune) is a difference too: 0 means nothing differs.
  return plan.actions.length > 0 || plan.deferred.length > 0 || plan.pruneHeld.length > 0 ? EXIT.changes : EXIT.ok;
}

async function apply(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const [
    { reconcile },
    { reconcileOptions },
    { ensureStateDir },
    { renderApplyJson },
    { renderPlan },
    { renderApplied },
    { applyProblemLines },
  ] = await Promise.all([
    import('../reconcile.js'),
    import('./settings.js'),
    import('../lock.js'),
    import('../report/apply-json.js'),
    import('../report/plan-text.js'),
    import('../report/apply-text.js'),
    import('../report/quiet.js'),
  ]);
  // Before pinned.json is written there: a state dir that is a file is said plainly.
  await ensureStateDir(opts.stateDir);
  const r = await reconcile(reconcileOptions(opts, io, true), 'apply');
  for (const w of r.warnings ?? []) io.stderr(`warning: ${w}\n`);
  if (!opts.json && !opts.quiet) {
    io.stdout(renderPlan(r.plan, stdoutStyle(io)));
    io.stdout(renderApplied(r));
  }
  // --wait: no lock held, until every agent is Ready or the time is up; then the status as it is (apply-wait.ts).
  const waited = opts.wait ? await (await import('./apply-wait.js')).waitForReady(r, opts, io) : null;
  const last = waited?.last ?? r;
  const status = last.status!;
  if (opts.json)
    io.stdout(
      `${JSON.stringify(renderApplyJson({ ...last, status, ...(waited ? { wait: waited.wait } : {}) }), null, 2)}\n`,
    );
  else if (opts.quiet) for (const line of applyProblemLines({ ...last, status })) io.stderr(`${line}\n`);
  // An invalid committed file is an error a person must fix, even though apply ran on last-known-good specs.
  if (r.desired.problems.length > 0) return EXIT.error;
  // Waited for: Ready, or not converged. Else agents only starting (Progressing, within their heartbeat grace) are
  // not a failure: the timer's unit stays green while a new agent's first beat is on its way.
  if (waited) return status.converged ? EXIT.ok : EXIT.notConverged;
  return status.converged || status.progressing ? EXIT.ok : EXIT.notConverged;
}

async function status(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const [{ readSource }, { readStatus }, { statusFileText }, { renderStatusText }] = await Promise.all([
    import('../reconcile.js'),
    import('../status/read.js'),
    import('../report/status-json.js'),
    import('../report/status-text.js'),
  ]);
  const src = await readSource(opts);
  const branch = src.desired.config.statusBranch;
  const head = await src.repo.resolve(branch);
  const doc = head ? await readStatus(src.repo, head, src.statusName) : null;
  if (!doc)
    throw new TerminalError(
      `no status for host ${opts.host} on branch ${branch} yet; run gitfleet apply --repo ${opts.repo}`,
    );
  io.stdout(opts.json ? statusFileText(doc) : renderStatusText(doc));
  return doc.converged || doc.progressing ? EXIT.ok : EXIT.notConverged;
}
