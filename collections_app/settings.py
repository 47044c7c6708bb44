"""Dunmore settings, read from the environment (see .env.example)."""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The fallback key only ever serves a local demo with DEBUG on. Both keys below are public
# (this file and .env.example), and anything signed with them (opt-out links, sessions,
# password resets) could be forged, so with DEBUG off every settings module refuses them.
INSECURE_KEY = "insecure-dev-key-change-me"
EXAMPLE_KEY = "replace-me-with-the-output-of-the-command-above"
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_KEY)
if not DEBUG and SECRET_KEY.strip() in {"", INSECURE_KEY, EXAMPLE_KEY}:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value: with DEBUG off Dunmore will not "
        "start on the built-in development key or the example key. Make one with "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(64))' "
        "(or set DEBUG=true, for local development only)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address customers reach the app at: links in outgoing messages are built on it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# How many days a link to the customer's page (portal) stays valid.
PORTAL_LINK_DAYS = env.int("PORTAL_LINK_DAYS", default=60)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_q",
    "anymail",
    "axes",
    "audit",
    "invoices",
    "accounts",
    "reports",
    "letters",
    "dunning",
    "workspace",
    "invoice_copies",
    "cash",
    "portal",
    "inbox",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "webhooks",
    "backups",
    "ops",
    "jobs",
]

MIDDLEWARE = [
    # First: the request id reaches every later log line, and the request's line covers all.
    "ops.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused login into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "collections_app.urls"
WSGI_APPLICATION = "collections_app.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker read while the web process writes; IMMEDIATE takes the write lock
    # up front so two writers queue instead of failing with "database is locked".
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # The aging index's covering columns are a PostgreSQL speed-up; SQLite keeps the key.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs 40-60 ms on our short screen queries and never pays back.
    _db.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    if env.bool("DB_POOL", default=False):
        # psycopg's pool replaces persistent connections; Django needs CONN_MAX_AGE = 0 with it.
        _db["OPTIONS"]["pool"] = {"min_size": 2, "max_size": env.int("DB_POOL_MAX", default=10)}
        _db["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling with django-axes (accounts/throttle.py). LOGIN_FAILURE_LIMIT failed logins
# to one account, or LOGIN_ADDRESS_FAILURE_LIMIT from one address, each within
# LOGIN_LOCKOUT_MINUTES of the one before, lock that account or address until
# LOGIN_LOCKOUT_MINUTES after the last of them; an admin can unlock sooner under Settings.
# An address gets a higher limit than an account: one office shares one address.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
# Reverse proxies in front that append the client's address to X-Forwarded-For; with 0 the
# address is the connection's own (REMOTE_ADDR). settings_production assumes one.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
if min(LOGIN_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES) < 1:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be "
        "whole numbers of at least 1."
    )
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("PROXY_COUNT must be 0 or more.")
AUTHENTICATION_BACKENDS = [
    "accounts.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "accounts.throttle.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lockout neither count nor extend it, so "locked for N minutes"
# holds even while someone keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout_views.login_locked"
# Lockouts are seen and lifted on our own Settings screen, where unlocking is audited.
AXES_ENABLE_ADMIN = False
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-gb")
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Email: console by default; EMAIL_URL=smtp://user:pass@host:587 for SMTP, or an anymail ESP.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# filemail:///var/demo/mail (the demo's) writes each message to a file in that folder of the
# project, whatever folder the worker was started from; four slashes for an absolute path.
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    if not EMAIL_CONFIG["EMAIL_FILE_PATH"]:
        raise ImproperlyConfigured("EMAIL_URL=filemail:// needs a folder, e.g. filemail:///mail.")
    EMAIL_FILE_PATH = str(BASE_DIR / EMAIL_CONFIG["EMAIL_FILE_PATH"])
# Django's SMTP backend, plus what exactly-once sending needs: whether the message body
# reached the server when a failure comes, and a deadline for the whole conversation.
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    EMAIL_BACKEND = "dunning.smtp.EmailBackend"
# Seconds to wait for any one answer from the mail server or ESP, and for a whole hand-off:
# a server that accepts connections and never answers cannot hold up a run.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_HANDOFF_SECONDS = env.int("EMAIL_HANDOFF_SECONDS", default=90)
if EMAIL_TIMEOUT < 1 or EMAIL_HANDOFF_SECONDS < EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        "EMAIL_TIMEOUT must be at least 1 second and EMAIL_HANDOFF_SECONDS at least as long."
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="collections@localhost")
ESP = env.str("ESP", default="")
ESPS = ("mailgun", "postmark", "sendgrid", "amazon_ses")
if ESP and ESP not in ESPS:
    raise ImproperlyConfigured(
        f"ESP must be one of {', '.join(ESPS)}, or empty to send through EMAIL_URL (not {ESP!r})."
    )
if ESP:
    EMAIL_BACKEND = f"anymail.backends.{ESP}.EmailBackend"
ANYMAIL = {
    key: value
    for key, value in {
        "MAILGUN_API_KEY": env.str("MAILGUN_API_KEY", default=""),
        "MAILGUN_SENDER_DOMAIN": env.str("MAILGUN_SENDER_DOMAIN", default=""),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
        "POSTMARK_SERVER_TOKEN": env.str("POSTMARK_SERVER_TOKEN", default=""),
        "SENDGRID_API_KEY": env.str("SENDGRID_API_KEY", default=""),
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env.str(
            "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY", default=""
        ),
        "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
    }.items()
    if value
}
if ":" not in ANYMAIL.get("WEBHOOK_SECRET", ":"):
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET must be user:password, the basic auth the ESP sends."
    )
