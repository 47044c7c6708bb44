"""Test settings: fast hashing, in-memory mail, tasks run inline."""

import os

from .settings import *  # noqa: F403
from .settings import DATABASES, Q_CLUSTER, STORAGES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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
