#!/usr/bin/env bash
# The production stack as a test (`make prod-smoke`, also run by CI): what docker-compose.yml
# starts, started natively with the image's settings and commands.
#
#   db       a fresh PostgreSQL database on PG_SERVER, dropped at the end
#   redis    Redis at REDIS_SERVER, under a queue name and cache prefix of this run only
#   migrate  collectstatic (the image's build step), then migrate --noinput
#   web      scripts/web.sh, the image's CMD, behind the documented proxy headers
#   worker   manage.py qcluster on Redis
#
# Then: load the demo, sign in as a browser behind the TLS proxy would, let the scheduled
# dunning run send to a real SMTP server on the loopback, and wait for /healthz to pass every
# check. Every process, the database and the Redis keys are removed on exit, pass or fail;
# a run longer than SMOKE_SECONDS fails.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
LIMIT=${SMOKE_SECONDS:-240}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
REDIS_SERVER=${REDIS_SERVER:-redis://127.0.0.1:6379/0}
# docker-compose.yml's services, each started here (tests/test_prod_files.py compares them).
SERVICES="db redis migrate web worker"
# The database, queue and cache prefix of this run alone: a concurrent run never sees them.
NAME=dunmore_smoke_$$
HOST=smoke.dunmore.test
WORK=$(mktemp -d -t dunmore-smoke.XXXXXX)
HELPER=("$PY" scripts/prod_smoke.py)
ARTIFACTS=test-artifacts/prod-smoke
STEP="starting"
STEP_LOG=
collect=
web=
worker=
smtp=
db_made=

say() { printf '[%3ds] %s\n' "$SECONDS" "$*"; }

# A command in the foreground, stopped when LIMIT is reached.
bounded() {
    local left=$((LIMIT - SECONDS))
    [ "$left" -gt 0 ] || { echo "FAIL: over ${LIMIT}s before: $STEP" >&2; exit 1; }
    timeout "$left" "$@"
}

# A step of its own: $1 what it does, $2 the name of its log, then the command.
step() {
    STEP=$1
    STEP_LOG="$WORK/$2.log"
    shift 2
    say "$STEP"
    bounded "$@" >"$STEP_LOG" 2>&1
}

stop_group() {
    # $1 the leader of a process group of its own. One TERM only: django-q2 can hang for
    # good when a second one arrives while it stops. Whatever is left after 10 s is killed.
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 -- "-$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

show_tail() {
    [ -s "$2" ] || return 0
    printf '\n--- %s (last lines of %s) ---\n' "$1" "$ARTIFACTS/$(basename "$2")" >&2
    tail -n 30 "$2" >&2
}

cleanup() {
    local status=$?
    trap '' INT TERM HUP
    stop_group "$collect"
    stop_group "$web"
    stop_group "$worker"
    stop_group "$smtp"
    if [ "$status" -ne 0 ]; then
        [ "$status" -ne 124 ] || echo "FAIL: over the time limit (SMOKE_SECONDS=$LIMIT)." >&2
        echo "FAIL (exit $status) during: $STEP" >&2
        if [ -n "$STEP_LOG" ] && [ "$STEP_LOG" != "$WORK/web.log" ]; then  # shown next
            show_tail "$STEP" "$STEP_LOG"
        fi
        show_tail "web (gunicorn)" "$WORK/web.log"
        show_tail "worker (qcluster)" "$WORK/worker.log"
        rm -rf "$ARTIFACTS"
        mkdir -p "$ARTIFACTS"
        cp "$WORK"/*.log "$ARTIFACTS/" 2>/dev/null || true
    fi
    if [ -n "$db_made" ]; then
        "${HELPER[@]}" dropdb "$NAME" || echo "Could not drop the database $NAME." >&2
    fi
    "${HELPER[@]}" redis-forget "$REDIS_SERVER" "django_q:$NAME:" "$NAME:" 2>/dev/null \
        || echo "Could not remove the Redis keys of $NAME." >&2
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- The environment: the image's (Dockerfile ENV) and compose's, plus this run's peers ----
SMTP_PORT=$("${HELPER[@]}" free-port)
WEB_PORT=$("${HELPER[@]}" free-port)
export DJANGO_SETTINGS_MODULE=collections_app.settings_production
export DEBUG=false
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')
export SECRET_KEY
export ALLOWED_HOSTS=$HOST
export SITE_URL=https://$HOST
export DATABASE_URL=$PG_SERVER/$NAME
export REDIS_URL=$REDIS_SERVER
export Q_NAME=$NAME
export CACHE_KEY_PREFIX=$NAME
export MEDIA_ROOT=$WORK/media
# Collected apart from the checkout's staticfiles/, so CI can run this beside the suites.
export STATIC_ROOT=$WORK/static
export EMAIL_URL=smtp://127.0.0.1:$SMTP_PORT
export DEFAULT_FROM_EMAIL=collections@$HOST
export FORWARDED_ALLOW_IPS="*"
export WEB_CONCURRENCY=3
export PYTHONUNBUFFERED=1
# The image finds gunicorn on its PATH; here it is the virtualenv's.
PATH="$(cd "$(dirname "$PY")" && pwd):$PATH"
export PATH
# The settings also read a .env in the project folder, for what is not set here: pin what
# this test relies on (mail through EMAIL_URL, no mailbox polled, HTTPS redirect and HSTS).
export ESP= INBOX_IMAP_URL= SECURE_SSL_REDIRECT=true SECURE_HSTS_SECONDS=31536000 PROXY_COUNT=1

# --- The peers: a real SMTP server keeping each message it takes, PostgreSQL, Redis ---------
STEP="starting the SMTP server"
set -m  # each background process leads a process group of its own, stopped as a whole
"$PY" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$WORK/mail" \
    >"$WORK/smtp.log" 2>&1 &
smtp=$!
set +m
step "db: creating the database $NAME" createdb "${HELPER[@]}" createdb "$NAME"
db_made=1
step "redis: checking $REDIS_SERVER" redis "${HELPER[@]}" redis-forget "$REDIS_SERVER"

# --- migrate: the image's build step, then the migrate service ------------------------------
# collectstatic needs no database: it runs beside the next steps (it is the slowest, as it
# compresses every file), and web starts once it is done.
say "migrate: collectstatic, as the image is built (beside the next steps)"
set -m
"$PY" manage.py collectstatic --noinput --verbosity 0 >"$WORK/collectstatic.log" 2>&1 &
collect=$!
set +m
step "migrate: migrate --noinput" migrate "$PY" manage.py migrate --noinput

step "Loading the demo (seed_demo)" seed "$PY" manage.py seed_demo
sed -n '/Demo logins/,$p' "$WORK/seed.log"
# "    Collector  colin / dunmore-colin": the first collector's login.
LOGIN_USER=$(awk 'tolower($1) == "collector" {print $2; exit}' "$WORK/seed.log")
LOGIN_PASSWORD=$(awk 'tolower($1) == "collector" {print $4; exit}' "$WORK/seed.log")
[ -n "$LOGIN_USER" ] && [ -n "$LOGIN_PASSWORD" ] || { echo "FAIL: no demo login" >&2; exit 1; }

# The scheduled run sends only inside the organisation's contact hours on business days;
# open them all day, every day (as an admin would, audited), so that it sends whenever this
# runs. Then make the run due: the worker's scheduler hands it out within 30 seconds.
step "Opening the contact hours and making the dunning run due" calendar \
    "$PY" manage.py shell -c '
import datetime as dt
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_q.models import Schedule
from dunning import schedule
from dunning.policy_services import dunning_settings_update

dunning_settings_update(
    actor=get_user_model().objects.get(username="ada"),
    window_start=dt.time(0, 0), window_end=dt.time(23, 59, 59),
    phone_start=dt.time(0, 0), phone_end=dt.time(23, 59, 59),
    business_days="0,1,2,3,4,5,6", holiday_country="",
)
assert Schedule.objects.filter(name=schedule.NAME).update(next_run=timezone.now()) == 1
'

STEP="collectstatic"
STEP_LOG="$WORK/collectstatic.log"
while kill -0 "$collect" 2>/dev/null; do
    [ "$SECONDS" -lt "$LIMIT" ] || { echo "FAIL: collectstatic did not finish" >&2; exit 1; }
    sleep 0.5
done
wait "$collect"  # its exit status: set -e stops here if it failed
collect=

STEP="waiting for the SMTP server"
STEP_LOG="$WORK/smtp.log"
until (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null; do
    kill -0 "$smtp" 2>/dev/null || { echo "FAIL: the SMTP server stopped" >&2; exit 1; }
    [ "$SECONDS" -lt "$LIMIT" ] || { echo "FAIL: the SMTP server did not listen" >&2; exit 1; }
    sleep 0.2
done

# --- web and worker, as the image runs them -------------------------------------------------
STEP="starting web and worker"
say "web: scripts/web.sh on 127.0.0.1:$WEB_PORT; worker: nice -n 10 manage.py qcluster"
set -m
# gunicorn keeps its control socket in $HOME/.gunicorn: the image's user has a home of its
# own, and so does this run's gunicorn, apart from any other on this machine.
HOME=$WORK WEB_BIND="127.0.0.1:$WEB_PORT" scripts/web.sh >"$WORK/web.log" 2>&1 &
web=$!
nice -n 10 "$PY" manage.py qcluster >"$WORK/worker.log" 2>&1 &
worker=$!
set +m
STEP_LOG="$WORK/web.log"
BASE=http://127.0.0.1:$WEB_PORT
until "$PY" scripts/healthcheck.py "$BASE/healthz" 2>/dev/null; do
    kill -0 "$web" 2>/dev/null || { echo "FAIL: gunicorn stopped" >&2; exit 1; }
    kill -0 "$worker" 2>/dev/null || { echo "FAIL: the worker stopped" >&2; exit 1; }
    [ "$SECONDS" -lt "$LIMIT" ] || { echo "FAIL: gunicorn did not answer" >&2; exit 1; }
    sleep 0.5
done
say "web answers; the compose health check (scripts/healthcheck.py) passes"

STEP="signing in through the proxy headers"
say "$STEP"
bounded "${HELPER[@]}" web "$BASE" "$HOST" "$LOGIN_USER" "$LOGIN_PASSWORD"

STEP="waiting for the scheduled run and /healthz"
say "$STEP"
bounded "${HELPER[@]}" healthz "$BASE" "$HOST" "$((LIMIT - SECONDS))"

STEP="counting the mail"
STEP_LOG="$WORK/count.log"
received=$(find "$WORK/mail/new" -type f | wc -l)
sent=$(bounded "$PY" manage.py shell --verbosity 0 -c '
from dunning.models import Channel, Touch, TouchStatus
print(Touch.objects.filter(channel=Channel.EMAIL, status=TouchStatus.SENT).count())
' 2>"$STEP_LOG")
say "the SMTP server received $received messages; the app recorded $sent emails sent"
if ! [[ "$sent" =~ ^[0-9]+$ ]] || [ "$received" -lt 1 ] || [ "$received" -ne "$sent" ]; then
    echo "FAIL: the run's emails and the SMTP server's messages differ" >&2
    exit 1
fi

echo "prod-smoke passed in ${SECONDS}s: $SERVICES up; signed in over HTTPS headers;" \
    "the scheduled run sent $received emails by SMTP; /healthz ok"
