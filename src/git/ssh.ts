// The remote over ssh, with the system git and ssh. Host keys come only from
// the known_hosts file the operator names (GITFLEET_SSH_KNOWN_HOSTS): never
// trust on first use, never the user's or the system's files, never a
// prompt. Each git process has the operation's timeout (exec.ts kills its
// whole process group, ssh included).
import { stat } from 'node:fs/promises';
import { TerminalError, TransientError, UsageError } from '../errors.js';
import { run } from '../exec.js';
import type { RemoteSettings } from './remote-settings.js';
import { ALIVE_PREFIX } from '../status/liveness.js';
import { MOVED, PROTECTED, type PushOutcome, type RemoteRefs, sortRefs, type Transport } from './transport.js';

/** Quoted for the shell git runs GIT_SSH_COMMAND with. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The environment git runs ssh with; refuses, before any connection, a missing known_hosts. */
export async function sshEnv(s: RemoteSettings, host: string): Promise<Record<string, string>> {
  if (!s.knownHosts)
    throw new UsageError(
      `ssh to ${host} needs GITFLEET_SSH_KNOWN_HOSTS: a known_hosts file holding ${host}'s host key. ` +
        'gitfleet never trusts a host key on first use; get it from the forge (or ssh-keyscan, then check ' +
        'its fingerprint) and name the file',
    );
  if (!(await stat(s.knownHosts).catch(() => null))?.isFile())
    throw new TerminalError(`GITFLEET_SSH_KNOWN_HOSTS=${s.knownHosts}: no such file`);
  if (s.sshKey && !(await stat(s.sshKey).catch(() => null))?.isFile())
    throw new TerminalError(`GITFLEET_SSH_KEY=${s.sshKey}: no such file`);
  const opts = [
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${q(s.knownHosts)}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o IdentitiesOnly=yes',
    '-o BatchMode=yes',
    `-o ConnectTimeout=${Math.max(1, Math.ceil(s.timeoutMs / 1000))}`,
    ...(s.sshKey ? [`-i ${q(s.sshKey)}`] : []),
  ];
  return {
    GIT_SSH_COMMAND: `ssh ${opts.join(' ')}`,
    GIT_SSH_VARIANT: 'ssh',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
  };
}

const TRANSIENT = new RegExp(
  [
    'connection refused',
    'connection reset',
    'connection timed out',
    'operation timed out',
    'broken pipe',
    'connection closed',
    'kex_exchange_identification',
    'early eof',
    'unexpected disconnect',
    'the remote end hung up unexpectedly',
    'no route to host',
  ].join('|'),
  'i',
);

export class SshTransport implements Transport {
  constructor(
    readonly label: string,
    private readonly gitdir: string,
    private readonly env: Record<string, string>,
    private readonly timeoutMs: number,
  ) {}

  private async git(what: string, args: string[]) {
    const r = await run(['git', '-c', 'gc.auto=0', '--git-dir', this.gitdir, ...args], {
      env: this.env,
      timeoutMs: this.timeoutMs,
    });
    if (r.timedOut) throw new TransientError(`${what} ${this.label}: timed out after ${this.timeoutMs / 1000} s`);
    return r;
  }

  async listRefs(): Promise<RemoteRefs> {
    const what = 'reading the branch heads of';
    const r = await this.git(what, ['ls-remote', this.label, 'refs/heads/*', `${ALIVE_PREFIX}*`]);
    if (r.exitCode !== 0) throw this.failure(what, r.stderr);
    const refs: { ref: string; oid: string }[] = [];
    for (const line of r.stdout.split('\n')) {
      const m = /^([0-9a-f]{40})\t(refs\/.+)$/.exec(line);
      if (m) refs.push({ ref: m[2]!, oid: m[1]! });
    }
    return sortRefs(refs, ALIVE_PREFIX);
  }

  async fetchRefs(refs: readonly string[]): Promise<void> {
    if (refs.length === 0) return;
    const what = 'fetching liveness refs from';
    // One connection for all; git moves each ref only once the pack is whole.
    const r = await this.git(what, ['fetch', '--no-tags', '--quiet', this.label, ...refs.map((x) => `+${x}:${x}`)]);
    if (r.exitCode !== 0) throw this.failure(what, r.stderr);
  }

  async forcePush(ref: string, oid: string): Promise<PushOutcome> {
    const what = `pushing ${ref} to`;
    const r = await this.git(what, ['push', '--porcelain', '--quiet', this.label, `+${oid}:${ref}`]);
    if (r.exitCode === 0) return { ok: true };
    const line = r.stdout.split('\n').find((l) => l.startsWith('!')) ?? '';
    const detail = (line.split('\t')[2] ?? r.stderr.trim().split('\n').pop() ?? '').trim();
    if (line) return { ok: false, reason: 'protected', detail };
    throw this.failure(what, r.stderr);
  }

  async fetchBranch(branch: string): Promise<string> {
    const what = `fetching branch ${branch} from`;
    const ref = `refs/remotes/origin/${branch}`;
    const r = await this.git(what, ['fetch', '--no-tags', '--quiet', this.label, `+refs/heads/${branch}:${ref}`]);
    if (r.exitCode !== 0) throw this.failure(what, r.stderr);
    // git moves the ref only once the pack is whole: this is the head fully fetched.
    const head = await this.git(what, ['rev-parse', '--verify', '--quiet', ref]);
    if (head.exitCode !== 0) throw new TerminalError(`${what} ${this.label}: no branch ${branch} there`);
    return head.stdout.trim();
  }

  async push(branch: string, oid: string): Promise<PushOutcome> {
    const what = `pushing branch ${branch} to`;
    const r = await this.git(what, ['push', '--porcelain', '--quiet', this.label, `${oid}:refs/heads/${branch}`]);
    if (r.exitCode === 0) return { ok: true };
    const line = r.stdout.split('\n').find((l) => l.startsWith('!')) ?? '';
    const detail = (line.split('\t')[2] ?? r.stderr.trim().split('\n').pop() ?? '').trim();
    if (PROTECTED.test(detail) || PROTECTED.test(r.stderr)) return { ok: false, reason: 'protected', detail };
    if (MOVED.test(detail)) return { ok: false, reason: 'moved', detail };
    throw this.failure(what, r.stderr);
  }

  private failure(what: string, stderr: string): Error {
    const said = stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const where = `${what} ${this.label}`;
    const text = said.join(' ');
    if (/host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|no .* host key is known/i.test(text))
      return new TerminalError(
        `${where}: the server's host key is not in GITFLEET_SSH_KNOWN_HOSTS (or does not match it); ` +
          'add the key after checking its fingerprint',
      );
    if (/permission denied/i.test(text))
      return new TerminalError(`${where}: ssh refused the key (permission denied); check GITFLEET_SSH_KEY`);
    if (TRANSIENT.test(text)) return new TransientError(`${where}: ${said.find((l) => TRANSIENT.test(l))}`);
    // git's closing advice ("Please make sure you have the correct access rights ...") says less than ssh's line.
    const advice =
      /^(fatal: could not read from remote repository|please make sure you have|and the repository exists)/i;
    return new TerminalError(`${where}: ${said.find((l) => !advice.test(l)) ?? said[0] ?? 'git failed'}`);
  }
}
