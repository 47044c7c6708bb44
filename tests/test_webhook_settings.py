"""An ESP's delivery webhook must be verified before production starts. Settings are read
once, at start, so each case runs in a fresh interpreter."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRONG_SECRET = "dunmore-esp:" + "x7Kq2mP9vR4tW8yZ3bN6"
VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ESP",
    "ANYMAIL_WEBHOOK_SECRET",
    "MAILGUN_WEBHOOK_SIGNING_KEY",
    "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",
)


def check(settings: str = "collections_app.settings_production", **env: str):
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": settings,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_an_esp_whose_webhook_is_not_verified():
    result = check(ESP="postmark")

    assert result.returncode != 0
    assert "ESP=postmark needs its delivery webhook verified" in result.stderr
    assert "ANYMAIL_WEBHOOK_SECRET" in result.stderr


def test_production_names_the_esps_own_signing_key_where_it_has_one():
    result = check(ESP="mailgun")

    assert result.returncode != 0
    assert "MAILGUN_WEBHOOK_SIGNING_KEY" in result.stderr


def test_production_starts_with_basic_auth_for_the_webhook():
    result = check(ESP="amazon_ses", ANYMAIL_WEBHOOK_SECRET=STRONG_SECRET)

    assert result.returncode == 0, result.stderr


def test_production_starts_with_mailguns_signing_key_alone():
    result = check(ESP="mailgun", MAILGUN_WEBHOOK_SIGNING_KEY="key-from-the-mailgun-dashboard")

    assert result.returncode == 0, result.stderr


def test_production_refuses_a_short_webhook_password():
    result = check(ESP="postmark", ANYMAIL_WEBHOOK_SECRET="webhook:change-me")

    assert result.returncode != 0
    assert "at least 16 characters" in result.stderr


def test_a_webhook_secret_without_a_user_is_refused():
    result = check(ESP="postmark", ANYMAIL_WEBHOOK_SECRET="x7Kq2mP9vR4tW8yZ3bN6")

    assert result.returncode != 0
    assert "must be user:password" in result.stderr


def test_an_unknown_esp_is_refused():
    result = check(ESP="pigeon", ANYMAIL_WEBHOOK_SECRET=STRONG_SECRET)

    assert result.returncode != 0
    assert "ESP must be one of" in result.stderr


def test_the_demo_only_warns_about_an_unverified_webhook():
    result = check("collections_app.settings", DEBUG="true", ESP="postmark")

    assert result.returncode == 0, result.stderr
    assert "delivery webhook accepts unverified posts" in result.stderr
