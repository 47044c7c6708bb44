"""Production settings: refuse to start when the environment is unsafe."""

import copy

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import (
    ANYMAIL,
    ESP,
    ESP_SIGNING_KEYS,
    ESP_WEBHOOKS_VERIFIED,
    INSECURE_KEY,
    LOGGING,
    METRICS_TOKEN,
    SECRET_KEY,
    env,
)

if DEBUG:  # noqa: F405
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=false).")
if SECRET_KEY == INSECURE_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
if not ESP_WEBHOOKS_VERIFIED:
    own_key = (
        f"{ESP_SIGNING_KEYS[ESP]} (the ESP's signature) or " if ESP in ESP_SIGNING_KEYS else ""
    )
    raise ImproperlyConfigured(
        f"ESP={ESP} needs its delivery webhook verified in production, or anyone could post "
        f"forged bounces and complaints: set {own_key}ANYMAIL_WEBHOOK_SECRET (user:password, "
        "also written into the webhook URL given to the ESP)."
    )
if "WEBHOOK_SECRET" in ANYMAIL and len(ANYMAIL["WEBHOOK_SECRET"].partition(":")[2]) < 16:
    raise ImproperlyConfigured(
        "The password in ANYMAIL_WEBHOOK_SECRET must be at least 16 characters long "
        "(python -c 'import secrets; print(secrets.token_urlsafe(24))')."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The same proxy appends the client's address to X-Forwarded-For; login throttling counts
# failures per address from it (REMOTE_ADDR is only the proxy).
PROXY_COUNT = env.int("PROXY_COUNT", default=1)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("PROXY_COUNT must be 0 or more.")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Load balancers probe /healthz over plain HTTP, straight to the app: no redirect for it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# One JSON object a line, for the log collector, unless LOG_FORMAT says otherwise.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json (not {LOG_FORMAT!r}).")
LOGGING = copy.deepcopy(LOGGING)
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be at least 32 characters long "
        "(python -c 'import secrets; print(secrets.token_urlsafe(32))'), or unset."
    )
