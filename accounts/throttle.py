"""Login throttling: django-axes counts failed logins; this fits it to Dunmore.

- a low limit per account and a higher one per address (axes knows one limit);
- the client's address taken from the header our reverse proxy adds;
- a successful login forgives only its own account's failures from that address;
- unlocking, from any path, goes through the audited service.
"""

import ipaddress

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings

from .selectors import login_failure_counts
from .services import login_unlock


def _an_address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address a request came from. Behind PROXY_COUNT reverse proxies it is the entry
    the outermost of them appended to X-Forwarded-For: entries to its left come from the
    client and may be forged, and REMOTE_ADDR is only the nearest proxy."""
    count = settings.PROXY_COUNT
    if count:
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= count and (address := _an_address(hops[-count])):
            return address
    return _an_address(request.META.get("REMOTE_ADDR"))


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes's check, run before the password is. When it refuses an attempt because a lock
    is already on, it marks the request, so that the audit trail records the lockout once
    and not every attempt made while it lasts."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            request.login_refused_while_locked = True
            raise


def refused_while_locked(request) -> bool:
    return bool(getattr(request, "login_refused_while_locked", False))


class LoginThrottleHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        by_account, by_address = login_failure_counts(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
            as_of=request.axes_attempt_time,
        )
        # Axes compares this one number with the account limit (AXES_FAILURE_LIMIT). Scaled
        # so, the address's count reaches that limit exactly when it reaches its own.
        scaled = by_address * settings.LOGIN_FAILURE_LIMIT // settings.LOGIN_ADDRESS_FAILURE_LIMIT
        return max(by_account, scaled)

    def reset_user_attempts(self, request, credentials=None) -> int:
        # Axes would clear every failure from the address that just logged in, so anyone
        # with a login of their own could wipe the count against other accounts between
        # guesses. A login forgives only its own account's failures from its own address.
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return count

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False) -> int:
        # Axes's commands (axes_reset, axes_reset_username, axes_reset_ip...) unlock through
        # here: the service records each unlock in the audit trail.
        label = "manage.py"
        if not ip_or_username:
            return login_unlock(actor=None, label=label, username=username, ip_address=ip_address)
        return sum(
            login_unlock(actor=None, label=label, **{name: value})
            for name, value in (("username", username), ("ip_address", ip_address))
            if value
        )
