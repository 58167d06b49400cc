#!/bin/sh
# The field's per-agent status join, the baseline of `npm run bench`
# (bench/bench.mjs): what a script that asks each agent's parts in turn
# costs. For each session given, on the private tmux socket given:
#   tmux -L SOCKET has-session -t =S
#   tmux -L SOCKET display-message -p -t =S: '#{pane_pid}'
#   systemctl --user show <S's gitfleet unit> -p ActiveState   (see below)
#   stat of S's heartbeat file under STATE_DIR
# and one line "session up pane_pid active_state heartbeat_mtime" on stdout.
# Without systemctl or a user manager that answers, the systemctl step is
# skipped for every agent (said once on stderr), so the join is then cheaper.
#
#   usage: baseline-join.sh SOCKET STATE_DIR FLEET SESSION...
set -u
[ $# -ge 3 ] || { echo 'usage: baseline-join.sh SOCKET STATE_DIR FLEET SESSION...' >&2; exit 64; }
sock=$1 state=$2 fleet=$3
shift 3
# Only ever a named socket: never the default tmux server.
[ -n "$sock" ] || { echo 'baseline-join: empty socket name' >&2; exit 64; }
sd=0
if command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1; then
  sd=1
else
  echo 'baseline-join: no systemctl or no systemd user manager: the systemctl step is skipped' >&2
fi
for s in "$@"; do
  if tmux -L "$sock" has-session -t "=$s" 2>/dev/null; then up=yes; else up=no; fi
  pid=$(tmux -L "$sock" display-message -p -t "=$s:" '#{pane_pid}' 2>/dev/null) || pid=-
  active=-
  if [ "$sd" = 1 ]; then
    active=$(systemctl --user show "gitfleet-$fleet-agent@$s.$sock.service" -p ActiveState --value 2>/dev/null) ||
      active=-
  fi
  hb=$(stat -c %Y "$state/run/$fleet/$sock/$s.hb" 2>/dev/null) || hb=-
  printf '%s %s %s %s %s\n' "$s" "$up" "${pid:--}" "${active:--}" "$hb"
done
