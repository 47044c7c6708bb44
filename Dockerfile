# Dunmore for production: gunicorn serves the web app, the same image runs the worker.
# Build:  docker compose build      Run: docker compose up -d      (see README.md)
FROM python:3.11-slim-bookworm

# FORWARDED_ALLOW_IPS: only the reverse proxy in front reaches the container, so gunicorn
# may trust its X-Forwarded-* headers.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=collections_app.settings_production \
    MEDIA_ROOT=/app/media \
    WEB_CONCURRENCY=3 \
    FORWARDED_ALLOW_IPS="*"

# WeasyPrint renders the PDF letters with Pango and HarfBuzz; fontconfig brings a font along.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin dunmore

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['redis']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code stays owned by root: the app user can read it but not change it.
COPY . .

# Static files are collected into the image; the key only satisfies the production settings
# for this one command and is thrown away with the build step.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DATABASE_URL="sqlite:////tmp/build.sqlite3" \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /tmp/build.sqlite3* \
    && mkdir -p /app/media \
    && chown dunmore:dunmore /app/media

USER dunmore
EXPOSE 8000

# gunicorn on port 8000; `make prod-smoke` runs the same script (scripts/prod_smoke.sh).
CMD ["sh", "scripts/web.sh"]
