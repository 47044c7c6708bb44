"""Bearer tokens, scopes per view and a rate per token, for every API view."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import BaseThrottle

from collections_app.ratelimit import hit, window

from .models import ApiToken, Scope, token_hash

# last_used_at is for people ("used 3 minutes ago"): one write a minute per token is enough.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`. request.user is the token's unsaved actor (its label),
    request.auth the ApiToken."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the header as: Authorization: Bearer <token>."
            )
        raw = parts[1].decode("latin-1")
        token = ApiToken.objects.filter(hash=token_hash(raw)).first()
        now = timezone.now()
        if token is None or not token.usable(now):
            raise exceptions.AuthenticationFailed("The token is unknown, expired or revoked.")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.actor(), token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class HasScope(BasePermission):
    """Reads need the read scope; writes need the view's write_scope (write_ledger by default)."""

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated("Send a token: Authorization: Bearer <token>.")
        needed = (
            Scope.READ
            if request.method in SAFE_METHODS
            else getattr(view, "write_scope", Scope.WRITE_LEDGER)
        )
        if needed not in token.scopes:
            self.message = f"This token lacks the “{needed}” scope."
            return False
        return True


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """ "600/min" -> (600, 60): requests and the window's seconds, as DRF writes rates."""
    count, period = rate.split("/")
    return int(count), PERIODS[period[0]]


def rate_key(token_pk: int, seconds: int, current: int) -> str:
    return f"api:rl:{token_pk}:{seconds}:{current}"


class TokenRateThrottle(BaseThrottle):
    """API_RATE_LIMIT requests per token (e.g. "600/min") in fixed windows, counted in the
    cache: shared by every process and atomic when the cache is Redis (REDIS_URL)."""

    def allow_request(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return True
        # Read per request, so a changed setting applies.
        limit, seconds = rate_parse(settings.API_RATE_LIMIT)
        current, self.left = window(seconds)
        return hit(rate_key(request.auth.pk, seconds, current), seconds) <= limit

    def wait(self):
        return self.left
