import { agentHelp } from './agent-help.js';
import { COMMAND_TABLE, PUBLIC_COMMANDS, summaryList } from './commands.js';
import { EXIT_HELP } from './exit-codes.js';

export const GLOBAL_HELP = `Global options (before or after the command):
  --repo PATH|URL    fleet repository: bare, a .git folder, or a work tree (default: $GITFLEET_REPO or .);
                     or https://host/org/fleet.git, ssh://git@host/org/fleet.git, git@host:org/fleet.git
                     (a private clone in the state dir; status goes to branch gitfleet-status by default)
  --git-token-file F HTTPS token file, mode 0600 (else $GITFLEET_GIT_TOKEN_FILE, or $GITFLEET_GIT_TOKEN)
  --allow-insecure-http  plain http:// to a host that is not loopback (the token travels in clear)
  --branch NAME      branch holding desired state (default: fleet.yaml's branch, else main)
  --host NAME        this host's name in the fleet (default: the short hostname)
  --state-dir DIR    local state and lock (default: $XDG_STATE_HOME/gitfleet)
  --json             machine-readable output; errors too, as {"error": {...}} on stderr
  -q, --quiet        only errors: nothing on stdout (--json documents still),
                     what went wrong on stderr; the exit code says the rest
  -v, --verbose      more detail on stderr: each command run (tmux, systemctl) and,
                     for plan and apply, how long each phase took
  -h, --help         help for a command
Colour only on a terminal; NO_COLOR=1 turns it off, FORCE_COLOR=1 on (NO_COLOR wins).
Remote repositories (environment): GITFLEET_GIT_USERNAME (basic-auth user, default x-access-token),
  GITFLEET_SSH_KEY, GITFLEET_SSH_KNOWN_HOSTS (required for ssh: no trust on first use),
  GITFLEET_GIT_TIMEOUT (seconds per network operation, default 60), GITFLEET_GIT_ATTEMPTS (default 3)`;

