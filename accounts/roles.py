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


# --- who may change a customer -------------------------------------------------------------
# One rule for every view: anyone with a role may read any customer (a colleague covers for
# absence), but a collector changes only the customers assigned to them and what belongs to
# those customers; managers and admins change any. An unassigned customer waits for a
# manager, who assigns it.


def may_change(user, customer) -> bool:
    """Whether this user may change this customer or anything of theirs."""
    if has_role(user, MANAGER):
        return True
    return (
        has_role(user, COLLECTOR)
        and customer.collector_id is not None
        and customer.collector_id == user.pk
    )


def changeable(user, customers):
    """The customers of this queryset the user may change (for actions on many at once)."""
    if has_role(user, MANAGER):
        return customers
    if not has_role(user, COLLECTOR):
        return customers.none()
    return customers.filter(collector_id=user.pk)


def owner_name(customer) -> str:
    """The name of the customer's collector, as the screens show it; empty if unassigned."""
    collector = customer.collector if customer.collector_id else None
    if collector is None:
        return ""
    return collector.get_full_name() or collector.get_username()


def read_only_notice(user, customer) -> str:
    """The notice shown on a customer's pages to a user who may read them but not change
    them; empty for one who may change them."""
    if may_change(user, customer):
        return ""
    owner = owner_name(customer)
    if owner:
        return f"{owner}'s customer: read only"
    return "Unassigned customer: read only until a manager assigns it"


class NotYours(PermissionDenied):
    """A change refused because the customer belongs to someone else. Carries the customer,
    so the refusal can lead back to their page."""

    def __init__(self, message: str, *, customer):
        super().__init__(message)
        self.customer = customer


def refusal(user, customer) -> str:
    """Why this user may not change this customer, in words; empty if they may."""
    if may_change(user, customer):
        return ""
    owner = owner_name(customer)
    if owner:
        return f"{customer.name} is {owner}'s customer: you can read it but not change it."
    return (
        f"{customer.name} is not assigned to a collector: you can read it, but only a "
        "manager can change it or assign it."
    )


def require_change(user, customer) -> None:
    """Refuse (403) unless the user may change this customer or anything of theirs."""
    reason = refusal(user, customer)
    if reason:
        raise NotYours(reason, customer=customer)
