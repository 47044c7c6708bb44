"""Production settings are checked in a fresh interpreter: settings are read once, at start."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "collections_app.settings_production"


def _dotenv_sets(name: str) -> bool:
    path = ROOT / ".env"
    return path.exists() and any(
        line.split("=", 1)[0].strip().removeprefix("export ").strip() == name
        for line in path.read_text().splitlines()
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean.update(DJANGO_SETTINGS_MODULE=PRODUCTION, **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def a_real_key() -> str:
    return secrets.token_urlsafe(64)


def test_production_settings_refuse_debug_on():
    result = manage("check", DEBUG="true", SECRET_KEY=a_real_key())
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


@pytest.mark.skipif(_dotenv_sets("SECRET_KEY"), reason="the local .env sets a SECRET_KEY")
def test_production_settings_refuse_a_missing_secret_key():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_refuse_a_short_secret_key():
    result = manage("check", DEBUG="false", SECRET_KEY="changeme")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="false", SECRET_KEY=a_real_key()
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- no public key with DEBUG off, whatever the settings module -----------------------------

DEVELOPMENT = "collections_app.settings"
NO_DOTENV_KEY = pytest.mark.skipif(
    _dotenv_sets("SECRET_KEY"), reason="the local .env sets a SECRET_KEY"
)


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter, with none of this run's settings in its environment."""
    skip = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in skip}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@NO_DOTENV_KEY
@pytest.mark.parametrize("module", [DEVELOPMENT, PRODUCTION])
def test_settings_with_debug_off_refuse_to_start_without_a_secret_key(module):
    result = python(f"import {module}", DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("module", [DEVELOPMENT, PRODUCTION])
@pytest.mark.parametrize(
    "key", ["insecure-dev-key-change-me", "replace-me-with-the-output-of-the-command-above"]
)
def test_settings_with_debug_off_refuse_the_public_keys(module, key):
    result = python(f"import {module}", DEBUG="false", SECRET_KEY=key)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@NO_DOTENV_KEY
def test_development_settings_with_debug_on_start_on_the_development_key():
    result = python(
        "from collections_app import settings; print(settings.SECRET_KEY)", DEBUG="true"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "insecure-dev-key-change-me"


@NO_DOTENV_KEY
def test_manage_py_with_debug_off_refuses_to_start_without_a_secret_key():
    result = python(
        "import runpy, sys; sys.argv = ['manage.py', 'check']; "
        "runpy.run_path('manage.py', run_name='__main__')",
        DEBUG="false",
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_the_server_entry_points_default_to_production_settings(server):
    result = python(
        f"import collections_app.{server}; from django.conf import settings; "
        "print(settings.SETTINGS_MODULE)",
        DEBUG="false",
        SECRET_KEY=a_real_key(),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == PRODUCTION


@NO_DOTENV_KEY
def test_the_wsgi_entry_point_refuses_to_start_without_a_secret_key():
    result = python("import collections_app.wsgi", DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_login_limit_below_one_is_refused():
    result = python(
        f"import {DEVELOPMENT}", DEBUG="false", SECRET_KEY=a_real_key(), LOGIN_FAILURE_LIMIT="0"
    )

    assert result.returncode != 0
    assert "LOGIN_FAILURE_LIMIT" in result.stderr
