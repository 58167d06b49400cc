export const GLOBAL_HELP = `Global options (before or after the command):
  --repo PATH        fleet repository: bare, a .git folder, or a work tree (default: $GITFLEET_REPO or .)
  --branch NAME      branch holding desired state (default: fleet.yaml's branch, else main)
  --host NAME        this host's name in the fleet (default: the short hostname)
  --state-dir DIR    local state and lock (default: $XDG_STATE_HOME/gitfleet)
  --json             machine-readable output
  -h, --help         help for a command`;

export const HELP: Record<string, string> = {
  '': `gitfleet: make a host's agent fleet match the desired state committed in a git repo.

Usage: gitfleet <command> [options]

Commands:
  validate   check the committed desired state; every error with file:line:col
  plan       show what apply would do (exit 0 no changes, 2 changes, 1 error)
  apply      reconcile once and commit status back (exit 0 converged, 3 not yet, 1 error)
  status     show this host's committed status
  install    run apply from a systemd --user timer (or print the crontab line)
  uninstall  remove the timer and service install wrote

${GLOBAL_HELP}

Exit codes: 0 ok, 1 error, 2 plan has changes, 3 applied but not converged, 64 usage.`,
  validate: `Usage: gitfleet validate [--repo PATH] [--branch NAME] [--json]

Reads fleet.yaml and rosters/*.yaml at the head of the branch (committed state,
never the work tree) and checks them against the schemas and rules. Prints every
problem as file:line:col: message. Exit 0 valid, 1 invalid.

${GLOBAL_HELP}`,
  plan: `Usage: gitfleet plan [--repo PATH] [--json]

Observes tmux on the fleet's sockets and prints what apply would do, without
changing anything. --json prints the plan exactly as apply would execute it.
Exit 0 no changes, 2 changes planned, 1 error.

${GLOBAL_HELP}`,
  apply: `Usage: gitfleet apply [--repo PATH] [--json]

Reconciles once: reads the committed desired state, observes tmux, plans,
applies, and commits status/<host>.json, status/<host>.md and one evidence file
per action to the status branch, only when something changed. One apply at a
time per state dir. Exit 0 converged, 3 applied but not everything is Ready,
1 could not run.

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
};
