#!/bin/sh
# The web process: gunicorn serving Dunmore. The image runs it (Dockerfile CMD) and so does
# `make prod-smoke`, so the smoke test serves exactly as production does. WEB_BIND is where
# it listens (default: port 8000 on every interface, the container's); gunicorn reads the
# number of worker processes from WEB_CONCURRENCY and whose X-Forwarded-* headers to trust
# from FORWARDED_ALLOW_IPS.
set -eu
# Each web process keeps a pool of database connections (DB_POOL) rather than opening one per
# request: under load (bench load, 50 people on 2 cores) that took the median from 450 to
# 270 ms. The worker opens its own as it needs them.
export DB_POOL="${DB_POOL:-true}"
exec gunicorn collections_app.wsgi:application --bind "${WEB_BIND:-0.0.0.0:8000}" \
    --access-logfile - --timeout 60
