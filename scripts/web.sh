#!/bin/sh
# The web process: gunicorn serving Dunmore. The image runs it (Dockerfile CMD) and so does
# `make prod-smoke`, so the smoke test serves exactly as production does. WEB_BIND is where
# it listens (default: port 8000 on every interface, the container's); gunicorn reads the
# number of worker processes from WEB_CONCURRENCY and whose X-Forwarded-* headers to trust
# from FORWARDED_ALLOW_IPS.
set -eu
exec gunicorn collections_app.wsgi:application --bind "${WEB_BIND:-0.0.0.0:8000}" \
    --access-logfile - --timeout 60
