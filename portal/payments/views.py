"""Paying from the customer's page: choosing invoices and going to the provider's hosted
page, the receipt on the way back, and the provider's webhook that confirms the money.

The receipt trusts only the recorded payment, never the redirect: until the signed event
has arrived it says the payment is being confirmed and checks again every two seconds."""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from invoices.money import ZERO

from ..models import CheckoutStatus
from ..views import public, public_form
from . import selectors, services
from .forms import PayForm, ticked
from .stripe import webhooks

log = logging.getLogger(__name__)

# The receipt checks for the event this long after the payment started; then it stops and
# says the confirmation will come by email (it does, whenever the event arrives).
POLL_FOR = dt.timedelta(hours=1)


def _posted_ids(request) -> list[int] | None:
    try:
        ids = [int(value) for value in request.POST.getlist("invoice")]
    except ValueError:
        return None
    return ids if all(0 < pk < 2**63 for pk in ids) else None


def _site(path: str) -> str:
    # As the links in messages: SITE_URL, not the request's Host header or scheme.
    return settings.SITE_URL.rstrip("/") + path


@public_form
def pay(request, link, token):
    invoices = list(services.payable_invoices(link.customer_id))
    options = services.pay_options()
    if request.method == "POST":
        ids = _posted_ids(request)
        # Another customer's invoice (or no such invoice): the one 404.
        if ids is None or selectors.foreign_ids(link.customer_id, ids):
            return None
        form = PayForm(request.POST, invoices=invoices)
        if form.is_valid():
            try:
                _checkout, url = services.checkout_start(
                    link=link,
                    invoice_ids=form.cleaned_data["invoice"],
                    success_url=lambda checkout: _site(
                        reverse("portal:pay_done", args=[token, checkout.pk])
                    ),
                    cancel_url=_site(reverse("portal:pay", args=[token])),
                    now=timezone.now(),
                )
            except services.PayError as error:
                form.add_error(None, str(error))
            else:
                return HttpResponseRedirect(url, status=303)
    else:
        form = PayForm(invoices=invoices)
    return render(
        request,
        "portal/pay_choose.html",
        {
            "customer": link.customer,
            "token": token,
            "form": form,
            "invoices": invoices,
            "options": options,
            "total": sum((invoice.open_balance for invoice in ticked(invoices)), ZERO),
        },
    )


@public
def pay_done(request, link, token, pk: int):
    context = selectors.receipt(link.customer_id, pk)
    if context is None:
        return None
    checkout = context["checkout"]
    waiting = checkout.status == CheckoutStatus.OPEN
    context.update(
        customer=link.customer,
        token=token,
        polling=waiting and timezone.now() - checkout.created_at < POLL_FOR,
    )
    return render(request, "portal/pay_done.html", context)


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request):
    """Stripe's events. 400: not signed for us (nothing recorded, Stripe gives up on it
    eventually); 500: our database failed (Stripe retries; the event row went back with
    the payment, so the retry records it once); 200 otherwise, redeliveries included."""
    try:
        event = webhooks.event_verify(request.body, request.headers.get("Stripe-Signature"))
    except webhooks.Refused as refusal:
        log.warning("Stripe webhook refused: %s", refusal)
        return HttpResponse("Refused: bad or stale signature.", status=400)
    try:
        done = webhooks.event_handle(event)
    except DatabaseError:
        log.exception("Stripe event %s not recorded: it will be retried", event["id"])
        return HttpResponse("Not recorded; please retry.", status=500)
    log.info("Stripe event %s (%s): %s", event["id"], event["type"], done)
    return HttpResponse("OK")


urlpatterns = [
    # Three parts, so never taken for a customer's token.
    path("payments/stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("<str:token>/pay/", pay, name="pay"),
    path("<str:token>/pay/<int:pk>/done/", pay_done, name="pay_done"),
]
