// `gitfleet agent-start <fleet> <session>.<socket>`: run by the agent units
// gitfleet generates in systemd mode (not by people). Output goes to the journal.
import { agentStart } from '../apply/agent-start.js';
import { UsageError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import type { GlobalOptions } from './options.js';

export async function agentStartCommand(opts: GlobalOptions, positionals: string[], io: Io): Promise<number> {
  if (positionals.length !== 2)
    throw new UsageError('agent-start takes two arguments: <fleet> <session>.<socket> (the agent unit passes them)');
  const [fleet, instance] = positionals as [string, string];
  const r = await agentStart(opts.stateDir, fleet, instance);
  const said = {
    started: 'started',
    adopted: 'already runs its spec: adopted',
    replaced: 'ran another spec or was dead: replaced',
  }[r.outcome];
  io.stdout(
    opts.json
      ? `${JSON.stringify({ fleet, ...r })}\n`
      : `gitfleet: session ${r.session} on socket ${r.socket} ${said}\n`,
  );
  return EXIT.ok;
}
