// The agent's tmux session as it is now, and the rule every verb that
// touches it follows: act only on a session carrying this fleet's tag and
// this agent's name (set by apply), never on one that merely has the name,
// nor on one another tenant's reconciler started (tenants of one Unix user
// share a tmux server; an untagged session is from before tenants were tagged).
import type { PaneContext } from '../apply/tmux.js';
import type { AgentSpec } from '../desired/types.js';
import { otherTenant } from '../fleet-identity.js';
import { TerminalError } from '../errors.js';
import { isNoServer, tmux, windowTarget } from '../tmux/client.js';

export interface LiveSession {
  socket: string;
  session: string;
  pid: number | null;
  dead: boolean;
  width: number;
  height: number;
  /** The spec hash apply tagged the session with. */
  spec: string | null;
}

/** Whose session it must be: the fleet's, and the tenant's when known (@gitfleet-tenant). */
export type Owner = Pick<PaneContext, 'fleet' | 'tenant'>;

const SEP = '\u001f';
const FORMAT = [
  '#{@gitfleet-fleet}',
  '#{@gitfleet-agent}',
  '#{@gitfleet-spec}',
  '#{pane_pid}',
  '#{pane_dead}',
  '#{pane_width}',
  '#{pane_height}',
  '#{@gitfleet-tenant}',
].join(SEP);

export async function ownedSession(agent: AgentSpec, owner: Owner): Promise<LiveSession> {
  const { fleet } = owner;
  const where = `${agent.socket}/${agent.session}`;
  const res = await tmux(agent.socket, [['display-message', '-p', '-t', windowTarget(agent.session), FORMAT]]);
  if (res.exitCode !== 0) {
    const err = res.stderr.trim();
    if (isNoServer(err) || /can't find (session|window|pane)/.test(err)) {
      throw new TerminalError(`agent "${agent.name}" has no session ${where}; gitfleet apply creates it`);
    }
    throw new TerminalError(`cannot look at session ${where}: ${err || `tmux exited ${res.exitCode}`}`);
  }
  const [tagFleet = '', tagAgent = '', spec = '', pid = '', dead = '', w = '', h = '', tagTenant = ''] = res.stdout
    .replace(/\n$/, '')
    .split(SEP);
  if (tagFleet !== fleet || tagAgent !== agent.name) {
    const tags = tagFleet ? `tagged fleet "${tagFleet}", agent "${tagAgent}"` : 'not tagged by gitfleet';
    throw new TerminalError(
      `session ${where} is not agent "${agent.name}" of fleet "${fleet}" (${tags}); refusing to touch it`,
    );
  }
  if (owner.tenant && otherTenant({ tenant: tagTenant || null }, owner.tenant)) {
    throw new TerminalError(
      `session ${where} was started for tenant "${tagTenant}" (you are "${owner.tenant}"); refusing to touch it`,
    );
  }
  return {
    socket: agent.socket,
    session: agent.session,
    pid: pid ? Number(pid) : null,
    dead: dead === '1',
    width: Number(w) || 0,
    height: Number(h) || 0,
    spec: spec || null,
  };
}
