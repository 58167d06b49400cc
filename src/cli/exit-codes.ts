// gitfleet's exit codes, in one leaf module: main.ts maps errors to them and
// each command returns them, so no command needs to import main.ts.

export const EXIT = {
  ok: 0,
  /** An error, or (plan, apply, validate) an invalid desired-state file. */
  error: 1,
  /** plan: actions or deferred actions, something differs. */
  changes: 2,
  /** apply, status: the fleet did not converge. */
  notConverged: 3,
  /** agent send --verify / agent reset: the agent did not take the message. */
  notAccepted: 4,
  usage: 64,
} as const;

/** What each code means, for `--help`: said here once, next to the codes. */
const MEANING: Record<keyof typeof EXIT, string> = {
  ok: 'ok',
  error: 'error, or an invalid desired-state file',
  changes: 'plan has actions or deferred actions',
  notConverged: 'applied but not converged',
  notAccepted: 'message not accepted (agent send --verify, agent reset)',
  usage: 'usage',
};

/** The exit-code legend of `gitfleet --help`. */
export const EXIT_HELP = `Exit codes:\n${Object.entries(EXIT)
  .map(([k, code]) => `  ${String(code).padEnd(3)} ${MEANING[k as keyof typeof EXIT]}`)
  .join('\n')}`;