# Delivery webhooks must prove they come from the ESP, or anyone can post forged bounces
# and complaints: the ESP's own signature where it signs, basic auth for every ESP.
ESP_SIGNING_KEYS = {
    "mailgun": "MAILGUN_WEBHOOK_SIGNING_KEY",
    "sendgrid": "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",
}
ESP_WEBHOOKS_VERIFIED = not ESP or bool(
    ANYMAIL.get("WEBHOOK_SECRET") or ANYMAIL.get(ESP_SIGNING_KEYS.get(ESP, ""))
)
if DEBUG and not ESP_WEBHOOKS_VERIFIED:
    warnings.warn(
        f"The {ESP} delivery webhook accepts unverified posts: set ANYMAIL_WEBHOOK_SECRET"
        + (f" or {ESP_SIGNING_KEYS[ESP]}" if ESP in ESP_SIGNING_KEYS else "")
        + " (production refuses to start without).",
        stacklevel=1,
    )
ANYMAIL["REQUESTS_TIMEOUT"] = EMAIL_TIMEOUT  # an ESP's API answers within it, or else

# Replies coming in (inbox): a mailbox polled over IMAP, e.g. imaps://user:pass@host:993/INBOX
# (empty: no polling), the address replies go to (replies@example.com becomes
# replies+<token>@example.com per customer), and how many days an unhandled reply pauses chasing.
INBOX_IMAP_URL = env.str("INBOX_IMAP_URL", default="")
INBOX_REPLY_ADDRESS = env.str("INBOX_REPLY_ADDRESS", default="")
INBOX_PAUSE_DAYS = env.int("INBOX_PAUSE_DAYS", default=14)
# Attachments larger than this are noted on the reply but not kept; a whole message larger
# than INBOX_MESSAGE_MAX_MB is refused by the webhook (413) and left in the IMAP mailbox.
INBOX_ATTACHMENT_MAX_MB = env.float("INBOX_ATTACHMENT_MAX_MB", default=15)
INBOX_MESSAGE_MAX_MB = env.float("INBOX_MESSAGE_MAX_MB", default=50)

# "Pay now" on the customer's page (portal.payments): Stripe Checkout appears only when
# STRIPE_SECRET_KEY is set; its signed webhook is checked against STRIPE_WEBHOOK_SECRET.
# STRIPE_API_BASE blank means Stripe's own API (tests point it at a stand-in on the loopback);
# STRIPE_PAYMENT_METHODS is a comma list (e.g. card,bacs_debit), blank for the methods enabled
# in the Stripe dashboard. PAYMENT_LINK_URL is another provider's payment page, shown as well.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_PAYMENT_METHODS = env.list("STRIPE_PAYMENT_METHODS", default=[])
PAYMENT_LINK_URL = env.str("PAYMENT_LINK_URL", default="")

