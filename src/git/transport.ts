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
  /**
   * One request: branch name → commit for every branch, and the liveness refs (name below
   * `refs/gitfleet/alive/` → commit; status/liveness.ts).
   */
  listRefs(): Promise<RemoteRefs>;
  /** Fetch one branch into the private clone; resolves to its head once all its objects are stored. */
  fetchBranch(branch: string): Promise<string>;
  /** Push `oid` to `branch` (never forced: the server refuses it unless it fast-forwards). */
  push(branch: string, oid: string): Promise<PushOutcome>;
  /** Fetch these full ref names into the clone under the same names (liveness refs: tiny, gitfleet's own). */
  fetchRefs(refs: readonly string[]): Promise<void>;
  /** Set the remote's `ref` to `oid`, forced: a ref only this reconciler writes (its liveness ref). */
  forcePush(ref: string, oid: string): Promise<PushOutcome>;
}

export interface RemoteRefs {
  heads: Map<string, string>;
  alive: Map<string, string>;
}

/** Sorts a remote's ref listing into branches and liveness refs; other refs (tags, forges' own) are left out. */
export function sortRefs(refs: Iterable<{ ref: string; oid: string }>, alivePrefix: string): RemoteRefs {
  const out: RemoteRefs = { heads: new Map(), alive: new Map() };
  for (const { ref, oid } of refs) {
    if (ref.startsWith('refs/heads/')) out.heads.set(ref.slice('refs/heads/'.length), oid);
    else if (ref.startsWith(alivePrefix)) out.alive.set(ref.slice(alivePrefix.length), oid);
  }
  return out;
}

/** Words in a server's or git's answer that mean the branch is protected (or a hook refused the push). */
export const PROTECTED = /protected branch|hook declined|pre-receive|denied to update|not allowed to push/i;
/** Words that mean the remote head moved since it was read: fetch, re-derive, push again. */
export const MOVED =
  /fetch first|non-fast-forward|not-fast-forward|stale info|failed to lock|cannot lock ref|failed to update ref/i;
