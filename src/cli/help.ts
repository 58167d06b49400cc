import { agentHelp } from './agent-help.js';
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
  --json             machine-readable output
  -h, --help         help for a command
Remote repositories (environment): GITFLEET_GIT_USERNAME (basic-auth user, default x-access-token),
  GITFLEET_SSH_KEY, GITFLEET_SSH_KNOWN_HOSTS (required for ssh: no trust on first use),
  GITFLEET_GIT_TIMEOUT (seconds per network operation, default 60), GITFLEET_GIT_ATTEMPTS (default 3)`;

export const HELP: Record<string, string> = {
  ...agentHelp(GLOBAL_HELP),
  '': `gitfleet: make a host's agent fleet match the desired state committed in a git repo.

Usage: gitfleet <command> [options]

Commands:
  validate   check the committed desired state; every error with file:line:col
  plan       show what apply would do (exit 0 no changes, 2 changes or deferred, 1 invalid file or error)
  apply      reconcile once and commit status back (exit 0 converged, 3 not yet, 1 invalid file or error)
  status     show this host's committed status
  ps         the fleet table, observed now: tmux, systemd, process, idle time, heartbeat, flags
  install    run apply from a systemd --user timer (or print the crontab line)
  uninstall  remove the timer and service install wrote
  agent      one agent: watch (read-only), attach, send, reset, logs
  heartbeat  write an agent's heartbeat file (for runtimes and wrappers)

${GLOBAL_HELP}

${EXIT_HELP}`,
  validate: `Usage: gitfleet validate [--repo PATH] [--branch NAME] [--json]

Reads fleet.yaml and rosters/*.yaml at the head of the branch (committed state,
never the work tree) and checks them against the schemas and rules. Prints every
problem as file:line:col: message. Exit 0 valid, 1 invalid.

${GLOBAL_HELP}`,
  plan: `Usage: gitfleet plan [--repo PATH] [--confirm-prune REV] [--json]

Observes tmux on the fleet's sockets and prints what apply would do, without
changing anything. --json prints the plan exactly as apply would execute it.
Exit 0 nothing differs; 2 changes planned, or deferred (a restart waiting for
idle, deletes held); 1 a desired-state file is invalid (the plan shown is what
apply would still do on last-known-good specs) or a socket could not be seen.

${GLOBAL_HELP}`,
  apply: `Usage: gitfleet apply [--repo PATH] [--repin] [--confirm-prune REV] [--json]

Reconciles once: reads the committed desired state, observes tmux (and the
fleet's systemd --user units), plans, applies, and commits status/<host>.json,
status/<host>.md and one evidence file per action to the status branch, only
when something changed. One apply at a time per state dir. Exit 0 converged,
3 applied but not everything is Ready, 1 could not run or a committed file
is invalid (apply still ran on the last valid version of that file).

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

${GLOBAL_HELP}`,
  status: `Usage: gitfleet status [--repo PATH] [--host NAME] [--json]

Shows the status this host last committed (status/<host>.json on the status
branch). Exit 0 converged, 3 not converged, 1 no status.

${GLOBAL_HELP}`,
  install: `Usage: gitfleet install [--repo PATH] [--every INTERVAL] [--name NAME] [--dry-run] [--json]

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
reached, install fails (exit 1) and prints the equivalent crontab line.

Options:
  --every INTERVAL   how often (default 5min): 1min, 2min, 3min, 4min, 5min, 6min,
                     10min, 12min, 15min, 20min, 30min, 1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h
                     (evenly spaced on the clock; no seconds: cron cannot do them)
  --name NAME        unit name suffix (default: the repository's directory name
                     without .git); letters, digits, '_', '.', '-'
  --dry-run          print the files and the crontab line; write and start nothing
Exit 0 installed (or already), 1 error, 64 usage.

${GLOBAL_HELP}`,
  uninstall: `Usage: gitfleet uninstall [--repo PATH] [--name NAME] [--dry-run] [--json]

Disables and stops the timer install wrote, stops its service (a run in
progress; the agents keep running), removes both files and reloads systemd.
Nothing installed is not an error. --name as given to install; --dry-run says
what would be removed. Exit 0 done, 1 error, 64 usage.

${GLOBAL_HELP}`,
  heartbeat: `Usage: gitfleet heartbeat [--file PATH] [--status ok|busy] [--pid PID] [--every SECONDS] [--json]

Writes one heartbeat (protocol v1) for an agent runtime that does not write its
own: the line ts=<ISO-8601 now> pid=<PID> status=<ok|busy>, atomically (a temp
file renamed over the old one; the directory is created). gitfleet tells every
pane where its heartbeat goes in GITFLEET_HEARTBEAT_FILE. An agent is healthy
while its heartbeat is at most 3 intervals old (the runtime's heartbeat: interval,
given to the pane as GITFLEET_HEARTBEAT_INTERVAL),
stale when older, unknown without a file. Prints nothing unless --json.

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
status/<host>.json, marked with the commit that wrote it (HOST@commit).
--json prints every record with tenant_id and host. It costs the same few
processes whatever the fleet size. Exit 0, 1 error.

${GLOBAL_HELP}`,
};
