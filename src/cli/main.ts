// Command dispatch and the one place where outcomes become exit codes.
// Each command's modules are imported when it is chosen (dynamic import(), a chunk of its own in the bundle):
// --version and --help load nearly nothing, and agent-start does not load git, YAML or ajv.
import { formatProblem, GitfleetError, UsageError } from '../errors.js';
import { isRemoteRepo, parseRemoteUrl } from '../git/remote-url.js';
import { HELP } from './help.js';
import { parseCommandLine, type GlobalOptions } from './options.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import { mappedStack } from './mapped-stack.js';
import { version } from './version.js';

type Handler = (opts: GlobalOptions, positionals: string[], io: Io) => Promise<number>;

/** Each command's handler, loaded on demand. */
const COMMANDS: Record<string, () => Promise<Handler>> = {
  validate: async () => validate,
  plan: async () => plan,
  apply: async () => apply,
  status: async () => status,
  install: async () => (await import('./install.js')).install,
  uninstall: async () => (await import('./install.js')).uninstall,
  heartbeat: async () => (await import('./heartbeat.js')).heartbeat,
  ps: async () => (await import('./ps.js')).ps,
  'agent-start': async () => (await import('./agent-start.js')).agentStartCommand,
  agent: async () => (await import('./agent.js')).agent,
};

/** Commands that take arguments; the others refuse any. */
const TAKES_ARGUMENTS = new Set(['agent-start', 'agent']);

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const { command, positionals, opts } = parseCommandLine(argv, io.env);
    if (opts.version) {
      io.stdout(`gitfleet ${version()}\n`);
      return EXIT.ok;
    }
    if (!command || command === 'help') {
      const topic = command === 'help' ? positionals.join(' ') : '';
      if (!(topic in HELP))
        throw new UsageError(`no help for "${topic}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
      (opts.help || command === 'help' ? io.stdout : io.stderr)(`${HELP[topic]}\n`);
      return opts.help || command === 'help' ? EXIT.ok : EXIT.usage;
    }
    const load = COMMANDS[command];
    if (!load) throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    // A remote --repo is checked before anything runs (credentials in it, plain http); the opt-in is said aloud.
    const warning = isRemoteRepo(opts.repo) ? parseRemoteUrl(opts.repo, opts.remote).warning : null;
    if (warning && !opts.help) io.stderr(`gitfleet: ${warning}\n`);
    if (opts.help) {
      io.stdout(`${HELP[`${command} ${positionals[0]}`] ?? HELP[command]}\n`);
      return EXIT.ok;
    }
    if (positionals.length > 0 && !TAKES_ARGUMENTS.has(command))
      throw new UsageError(
        `${command} takes no arguments (got ${positionals.join(' ')}); see gitfleet ${command} --help`,
      );
    return await (await load())(opts, positionals, io);
  } catch (e) {
    return fail(e, io);
  }
}

function fail(e: unknown, io: Io): number {
  if (e instanceof UsageError) {
    io.stderr(`gitfleet: ${e.message}\n`);
    return EXIT.usage;
  }
  if (e instanceof GitfleetError) {
    io.stderr(`gitfleet: ${e.message}\n`);
    return EXIT.error;
  }
  io.stderr(`gitfleet: internal error: ${e instanceof Error ? mappedStack(e.stack ?? e.message) : String(e)}\n`);
  return EXIT.error;
}

async function validate(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const [{ readSource }, { byPosition }] = await Promise.all([import('../reconcile.js'), import('../desired/load.js')]);
  const src = await readSource(opts);
  const { problems, files, notes } = src.desired;
  if (opts.json) {
    io.stdout(
      `${JSON.stringify(
        {
          valid: problems.length === 0,
          revision: src.head,
          files: files.map((f) => ({ path: f.path, valid: f.valid })),
          problems,
          notes,
        },
        null,
        2,
      )}\n`,
    );
  } else if (problems.length === 0) {
    const agents = src.desired.rosters.reduce((n, r) => n + r.agents.length, 0);
    const rosters = src.desired.rosters.length;
    io.stdout(`valid: ${files.length} files, ${rosters} rosters, ${agents} agents at ${src.head.slice(0, 12)}\n`);
  } else {
    // Notes (rules that could not run on a broken file) read after that file's problems.
    for (const p of [...problems, ...notes].sort(byPosition)) io.stdout(`${formatProblem(p)}\n`);
    const plural = problems.length === 1 ? '' : 's';
    const inFiles = new Set(problems.map((p) => p.file)).size;
    io.stdout(`invalid: ${problems.length} problem${plural} in ${inFiles} file(s) at ${src.head.slice(0, 12)}\n`);
  }
  return problems.length === 0 ? EXIT.ok : EXIT.error;
}

async function plan(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const [{ reconcile }, { reconcileOptions }, { renderPlanJson }, { renderPlan }] = await Promise.all([
    import('../reconcile.js'),
    import('./settings.js'),
    import('../report/plan-json.js'),
    import('../report/plan-text.js'),
  ]);
  const { plan } = await reconcile(reconcileOptions(opts, io), 'plan');
  io.stdout(opts.json ? `${JSON.stringify(renderPlanJson(plan), null, 2)}\n` : renderPlan(plan));
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
    { renderStatusText },
  ] = await Promise.all([
    import('../reconcile.js'),
    import('./settings.js'),
    import('../lock.js'),
    import('../report/apply-json.js'),
    import('../report/plan-text.js'),
    import('../report/status-text.js'),
  ]);
  // Before pinned.json is written there: a state dir that is a file is said plainly.
  await ensureStateDir(opts.stateDir);
  const r = await reconcile(reconcileOptions(opts, io, true), 'apply');
  const status = r.status!;
  if (opts.json) {
    io.stdout(`${JSON.stringify(renderApplyJson({ ...r, status }), null, 2)}\n`);
  } else {
    io.stdout(renderPlan(r.plan));
    for (const res of r.results)
      io.stdout(
        `${res.ok ? 'ok    ' : 'FAILED'} ${res.action.kind} ${res.action.target}${res.error ? `: ${res.error}` : ''}\n`,
      );
    io.stdout(renderStatusText(status));
    io.stdout(
      r.commit
        ? `Committed status ${r.commit.slice(0, 12)} to ${r.desired.config.statusBranch}.\n`
        : 'Status unchanged: no commit.\n',
    );
  }
  // An invalid committed file is an error a person must fix, even though apply ran on last-known-good specs.
  if (r.desired.problems.length > 0) return EXIT.error;
  return status.converged ? EXIT.ok : EXIT.notConverged;
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
  const doc = head ? await readStatus(src.repo, head, opts.host) : null;
  if (!doc) {
    io.stderr(
      `gitfleet: no status for host ${opts.host} on branch ${branch} yet; run gitfleet apply --repo ${opts.repo}\n`,
    );
    return EXIT.error;
  }
  io.stdout(opts.json ? statusFileText(doc) : renderStatusText(doc));
  return doc.converged ? EXIT.ok : EXIT.notConverged;
}
