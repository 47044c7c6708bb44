"""The login page when a login is refused after too many failures, and the admin's list of
locked logins with a way to unlock them."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .forms import LoginUnlockForm
from .roles import ADMIN, role_required
from .selectors import ACCOUNT, login_lockouts, login_locks_for
from .services import login_unlock
from .throttle import client_ip


def _wait(minutes: int) -> str:
    return f"{minutes} more minute{'' if minutes == 1 else 's'}"


def _lockout_sentences(locks, as_of) -> list[str]:
    sentences = [
        f"After too many failed login attempts, the account “{lock.value}” is locked for "
        f"{_wait(lock.minutes_left(as_of))}."
        if lock.kind == ACCOUNT
        else f"After too many failed login attempts from your network address ({lock.value}), "
        f"logins from it are locked for {_wait(lock.minutes_left(as_of))}."
        for lock in locks
    ] or ["After too many failed login attempts, logins are locked for a while."]
    sentences.append(
        "Please try again then, or ask an administrator to unlock it sooner "
        "(Settings, Locked logins)."
    )
    return sentences


def login_locked(request, original_response=None, credentials=None):
    """The login page again, saying why the login was refused and for how long. django-axes
    calls this in place of the page the login view made."""
    as_of = timezone.now()
    username_field = get_user_model().USERNAME_FIELD
    username = (credentials or {}).get(username_field) or request.POST.get(username_field, "")
    ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
    locks = login_locks_for(username=username, ip_address=ip_address, as_of=as_of)
    context = dict(getattr(original_response, "context_data", None) or {})
    context.setdefault("form", AuthenticationForm(request, initial={username_field: username}))
    context.setdefault("next", "")
    context["lockout"] = _lockout_sentences(locks, as_of)
    # 429 Too Many Requests; the page still offers the form for when the wait is over.
    return render(request, "registration/login.html", context, status=429)


@role_required(ADMIN)
@require_GET
def lockout_list(request):
    context = {
        "lockouts": login_lockouts(as_of=timezone.now()),
        "account_limit": settings.LOGIN_FAILURE_LIMIT,
        "address_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT,
        "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES,
    }
    return render(request, "accounts/lockouts.html", context)


@role_required(ADMIN)
@require_POST
def lockout_unlock(request):
    form = LoginUnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one account or one address to unlock.")
        return redirect("lockout_list")
    username, ip_address = form.cleaned_data["username"], form.cleaned_data["ip_address"]
    cleared = login_unlock(actor=request.user, username=username, ip_address=ip_address)
    what = f"the account “{username}”" if username else f"the address {ip_address}"
    if cleared:
        again = "it can log in again" if username else "logins from it work again"
        messages.success(request, f"Unlocked {what}: {again}.")
    else:
        messages.info(request, f"Nothing to unlock: {what} is not locked any more.")
    return redirect("lockout_list")