# Processes a dunning run of more than one chunk forks on PostgreSQL to read and plan while
# it records (dunning.planners); 0 plans in the run's own process.
DUNNING_PLANNERS = env.int("DUNNING_PLANNERS", default=2)

# django-q2: ORM broker by default, Redis when REDIS_URL is set.
Q_CLUSTER = {
    # The queue's name on the broker and the salt of its signed tasks: the same in every
    # process of one installation, different for installations sharing one Redis.
    "name": env.str("Q_NAME", default="dunmore"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 300,
    "retry": 600,  # must exceed timeout, or a slow task is handed out twice
    "max_attempts": 3,
    "catch_up": False,
    "orm": "default",
}
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL
    # The same Redis holds the cache, so rate limits count across every process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="dunmore"),
        }
    }
    # Sessions are read from that shared cache (written through to the database): one
    # query fewer on every page. Never with a per-process cache, where a session ended in
    # one process would live on in another's.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# The budget of one part of an admin-edited template (subject, text, HTML, letter) at each
# preview, save and send (letters/budget.py): a render past it is stopped and reported, so a
# template that loops too much cannot stall a dunning run. Output counted in characters.
TEMPLATE_RENDER_SECONDS = env.float("TEMPLATE_RENDER_SECONDS", default=2.0)
TEMPLATE_RENDER_MAX_BYTES = env.int("TEMPLATE_RENDER_MAX_BYTES", default=1_000_000)
if not (TEMPLATE_RENDER_SECONDS > 0 and TEMPLATE_RENDER_MAX_BYTES > 0):
    raise ImproperlyConfigured(
        "TEMPLATE_RENDER_SECONDS and TEMPLATE_RENDER_MAX_BYTES must be more than 0."
    )

SESSION_COOKIE_AGE = 60 * 60 * 12
X_FRAME_OPTIONS = "DENY"

# Logs (ops.logs): LOG_FORMAT=json writes one JSON object a line, for a log collector;
# text (the default here, json in settings_production) is for reading in a terminal. Every
# line written during a request carries its request id, and during a task its name.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json (not {LOG_FORMAT!r}).")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "ops.logs.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {"()": "ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint reports each rendering step and every CSS property it skips: noise.
    # django-axes logs every step of every login at INFO; its warnings (failures, lockouts) stay.
    "loggers": {"weasyprint": {"level": "ERROR"}, "axes": {"level": "WARNING"}},
}

# /healthz (ops.health) fails when the worker was last seen more than HEALTHZ_WORKER_MAX_AGE
# seconds ago, or the last scheduled dunning run finished more than HEALTHZ_RUN_MAX_AGE hours
# ago. /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; without it, 404.
HEALTHZ_WORKER_MAX_AGE = env.int("HEALTHZ_WORKER_MAX_AGE", default=120)
HEALTHZ_RUN_MAX_AGE = env.int("HEALTHZ_RUN_MAX_AGE", default=26)
if min(HEALTHZ_WORKER_MAX_AGE, HEALTHZ_RUN_MAX_AGE) < 1:
    raise ImproperlyConfigured("HEALTHZ_WORKER_MAX_AGE and HEALTHZ_RUN_MAX_AGE must be 1 or more.")
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Outgoing webhooks reach public addresses only: an endpoint URL (or its DNS answer at
# delivery) in loopback, private, link-local, multicast or reserved ranges is refused. True
# turns that off, for an installation that posts to its own ERP inside the network on purpose.
WEBHOOKS_ALLOW_PRIVATE_URLS = env.bool("WEBHOOKS_ALLOW_PRIVATE_URLS", default=False)

# The REST API (api/): bearer tokens only (no session, so no CSRF), scopes per view, a rate
# per token (API_RATE_LIMIT), one JSON error shape, cursor pages, and its OpenAPI 3 document.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dunmore API",
    "DESCRIPTION": (
        "Keep Dunmore's ledger current from a billing or accounting system. Authenticate with "
        "`Authorization: Bearer <token>` (Settings, API tokens). A token acts for the firm as a "
        "whole, not for one collector. Every error is "
        '`{"error": {"code": ..., "message": ..., "details": [...]}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The reference page (Swagger UI) comes from the sidecar package, served by whitenoise.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
