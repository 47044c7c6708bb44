"""Failed logins and lockouts into the audit trail. Each receiver calls one service."""

from django.contrib.auth import get_user_model

from .services import login_failure_record, login_lock_record
from .throttle import client_ip, refused_while_locked


def on_login_failed(sender, credentials, request=None, **kwargs):
    # An attempt refused during a lockout is neither counted nor recorded: someone hammering
    # a locked account would otherwise write to the trail as fast as they can post.
    if request is not None and refused_while_locked(request):
        return
    login_failure_record(
        username=credentials.get(get_user_model().USERNAME_FIELD),
        ip_address=client_ip(request) if request is not None else None,
    )


def on_locked_out(sender, request, username, ip_address, **kwargs):
    # Axes sends this on the failure that makes a lock, and again on each attempt refused
    # while it lasts; only the first is news.
    if refused_while_locked(request):
        return
    login_lock_record(username=username, ip_address=ip_address, as_of=request.axes_attempt_time)
