"""Home, the refusal page, and the admin's settings screen: the organisation and its users."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from invoices.models import Organisation

from .forms import OrganisationForm, UserActiveForm, UserCreateForm, UserRoleForm
from .roles import ADMIN, COLLECTOR, MANAGER, ROLES, NotYours, has_role, role_of, role_required
from .services import (
    organisation_update,
    user_create,
    user_deactivate,
    user_reactivate,
    user_set_role,
)


@role_required(COLLECTOR)
@require_GET
def home(request):
    """Where signing in lands (LOGIN_REDIRECT_URL): managers and admins on the dashboard,
    collectors on their queue."""
    if has_role(request.user, MANAGER):
        return redirect("reports:dashboard")
    return redirect("queue")


def permission_denied(request, exception=None):
    """The 403 page, with the reason. An htmx request would not show an error answer, so it
    gets the reason as a message and reloads the page the user is on (still a 403)."""
    reason = str(exception or "")
    htmx = getattr(request, "htmx", None)
    back = htmx.current_url_abs_path if htmx else None
    if back and not htmx.history_restore_request:
        if reason:
            messages.error(request, reason)
        response = HttpResponse(status=403)
        response["HX-Redirect"] = back
        return response
    customer = exception.customer if isinstance(exception, NotYours) else None
    return render(request, "403.html", {"exception": reason, "customer": customer}, status=403)


def _users():
    users = (
        get_user_model()
        .objects.order_by("-is_active", "username")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.filter(name__in=ROLES)))
    )
    rows = []
    for user in users:
        names = {group.name for group in user.groups.all()}
        role = (
            ADMIN if user.is_superuser else next((r for r in reversed(ROLES) if r in names), None)
        )
        rows.append(
            {
                "user": user,
                "role": role,
                "role_form": UserRoleForm(initial={"role": role}, auto_id=f"id_user{user.pk}_%s"),
            }
        )
    return rows


@role_required(ADMIN)
def settings_view(request):
    org = Organisation.current()
    initial = {f: getattr(org, f) for f in OrganisationForm.base_fields}
    form = OrganisationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = organisation_update(actor=request.user, **form.cleaned_data)
        if changes:
            messages.success(request, "Organisation settings saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("settings")
    return render(request, "accounts/settings.html", {"form": form, "users": _users()})


@role_required(ADMIN)
def user_new(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = user_create(
            actor=request.user,
            username=data["username"],
            password=data["password1"],
            role=data["role"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
        )
        messages.success(request, f"{user.get_username()} can now log in as {data['role']}.")
        return redirect("settings")
    return render(request, "accounts/user_new.html", {"form": form})


@role_required(ADMIN)
@require_POST
def user_role(request, pk: int):
    user = get_object_or_404(get_user_model(), pk=pk)
    form = UserRoleForm(request.POST)
    if user.pk == request.user.pk:
        # An admin who demotes themselves could leave nobody able to undo it.
        messages.error(request, "You cannot change your own role; ask another admin.")
    elif not form.is_valid():
        messages.error(request, "Choose one of the roles.")
    elif role_of(user) == form.cleaned_data["role"]:
        messages.info(request, f"{user.get_username()} is already {form.cleaned_data['role']}.")
    else:
        user_set_role(actor=request.user, user=user, role=form.cleaned_data["role"])
        messages.success(request, f"{user.get_username()} is now {form.cleaned_data['role']}.")
    return redirect("settings")


@role_required(ADMIN)
@require_POST
def user_active(request, pk: int):
    user = get_object_or_404(get_user_model(), pk=pk)
    form = UserActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say whether the user should be active.")
        return redirect("settings")
    try:
        if form.cleaned_data["active"]:
            user_reactivate(actor=request.user, user=user)
            messages.success(request, f"{user.get_username()} can log in again.")
        else:
            user_deactivate(actor=request.user, user=user)
            messages.success(request, f"{user.get_username()} can no longer log in.")
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("settings")
