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
