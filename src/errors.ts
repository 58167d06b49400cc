// One error convention for all of gitfleet: throw a typed error, and let the
// CLI map it to an exit code in one place (src/cli/main.ts).

/** A problem in a desired-state file, with its position. */
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

export abstract class GitfleetError extends Error {
  abstract readonly kind: 'usage' | 'terminal' | 'transient';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line is wrong: exit 64 (EX_USAGE). */
export class UsageError extends GitfleetError {
  readonly kind = 'usage';
}

/** Retrying will not help until a person changes something. */
export class TerminalError extends GitfleetError {
  readonly kind = 'terminal';
}

/** May succeed on the next run (lock held, tmux busy, ref moved). */
export class TransientError extends GitfleetError {
  readonly kind = 'transient';
}

/** Desired state did not validate; carries every problem found. */
export class ValidationError extends TerminalError {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
