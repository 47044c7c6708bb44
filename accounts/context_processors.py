from .roles import ADMIN, COLLECTOR, MANAGER, has_role, role_of


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_role": role_of(user),
        "is_collector": has_role(user, COLLECTOR),
        "is_manager": has_role(user, MANAGER),
        "is_admin": has_role(user, ADMIN),
    }
