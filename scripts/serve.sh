#!/usr/bin/env bash
# Run the web server and the background worker together, as `make demo` does.
# Ctrl-C stops both; so does either of them exiting.
set -euo pipefail

# The demo runs with DEBUG on, as `make demo` sets it: with DEBUG off the settings refuse to
# start without a real SECRET_KEY, and runserver is no production server anyway.
export DEBUG=${DEBUG:-true}
PY=${PY:-.venv/bin/python}
ADDR=${ADDR:-127.0.0.1:8000}
URL="http://$ADDR/"

stop() {
    trap - INT TERM EXIT
    if [ -n "${web:-}" ]; then kill -TERM "$web" 2>/dev/null || true; fi
    if [ "$1" = INT ] && [ -n "${worker:-}" ]; then
        # Ctrl-C reached the worker too and it is shutting down: a second signal would
        # interrupt that, so give it a moment first.
        for _ in $(seq 20); do
            kill -0 "$worker" 2>/dev/null || break
            sleep 0.5
        done
    fi
    if [ -n "${worker:-}" ]; then kill -TERM "$worker" 2>/dev/null || true; fi
    # Print only after signalling: the terminal or a pipe may already be gone.
    printf '\nStopped the web server and the worker.\n' 2>/dev/null || true
    wait 2>/dev/null || true
    [ "$1" = EXIT ] || exit 0
}
trap 'stop INT' INT
trap 'stop TERM' TERM
trap 'stop EXIT' EXIT

"$PY" manage.py qcluster &
worker=$!
# No autoreloader: it would leave a second process behind when this script stops the first.
"$PY" manage.py runserver --noreload "$ADDR" &
web=$!

# Print the address once the server answers, so it is not lost among the start-up logs.
for _ in $(seq 60); do
    kill -0 "$web" 2>/dev/null || break
    if "$PY" - "$URL" 2>/dev/null <<'PYEOF'; then
import sys
import urllib.error
import urllib.request

try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass  # any HTTP answer means the server is up
PYEOF
        cat <<BANNER

================================================================
  Dunmore is running at $URL
BANNER
        "$PY" manage.py seed_demo --logins
        cat <<BANNER
  The worker (django-q2) runs alongside. Press Ctrl-C to stop both.
================================================================

BANNER
        break
    fi
    sleep 0.5
done

# Either process ending ends the demo; the trap stops the other one.
wait -n "$worker" "$web"
