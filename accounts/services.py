from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from audit.services import audit_record

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
