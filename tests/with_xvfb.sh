#!/usr/bin/env bash
# Runs a command under a private Xvfb server. Xvfb picks a free display itself and reports it
# once it is ready (-displayfd), so parallel runs never race for a display number. -noreset
# keeps the server from restarting between two clients (a client connecting during the
# restart fails to open the display).
set -euo pipefail
fifo=$(mktemp -u /tmp/rlcade_xvfb.XXXXXX)
mkfifo "$fifo"
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset 3>"$fifo" 2>/dev/null &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null; rm -f "$fifo"' EXIT
if ! read -r -t 20 display <"$fifo"; then
  echo "with_xvfb.sh: Xvfb did not start within 20 s" >&2
  exit 1
fi
DISPLAY=":$display" "$@"