export const HELP: Record<string, string> = {
  ...agentHelp(GLOBAL_HELP),
  '': `gitfleet: make a host's agent fleet match the desired state committed in a git repo.

Usage: gitfleet <command> [options]

Commands:
${summaryList(PUBLIC_COMMANDS.map((c) => [c, COMMAND_TABLE[c]]))}

Also: gitfleet --version [--json]; gitfleet help <command>; gitfleet <command> --help.

${GLOBAL_HELP}

${EXIT_HELP}`,
  validate: `Usage: gitfleet validate [--repo PATH] [--branch NAME] [--worktree | FILE...] [--json]

Reads fleet.yaml and rosters/*.yaml at the head of the branch (committed state)
and checks them against the schemas and rules. Prints every problem as
file:line:col: message. Fleet files with uncommitted changes in the work tree
are named in a note on stderr (and under "uncommitted" in --json).

  --worktree         check the files on disk in the work tree instead (untracked
                     new files count, deleted ones are gone), with the same rules
                     and positions: a pre-commit hook runs gitfleet validate --worktree
  FILE...            check these files on disk (relative to the current directory),
                     judged against the rest of the work tree; each must be
                     fleet.yaml or in the rosters folder
Exit 0 valid, 1 invalid, 64 usage.

${GLOBAL_HELP}`,
  plan: `Usage: gitfleet plan [--repo PATH] [--confirm-prune REV] [--json]

Observes tmux on the fleet's sockets and prints what apply would do, without
changing anything. --json prints the plan exactly as apply would execute it.
Exit 0 nothing differs; 2 changes planned, or deferred (a restart waiting for
idle, deletes held); 1 a desired-state file is invalid (the plan shown is what
apply would still do on last-known-good specs) or a socket could not be seen.

${GLOBAL_HELP}`,
  apply: `Usage: gitfleet apply [--repo PATH] [--repin] [--confirm-prune REV] [--wait [--timeout D]] [--json]

Reconciles once: reads the committed desired state, observes tmux (and the
fleet's systemd --user units), plans, applies, and commits status/<host>.json,
status/<host>.md and one evidence file per action to the status branch, only
when something changed. One apply at a time per state dir. Exit 0 converged,
3 applied but not everything is Ready, 1 could not run or a committed file
is invalid (apply still ran on the last valid version of that file).

Starting agents: an agent whose runtime declares heartbeats and whose session
started less than heartbeat_grace ago (default three intervals) without a beat
yet is Progressing (AwaitingFirstHeartbeat), not a failure: when nothing else
is wrong, apply exits 0 and the status says "progressing", so a timer's unit
does not fail each time an agent is added. The next run judges it again.

--wait waits, after applying and committing, until every agent is Ready
(Progressing does not count) or --timeout D is up (default 5m; e.g. 90s, 2m,
1h, or plain seconds), looking again at most once a second (one tmux call per
socket, the heartbeat files). Progress goes to stderr, one line when who is not
Ready changes. When what it saw changed, it reconciles once more and commits
the status as it is then. Exit 0 converged, 3 when the time is up (naming the
agents not Ready) or an action failed. No lock is held while waiting.

Held deletes (PruneHeld): a plan that would delete every agent of a socket,
or more than fleet.yaml reconcile.max_prune allows (a count, or "50%" of the
running agents, the default), deletes nothing until a person confirms that
revision: --confirm-prune REV, or reconcile.confirm_prune: REV in fleet.yaml.
A confirmation holds while the rosters and fleet settings are as at REV.

Supervisor (fleet.yaml \`supervisor: auto | systemd | tmux\`, default auto):
with systemd, every agent session is started and stopped through units that
survive reboots: gitfleet-FLEET-tmux@SOCKET.service runs the socket's tmux
server (restarted by systemd if it dies) and gitfleet-FLEET-agent@SESSION.SOCKET
.service starts one agent from the spec apply last applied (kept in the state
dir). Units are written to $XDG_CONFIG_HOME/systemd/user and enabled; lingering
must be on for them to start at boot (loginctl enable-linger $USER; status says
when it is off). auto uses systemd when \`systemctl --user\` answers, else tmux.

Pinned environment: the first apply records the PATH given to panes, LANG,
TMUX_TMPDIR and the node, gitfleet and tmux programs in STATE_DIR/pinned.json
(mode 0600); every later run (plan, ps, apply from the timer or a shell) uses
those, so unit files, spec files and pane PATHs do not change with the calling
environment. --repin (or deleting the file) takes the current environment
again. A pinned program that no longer exists is taken from now instead.

Secrets: values of flags and env variables with a secret-looking name (TOKEN,
KEY, SECRET, PASSWORD, PASS, CREDENTIAL, AUTH), those a runtime lists under
\`redact:\`, and passwords in URLs are shown as <redacted> in plan output,
evidence, status and messages; every other roster env value is hidden in
evidence too. The agent still gets the real values.

Output: -q prints nothing when the fleet converged, else only the failed
actions, invalid files and the agents not Ready (on stderr: what a timer's
journal or cron's mail should hold); -v adds each phase's time and each
command run (tmux, systemctl) on stderr.

${GLOBAL_HELP}`,
  run: `Usage: gitfleet run [--repo PATH|URL] [--listen ADDR:PORT] [--webhook-secret-file FILE]
                    [--log-format human|json]

The daemon: one per host and tenant (state dir), running until SIGTERM or
SIGINT. It reconciles as apply does:
  start        once at startup
  ref-change   when the desired branch's ref (or packed-refs) changes and the
               desired state (fleet.yaml and the kinds' folders) differs: its
               own status commits never trigger it; a remote --repo (URL):
               when a poll of its heads (GITFLEET_POLL_INTERVAL, default 60s)
               finds the desired branch moved
  schedule     fleet.yaml reconcile.schedule (cron; default every 5 minutes),
               each host at its own fixed offset within the interval
  observe      every reconcile.observe_every (default 15s) it looks at tmux,
               heartbeats and units without a fetch, and reconciles when what
               it sees needs action and changed (a pane died)
  webhook      a verified push webhook (with --listen)
It holds the state dir's lock only while reconciling: gitfleet apply by hand
works while it idles. Lock held, git busy or network errors are retried with
backoff (1s doubling to 5min); other errors wait for the next change or the
schedule. On SIGTERM/SIGINT it finishes the reconcile in progress, releases
its locks and exits 0. One log line per reconcile on standard output: time,
trigger, outcome (ok, not-converged, invalid, transient, terminal, error),
actions, duration.

Options:
  --listen ADDR:PORT   serve POST /webhook, GET /healthz and GET /metrics
                       (Prometheus); ADDR defaults to 127.0.0.1, another than
                       loopback is allowed with a warning; port 0 picks a free one
  --webhook-secret-file FILE
                       the webhook secret (a file only its owner may read):
                       GitHub X-Hub-Signature-256, Gitea/Forgejo X-Gitea-/X-Forgejo-
                       Signature (HMAC-SHA256), GitLab X-Gitlab-Token; anything
                       unverified gets 401 and is logged without its body
  --log-format F       human (default) or json (one JSON object per line)
/healthz is 200 while the last reconcile ran to its end within three schedule
intervals, else 503; its JSON body names the last success.
Exit 0 stopped by a signal, 1 error, 64 usage.

${GLOBAL_HELP}`,
  status: `Usage: gitfleet status [--repo PATH] [--host NAME] [--json]

Shows the status this host last committed (status/<host>.json on the status
branch). Exit 0 converged (or progressing: only agents starting, see apply
--help), 3 not converged, 1 no status.

${GLOBAL_HELP}`,
  install: `Usage: gitfleet install [--repo PATH] [--every INTERVAL] [--name NAME] [--dry-run] [--json]
       gitfleet install --daemon [--repo PATH] [--listen ADDR:PORT] [--webhook-secret-file FILE]
                        [--log-format human|json] [--name NAME] [--dry-run] [--json]

Writes two systemd --user units into $XDG_CONFIG_HOME/systemd/user (default
~/.config/systemd/user) and enables the timer:
  gitfleet-reconcile-NAME.service   runs gitfleet apply --repo PATH once; it fails
                                    (non-zero exit) when the fleet did not converge
  gitfleet-reconcile-NAME.timer     starts it every INTERVAL (Persistent=true)
The units run this node and this gitfleet by absolute path, with your PATH and
TMUX_TMPDIR, --branch and --state-dir. Files are written only when their
content changed, and systemd is reloaded only then: running install again
changes nothing. The user manager runs timers only while you are logged in
unless lingering is on: loginctl enable-linger $USER. When systemd cannot be
reached, install fails (exit 1) and prints the equivalent crontab line, which
appends what each run prints to cron.log in the state dir (kept under 1 MiB).
--repo may be a remote URL: install reads it first (nothing is written when it
cannot), and the units get the URL and the paths and settings to reach it
(GITFLEET_GIT_TOKEN_FILE, GITFLEET_SSH_KEY, GITFLEET_SSH_KNOWN_HOSTS,
NODE_EXTRA_CA_CERTS, timeouts), never a secret: a token only in
GITFLEET_GIT_TOKEN is refused; put it in a file (mode 0600): --git-token-file.

Options:
  --every INTERVAL   how often (default 5min): 1min, 2min, 3min, 4min, 5min, 6min,
                     10min, 12min, 15min, 20min, 30min, 1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h
                     (evenly spaced on the clock; no seconds: cron cannot do them)
  --name NAME        unit name suffix (default: the fleet's name, fleet.yaml fleet:);
                     letters, digits, '_', '.', '-'
  --dry-run          print the files and the crontab line; write and start nothing
  --daemon           instead, gitfleet-run-NAME.service: the daemon (gitfleet run
                     --help), Restart=on-failure; it disables the timer, and
                     passes --listen, --webhook-secret-file and --log-format on
Exit 0 installed (or already), 1 error, 64 usage.

${GLOBAL_HELP}`,
  uninstall: `Usage: gitfleet uninstall [--repo PATH] [--name NAME] [--daemon] [--dry-run] [--json]

Disables and stops the timer install wrote, stops its service (a run in
progress; the agents keep running), removes both files and reloads systemd.
Nothing installed is not an error. Without --name, the units that run --repo
(found by their ExecStart, so a renamed fleet or a deleted repository is no
obstacle), else the fleet's name; --dry-run says what would be removed.
--daemon: the same for the gitfleet run service install --daemon wrote.
Exit 0 done, 1 error, 64 usage.

${GLOBAL_HELP}`,
  heartbeat: `Usage: gitfleet heartbeat [--file PATH] [--status ok|busy] [--pid PID] [--every SECONDS] [--json]

Writes one heartbeat (protocol v1) for an agent runtime that does not write its
own: the line ts=<ISO-8601 now> pid=<PID> status=<ok|busy>, atomically (a temp
file renamed over the old one; the directory is created). gitfleet tells every
pane where its heartbeat goes in GITFLEET_HEARTBEAT_FILE. An agent is healthy
while its heartbeat is at most 3 intervals old (the runtime's heartbeat: interval,
given to the pane as GITFLEET_HEARTBEAT_INTERVAL),
stale when older, unknown without a file; a new session without a beat yet is
only starting (Progressing) for the runtime's heartbeat_grace (default 3 intervals). Prints nothing unless --json.

Options:
  --file PATH        the heartbeat file (default: $GITFLEET_HEARTBEAT_FILE)
  --status STATUS    ok (default) or busy (working on something)
  --pid PID          the process the heartbeat speaks for (default: the process
                     that ran gitfleet heartbeat, i.e. the runtime calling it,
                     or a wrapper that then execs the runtime:
                       gitfleet heartbeat --every 15 & exec my-runtime
                     pass --pid when calling through a shell or npx)
  --every SECONDS    keep writing every SECONDS (at least 0.1; e.g. 15 or 0.5)
                     until SIGTERM or SIGINT (exit 0), or until PID is gone
  --json             print each heartbeat written as one JSON line
Exit 0 written, 1 could not write, 64 usage.`,
  'agent-start': `Usage: gitfleet agent-start [--state-dir DIR] FLEET SESSION.SOCKET

What the agent units of supervisor: systemd run (gitfleet-FLEET-agent@SESSION.SOCKET
.service); people need not run it. Starts the agent's tmux session from the spec
file apply keeps in the state dir, with the same command, environment and tags
apply uses. A session that already runs that spec is adopted, not restarted. It
never starts a tmux server itself: the socket's server unit runs that.
Exit 0 started or adopted, 1 could not start, 64 usage.`,
  completion: `Usage: gitfleet completion bash|zsh|fish

Prints a completion script for the shell: commands, agent verbs, the options
of each command, and agent names (read from the roster when you press Tab).
  bash   source <(gitfleet completion bash)     (e.g. in ~/.bashrc), or save it as
         ~/.local/share/bash-completion/completions/gitfleet
  zsh    source <(gitfleet completion zsh)      (after compinit), or save it as
         _gitfleet in a directory of $fpath
  fish   gitfleet completion fish | source      or save it as
         ~/.config/fish/completions/gitfleet.fish
Exit 0, 64 usage (also for --json: the script is not JSON).`,
  __complete: `Usage: gitfleet __complete agents -- WORDS

Run by the completion scripts (gitfleet completion), not by people: prints
this host's agent names, one a line, from the roster of the repository the
WORDS (what was typed after gitfleet) name with --repo, --branch, --host and
--state-dir. Prints nothing, and exits 0, when there is nothing to read.`,
  ps: `Usage: gitfleet ps [--repo PATH] [--all-hosts] [--json]

One row per roster agent of this host, observed now (read-only: no lock, no
apply, no commit): systemd unit active/enabled (supervisor: systemd), pane
alive or dead, pid, idle time (since the pane last printed), heartbeat health
and age, Ready, and flags:
  drift           the pane runs something else than the roster's runtime
                  (runtimes.<r>.process_names lists the names a runtime may show)
  boot-enable     the unit runs but is not enabled: a reboot would lose the agent
  PendingRestart  the spec changed; update: on-idle/manual holds the restart
  stalled         the roster file is invalid; its last valid version is in force
  disabled        enabled: false
Sessions on the fleet's sockets that the fleet did not start are listed as
unmanaged. --all-hosts adds the agents of the other hosts from their committed
status/<host>.json, marked with the commit that wrote it (HOST@commit), and
lists every reconciler of the repository from its liveness ref
(refs/gitfleet/alive/<host>[@<tenant>]): last seen, its interval, and alive,
STALE (not seen for three intervals) or unknown (a status but no ref).
--json prints every record with tenant_id and host. It costs the same few
processes whatever the fleet size. Exit 0, 1 error.

${GLOBAL_HELP}`,
};
