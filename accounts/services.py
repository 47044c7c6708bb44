import ipaddress
from datetime import datetime

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Sum

from audit.services import audit_record
from invoices.models import Organisation

from .roles import ROLES
from .selectors import ACCOUNT, login_locks_for


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
):
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    user = get_user_model().objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    user.groups.add(Group.objects.get(name=role))
    audit_record(
        action="accounts.user.created",
        actor=actor,
        summary=f"User {username} created as {role}",
        data={"username": username, "role": role},
    )
    return user


@transaction.atomic
def user_set_role(*, actor, user, role: str):
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    before = list(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get(name=role))
    audit_record(
        action="accounts.user.role_changed",
        actor=actor,
        summary=f"{user.get_username()} is now {role}",
        data={"username": user.get_username(), "before": before, "after": role},
    )


@transaction.atomic
def user_deactivate(*, actor, user):
    """Stop a user from logging in. Their history and assigned customers stay as they are."""
    if user.pk == getattr(actor, "pk", None):
        raise ValueError("You cannot deactivate your own account.")
    if not user.is_active:
        return
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(
        action="accounts.user.deactivated",
        actor=actor,
        summary=f"User {user.get_username()} deactivated",
        data={"username": user.get_username()},
    )


@transaction.atomic
def user_reactivate(*, actor, user):
    """Let a deactivated user log in again."""
    if user.is_active:
        return
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(
        action="accounts.user.reactivated",
        actor=actor,
        summary=f"User {user.get_username()} reactivated",
        data={"username": user.get_username()},
    )


ORGANISATION_FIELDS = ("name", "default_currency", "default_timezone", "default_country")


@transaction.atomic
def organisation_update(*, actor, **values) -> dict:
    """Change the organisation's name and the defaults new customers get; returns the
    changes as {field: [before, after]} (empty when nothing changed)."""
    unknown = set(values) - set(ORGANISATION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown organisation fields: {sorted(unknown)}")
    org = Organisation.current()
    org = Organisation.objects.select_for_update().get(pk=org.pk)
    changes = {}
    for name, new in values.items():
        old = getattr(org, name)
        if old != new:
            changes[name] = [old, new]
            setattr(org, name, new)
    if not changes:
        return {}
    org.full_clean()
    org.save()
    audit_record(
        action="settings.organisation.updated",
        actor=actor,
        summary=f"Organisation settings changed: {', '.join(changes)}",
        data={"changes": changes},
    )
    return changes


# --- failed logins and lockouts ---------------------------------------------------------------

# Who fails to log in is not logged in: the trail names them by what they typed.
VISITOR = "visitor"


def _typed(username: str | None) -> str:
    # The username field is free text; keep the record as long as a real username can be.
    return (username or "")[:150]


@transaction.atomic
def login_failure_record(*, username: str | None, ip_address: str | None) -> None:
    """Record one failed login: the username typed and the address, never the password."""
    typed = _typed(username)
    where = ip_address or "an unknown address"
    audit_record(
        action="accounts.login.failed",
        label=VISITOR,
        summary=f"Failed login to {typed or 'no username'} from {where}",
        data={"username": typed, "ip_address": ip_address},
    )


@transaction.atomic
def login_lock_record(*, username: str | None, ip_address: str | None, as_of: datetime):
    """Record the lockout that the failed login just made (of the account, the address or
    both); returns the event, or None when no lock holds."""
    locks = login_locks_for(username=username, ip_address=ip_address, as_of=as_of)
    if not locks:
        return None
    parts = [
        f"{'Logins to' if lock.kind == ACCOUNT else 'Logins from'} {lock.value} locked for "
        f"{lock.minutes_left(as_of)} minutes after {lock.failures} failed attempts"
        for lock in locks
    ]
    return audit_record(
        action="accounts.login.locked",
        label=VISITOR,
        summary="; ".join(parts),
        data={
            "username": _typed(username),
            "ip_address": ip_address,
            "locks": [
                {
                    "kind": lock.kind,
                    "value": lock.value,
                    "failures": lock.failures,
                    "until": lock.until.isoformat(),
                }
                for lock in locks
            ],
        },
    )


def _unlock_scope(username: str | None, ip_address: str | None) -> str:
    if username and ip_address:
        return f"{username} from {ip_address}"
    return username or ip_address or "every account and address"


@transaction.atomic
def login_unlock(
    *,
    actor,
    username: str | None = None,
    ip_address: str | None = None,
    label: str | None = None,
) -> int:
    """Forget the failed logins that lock an account (username), an address (ip_address),
    one account from one address (both), or everything (neither); returns how many attempt
    records went. Nothing to forget records nothing."""
    if ip_address:
        try:
            ip_address = str(ipaddress.ip_address(ip_address.strip()))
        except ValueError:
            raise ValueError(f"{ip_address!r} is not an IP address.") from None
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if ip_address:
        attempts = attempts.filter(ip_address=ip_address)
    failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
    _total, per_model = attempts.delete()
    cleared = per_model.get(AccessAttempt._meta.label, 0)
    if cleared:
        scope = _unlock_scope(username, ip_address)
        audit_record(
            action="accounts.login.unlocked",
            actor=actor,
            label=label,
            summary=f"Logins unlocked for {scope}",
            data={
                "username": username or None,
                "ip_address": ip_address or None,
                "attempt_records": cleared,
                "failures_forgiven": failures,
            },
        )
    return cleared
