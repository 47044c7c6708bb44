"""The three roles. Each role includes the ones below it: an admin can do all a manager can,
and a manager all a collector can."""

from functools import wraps

from django.core.exceptions import PermissionDenied

COLLECTOR = "Collector"
MANAGER = "Manager"
ADMIN = "Admin"
ROLES = (COLLECTOR, MANAGER, ADMIN)
_RANK = {name: rank for rank, name in enumerate(ROLES, start=1)}


def role_of(user) -> str | None:
    """The user's highest role, or None for a user with none."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_dunmore_role", False)
    if cached is not False:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = max((r for r in ROLES if r in names), key=_RANK.get, default=None)
    user._dunmore_role = role
    return role


def has_role(user, minimum: str) -> bool:
    role = role_of(user)
    return role is not None and _RANK[role] >= _RANK[minimum]


def role_required(minimum: str):
    """View decorator: 403 unless the (logged-in) user holds at least this role."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, minimum):
                raise PermissionDenied(f"This page needs the {minimum} role.")
            return view(request, *args, **kwargs)

        wrapped.minimum_role = minimum
        return wrapped

    return decorator
