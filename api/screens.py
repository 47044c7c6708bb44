"""The admin's screens for API tokens: the list, a new token (shown once), revoking one."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, role_required

from .forms import TokenForm
from .models import ApiToken
from .services import api_token_create, api_token_revoke

SHOW_TOKEN = "api_token_show_once"


@role_required(ADMIN)
def token_list(request):
    tokens = ApiToken.objects.select_related("created_by", "revoked_by")
    return render(request, "api/token_list.html", {"tokens": tokens, "now": timezone.now()})


@role_required(ADMIN)
def token_new(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, raw = api_token_create(actor=request.user, **form.cleaned_data)
        # Redirected, so a reload cannot post the form again and make a second token; the
        # session carries the raw token to the next page only, which takes it out.
        request.session[SHOW_TOKEN] = {"pk": token.pk, "raw": raw}
        return redirect("api_tokens:created", pk=token.pk)
    return render(request, "api/token_new.html", {"form": form})


@role_required(ADMIN)
def token_created(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk)
    shown = request.session.pop(SHOW_TOKEN, None)
    if not shown or shown["pk"] != token.pk:
        messages.info(
            request,
            f"The token “{token.name}” was shown once, when it was made. If it is lost, "
            "revoke it and create another.",
        )
        return redirect("api_tokens:list")
    response = render(request, "api/token_created.html", {"token": token, "raw": shown["raw"]})
    response["Cache-Control"] = "no-store"
    return response


@role_required(ADMIN)
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk)
    if api_token_revoke(actor=request.user, token=token):
        messages.success(request, f"Revoked “{token.name}”: it stops working at once.")
    else:
        messages.info(request, f"“{token.name}” was already revoked.")
    return redirect("api_tokens:list")
