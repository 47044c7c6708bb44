"""The collectors' inbox: replies to handle, and those that wait to be assigned."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import COLLECTOR, require_change, role_required

from .classify import promised_amount
from .exceptions import InboxError
from .forms import AssignForm
from .models import InboundAttachment, InboundMessage, Suggestion
from .selectors import HANDLED_PER_PAGE, replies_handled, replies_unassigned, replies_waiting
from .services import inbound_assign, inbound_mark_handled


@role_required(COLLECTOR)
@require_GET
def inbox(request):
    replies = replies_waiting(user=request.user)
    for reply in replies:
        reply.confirm_next = _confirm_next(reply)
    return render(request, "inbox/list.html", {"replies": replies})


def _confirm_next(reply: InboundMessage) -> str:
    """Where confirming the suggestion takes the collector once the reply is handled: the
    form that records it, filled in with what the reply said; "" to stay in the inbox."""
    if reply.suggestion == Suggestion.DISPUTE:
        return reverse("customer_dispute", args=[reply.customer_id])
    if reply.suggestion == Suggestion.ALREADY_PAID:
        return reverse("customer_detail", args=[reply.customer_id])
    if reply.suggestion == Suggestion.PROMISE:
        prefill = {"promised_for": reply.suggested_date.isoformat()} if reply.suggested_date else {}
        amount = promised_amount(reply.text)
        if amount is not None:
            prefill["amount"] = str(amount)
        url = reverse("customer_promise", args=[reply.customer_id])
        return f"{url}?{urlencode(prefill)}" if prefill else url
    return ""


@role_required(COLLECTOR)
@require_GET
def handled(request):
    page = Paginator(replies_handled(), HANDLED_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "inbox/handled.html", {"page": page, "replies": page.object_list})


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
    file = get_object_or_404(InboundAttachment.objects.exclude(sha256=""), pk=pk)
    response = HttpResponse(bytes(file.content), content_type="application/octet-stream")
    response["Content-Disposition"] = _disposition(file.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _disposition(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(True, filename)
