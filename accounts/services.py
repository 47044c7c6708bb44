from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from audit.services import audit_record
from invoices.models import Organisation

from .roles import ROLES


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
