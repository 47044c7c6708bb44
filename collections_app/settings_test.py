"""Test settings: fast hashing, in-memory mail, tasks run inline."""

import os

# Tests run with DEBUG off, where the settings refuse the public development key: the suite
# gets a key of its own, set before the settings read the environment.
os.environ.setdefault("SECRET_KEY", "dunmore-test-suite-key-used-by-the-tests-and-nowhere-else")

from .settings import *  # noqa: E402, F403
from .settings import DATABASES, Q_CLUSTER, STORAGES  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Login throttling costs queries on every login and refuses client.login() (which passes no
# request); the tests of throttling turn it on (accounts/tests/test_login_throttle.py).
AXES_ENABLED = False
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not os.environ.get(
    "DATABASE_URL"
):
    DATABASES["default"]["TEST"] = {"NAME": None}
