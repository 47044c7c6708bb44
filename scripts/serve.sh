#!/usr/bin/env bash
# Run the web server and the background worker together, as `make demo` does, and print the
# address and the demo logins once both are up. Their logs and the emails the demo sends go to
# files under var/demo/, so nothing scrolls the logins away. Ctrl-C or a TERM (to this script
# or its whole process group) stops both within a few seconds; so does either of them exiting.
set -euo pipefail

# The demo runs with DEBUG on, as `make demo` sets it: with DEBUG off the settings refuse to
# start without a real SECRET_KEY, and runserver is no production server anyway.
export DEBUG=${DEBUG:-true}
PY=${PY:-.venv/bin/python}
ADDR=${ADDR:-127.0.0.1:8000}
case "$ADDR" in
    *:*) ;;
    *) ADDR="127.0.0.1:$ADDR" ;;  # runserver takes a port alone too
esac
HOST=${ADDR%:*}
PORT=${ADDR##*:}
URL="http://$ADDR/"
# Links in the messages the demo sends point at the address it listens on.
export SITE_URL=${SITE_URL:-http://$ADDR}
# Where the demo's mail and logs go (relative to the project folder, or absolute).
DEMO_DIR=${DEMO_DIR:-var/demo}
MAIL_DIR=$DEMO_DIR/mail
WEB_LOG=$DEMO_DIR/web.log
WORKER_LOG=$DEMO_DIR/worker.log
if [ -z "${EMAIL_URL:-}" ]; then
    export EMAIL_URL="filemail:///$MAIL_DIR"  # the settings read it from the project folder
    MAIL_NOTE="Emails the demo sends are written to $MAIL_DIR/, one file each."
else
    MAIL_NOTE="Emails go out through EMAIL_URL, as set in the environment."
fi
# Seconds the worker may take to finish the task in hand when asked to stop. Then it is
# killed: every task is idempotent and the broker hands an unfinished one out again.
WORKER_GRACE=${WORKER_GRACE:-5}

mkdir -p "$MAIL_DIR"
: >"$WEB_LOG"
: >"$WORKER_LOG"

stop() {
    # Ignored from here on, not reset: make passes a TERM on to this script while the group
    # kill that caused it is still being handled, and it must not cut the stopping short.
    trap '' INT TERM HUP
    trap - EXIT
    if [ -n "${web:-}" ]; then kill -TERM "$web" 2>/dev/null || true; fi
    if [ -n "${worker:-}" ]; then
        # One signal only: django-q2 can hang for good when a second one arrives while it
        # stops. Its main process stops the rest of its group.
        kill -TERM "$worker" 2>/dev/null || true
        for _ in $(seq $((WORKER_GRACE * 10))); do
            kill -0 -- "-$worker" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$worker" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    # Print only after stopping: the terminal or a pipe may already be gone.
    printf '\nStopped the web server and the worker.\n' 2>/dev/null || true
    exit "${1:-0}"
}

failed() {
    # $1 what failed, $2 its log
    {
        printf '\n%s Its last lines (%s):\n\n' "$1" "$2"
        tail -n 25 "$2" | sed 's/^/    /'
    } >&2
    stop 1
}

if ! "$PY" - "$HOST" "$PORT" <<'PYEOF'; then
import socket
import sys

host, port = sys.argv[1].strip("[]"), int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
with socket.socket(family) as probe:
    # As runserver binds: an address in TIME_WAIT is free, one being listened on is not.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as error:
        sys.exit(f"Cannot listen on {host}:{port}: {error.strerror}.")
PYEOF
    echo "Stop what is using it, or choose another address: make demo ADDR=127.0.0.1:8001" >&2
    exit 1
fi
LOGINS=$("$PY" manage.py seed_demo --logins --skip-checks)

# Stopping when asked to is no failure; either process ending on its own is.
trap 'stop 0' INT TERM HUP
trap 'stop 1' EXIT

echo "Starting the web server and the worker…"
# The worker gets a process group of its own, so that a Ctrl-C or a group kill reaches it
# only through stop(), once. It would then outlive a kill -9 of this script: on Linux, the
# kernel sends it a TERM when this script dies.
set -m
"$PY" -c '
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (AttributeError, OSError):
    pass  # not Linux: stop() remains the way out
os.execv(sys.executable, [sys.executable, "manage.py", "qcluster"])
' >"$WORKER_LOG" 2>&1 &
worker=$!
set +m
# No autoreloader: it would leave a second process behind when this script stops the first.
"$PY" manage.py runserver --noreload "$ADDR" >"$WEB_LOG" 2>&1 &
web=$!

web_up=
worker_up=
for _ in $(seq 120); do
    kill -0 "$web" 2>/dev/null || failed "The web server stopped." "$WEB_LOG"
    kill -0 "$worker" 2>/dev/null || failed "The worker stopped." "$WORKER_LOG"
    if [ -z "$worker_up" ] && grep -q "Q Cluster .* running" "$WORKER_LOG"; then
        worker_up=1
    fi
    if [ -z "$web_up" ] && "$PY" - "$URL" 2>/dev/null <<'PYEOF'; then
import sys
import urllib.error
import urllib.request

try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass  # any HTTP answer means the server is up
PYEOF
        web_up=1
    fi
    [ -n "$web_up" ] && [ -n "$worker_up" ] && break
    sleep 0.5
done
[ -n "$web_up" ] || failed "The web server did not answer within a minute." "$WEB_LOG"
[ -n "$worker_up" ] || failed "The worker did not start within a minute." "$WORKER_LOG"

cat <<BANNER

================================================================
  Dunmore is running at $URL

$LOGINS

  $MAIL_NOTE
  Logs: $WEB_LOG (web server) and $WORKER_LOG (worker).
  Press Ctrl-C to stop.
================================================================
BANNER

# Either process ending ends the demo; stop() stops the other one.
set +e
wait -n "$worker" "$web"
echo "The web server or the worker stopped; logs in $DEMO_DIR/." >&2
stop 1
