"""The collectors' inbox: replies to handle, and those that wait to be assigned."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import COLLECTOR, require_change, role_required

from .exceptions import InboxError
from .forms import AssignForm
from .models import InboundAttachment, InboundMessage
from .selectors import replies_unassigned, replies_waiting
from .services import inbound_assign, inbound_mark_handled


@role_required(COLLECTOR)
@require_GET
def inbox(request):
    return render(request, "inbox/list.html", {"replies": replies_waiting(user=request.user)})


@role_required(COLLECTOR)
@require_GET
def unassigned(request):
    return render(
        request,
        "inbox/unassigned.html",
        {"replies": replies_unassigned(), "form": AssignForm()},
    )


def _next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@role_required(COLLECTOR)
@require_POST
def mark_handled(request, pk: int):
    reply = get_object_or_404(InboundMessage.objects.select_related("customer"), pk=pk)
    if reply.customer is None:
        messages.error(request, "Assign this reply to a customer first.")
        return redirect("inbox:unassigned")
    require_change(request.user, reply.customer)
    try:
        inbound_mark_handled(actor=request.user, message=reply)
    except InboxError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The reply from {reply.from_address} is marked handled.")
    return redirect(_next(request, reverse("inbox:list")))


@role_required(COLLECTOR)
@require_POST
def assign(request, pk: int):
    reply = get_object_or_404(InboundMessage, pk=pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "inbox/unassigned.html",
            {"replies": replies_unassigned(), "form": form, "failed": reply.pk},
            status=400,
        )
    customer = form.cleaned_data["customer"]
    require_change(request.user, customer)
    try:
        inbound_assign(actor=request.user, message=reply, customer=customer)
    except InboxError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The reply from {reply.from_address} is now {customer.name}'s.")
    return redirect("inbox:unassigned")


@role_required(COLLECTOR)
@require_GET
def attachment(request, pk: int):
    # Anyone with a role may read any customer's records; unassigned mail likewise.
    file = get_object_or_404(InboundAttachment, pk=pk)
    response = HttpResponse(bytes(file.content), content_type="application/octet-stream")
    response["Content-Disposition"] = _disposition(file.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _disposition(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(True, filename)
