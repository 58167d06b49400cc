// Help for `gitfleet agent` and each of its verbs (help.ts adds them to HELP).
import { AGENT_VERBS, summaryList } from './commands.js';

export function agentHelp(globalHelp: string): Record<string, string> {
  return {
    agent: `Usage: gitfleet agent <verb> <name> [options]

The operator's verbs for one agent of the roster (names as in rosters/*.yaml,
read at the head of the branch). Verbs that touch a session act only on one
gitfleet created for this fleet and agent.

Verbs:
${summaryList(Object.entries(AGENT_VERBS))}

See gitfleet agent <verb> --help.
Exit codes: 0 ok, 1 error, 4 message not accepted (send --verify, reset), 64 usage.

${globalHelp}`,
    'agent watch': `Usage: gitfleet agent watch <name>

Shows the agent's pane in this terminal, read-only: keys you type do not reach
the agent (only detach works: prefix d), and the agent's window keeps its size
whatever the size of your terminal (a smaller terminal shows part of it). It
attaches a throw-away session grouped with the agent's, removed when you
detach. Needs a terminal. To type into the pane, use gitfleet agent attach.
Exit 0 after you detach, 1 error, 64 usage.

${globalHelp}`,
    'agent attach': `Usage: gitfleet agent attach <name>

Takes over the agent's session: attaches this terminal to it, so what you type
goes to the agent and the window takes your terminal's size. Detach with
prefix d. Needs a terminal (refused when stdin is not one). For a look that
cannot disturb the agent, use gitfleet agent watch.
Exit 0 after you detach, 1 error, 64 usage.

${globalHelp}`,
    'agent send':
      'Usage: gitfleet agent send <name> [--message TEXT | --file PATH] [--verify [--timeout SECONDS]] ' +
      `[--from LABEL | --raw] [--json]

Sends a message into the agent's input line as a bracketed paste, waits for it
to show (up to 1.5 s), then presses Enter. The message is the text of
--message, of --file (- for stdin), or stdin when piped; trailing newlines
are dropped, control characters refused. It starts with a source label:
  [<host>:operator -> <name>] <message>

Options:
  --message TEXT     the message
  --file PATH        read the message from PATH (- for stdin)
  --from LABEL       label the message [LABEL -> <name>] instead
  --raw              no label: send the text as it is
  --verify           watch the pane until it shows the agent took the message:
                     the message is no longer in the input line and the screen
                     changed beyond its echo (a reply, a new prompt, an emptied
                     input line). Fails (exit 4) when the message is left as a
                     draft in the input line, or when nothing visible follows
                     Enter, a blank screen included
  --timeout SECONDS  how long --verify waits (default 10; e.g. 2.5 or 500ms)
  --json             print the result as JSON
Exit 0 sent (with --verify: accepted), 4 not accepted, 1 error, 64 usage.

${globalHelp}`,
    'agent reset': `Usage: gitfleet agent reset <name> [--timeout SECONDS] [--json]

Gives the agent a fresh context. When its runtime has a reset_command (e.g.
/clear), sends it without a label and verifies it like send --verify; when it
has none, restarts the agent's session as apply would (kill it and create it
again from the roster's spec; the log continues). Says which it did.

Options:
  --timeout SECONDS  how long to wait for the reset command to be taken (default 10)
  --json             print the result as JSON
Exit 0 reset, 4 the reset command was not accepted, 1 error, 64 usage.

${globalHelp}`,
    'agent logs': `Usage: gitfleet agent logs <name> [-n N] [--json]

Prints the last N lines (default 50) the agent's pane printed, from the log
tmux keeps for it under the state dir (logs/<fleet>/<socket>/<session>.log).
The log keeps what full-screen programs clear off the screen; escape sequences
are removed. Says so when there is no log yet (exit 0).

Options:
  -n, --lines N      how many lines (default 50)
  --json             {agent, log, exists, lines}
Exit 0, 1 error, 64 usage.

${globalHelp}`,
  };
}
