// What the remote side of a fleet repository offers gitfleet, whatever the
// protocol: list the heads (one cheap request), fetch one branch, push one
// branch. HTTP(S) is git/http-transport.ts, ssh is git/ssh.ts. Failures are
// typed: TransientError (retried with backoff), TerminalError, or a push
// outcome the caller acts on (re-derive on the moved head, or name
// status.branch when the branch is protected).

export type PushOutcome =
  | { ok: true }
  | { ok: false; reason: 'moved'; detail: string }
  | { ok: false; reason: 'protected'; detail: string };

export interface Transport {
  /** The URL without credentials, for messages. */
  readonly label: string;
  /** branch name → commit, for every branch of the remote (one request). */
  listHeads(): Promise<Map<string, string>>;
  /** Fetch one branch into the private clone; resolves to its head once all its objects are stored. */
  fetchBranch(branch: string): Promise<string>;
  /** Push `oid` to `branch` (never forced: the server refuses it unless it fast-forwards). */
  push(branch: string, oid: string): Promise<PushOutcome>;
}

/** Words in a server's or git's answer that mean the branch is protected (or a hook refused the push). */
export const PROTECTED = /protected branch|hook declined|pre-receive|denied to update|not allowed to push/i;
/** Words that mean the remote head moved since it was read: fetch, re-derive, push again. */
export const MOVED =
  /fetch first|non-fast-forward|not-fast-forward|stale info|failed to lock|cannot lock ref|failed to update ref/i;
