"""bench payment_event: the time from a Stripe payment event to the customer leaving the
collector's queue.

It makes `rows` chased customers (two overdue invoices each, a contact, a link, a dunning
run's chase and pending message, a queue row, an open Checkout Session), then posts one
signed checkout.session.completed per customer to the webhook view in-process, one after
another, and times each from the post until the customer's queue row is gone (checked with
a query of its own). Everything, audit events included, is rolled back at the end so the
data set stays as it was; the final COMMIT of each event is therefore not in the figure
(one fsync on PostgreSQL). The signature is made with hmac here, as Stripe makes it."""

import datetime as dt
import hashlib
import hmac
import json
import statistics
import time
from decimal import Decimal

from django.db import transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from dunning.models import QueueEntry
from dunning.planning import dunning_run
from invoices.bench import _cpus, _peak_mb
from invoices.models import Contact, ContactRole, Customer, Invoice
from portal.models import CheckoutSession, PortalLink

from .stripe.client import to_minor
from .views import stripe_webhook

SECRET = "whsec_bench_payment_event"
DEFAULT_ROWS = 200


class _Rollback(Exception):
    pass


def _weekday_morning(now: dt.datetime) -> dt.datetime:
    day = now.date() - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(11), tzinfo=dt.UTC)


def _world(rows: int, now: dt.datetime) -> list[CheckoutSession]:
    stamp = now.strftime("%Y%m%d%H%M%S")
    today = now.date()
    customers = Customer.objects.bulk_create(
        Customer(
            external_id=f"BENCH-PAY-{stamp}-{n}",
            name=f"Bench payer {n}",
            timezone="Europe/London",
            currency="GBP",
            country="GB",
        )
        for n in range(rows)
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            customer=customer,
            name=f"Payer {n}",
            email=f"payer{n}@bench.invalid",
            role=ContactRole.ACCOUNTS_PAYABLE,
            is_primary=True,
        )
        for n, customer in enumerate(customers)
    )
    Invoice.objects.bulk_create(
        Invoice(
            customer=customer,
            number=f"BP-{stamp}-{n}-{k}",
            issue_date=today - dt.timedelta(days=70),
            due_date=today - dt.timedelta(days=40 - k),
            currency="GBP",
            amount=amount,
            open_balance=amount,
        )
        for n, customer in enumerate(customers)
        for k, amount in ((1, Decimal("120.00")), (2, Decimal("80.25")))
    )
    links = PortalLink.objects.bulk_create(
        PortalLink(
            customer=customer,
            contact=contact,
            token_hash=hashlib.sha256(f"bench-{stamp}-{customer.pk}".encode()).hexdigest(),
            created_at=now,
            expires_at=now + dt.timedelta(days=30),
        )
        for customer, contact in zip(customers, contacts, strict=True)
    )
    invoice_ids: dict[int, list[int]] = {}
    for customer_id, pk in (
        Invoice.objects.filter(customer__in=customers)
        .order_by("due_date")
        .values_list("customer_id", "pk")
    ):
        invoice_ids.setdefault(customer_id, []).append(pk)
    return CheckoutSession.objects.bulk_create(
        CheckoutSession(
            session_id=f"cs_bench_{stamp}_{customer.pk}",
            customer=customer,
            contact=contact,
            link=link,
            amount=Decimal("200.25"),
            currency="GBP",
            invoice_ids=invoice_ids[customer.pk],
            created_at=now,
        )
        for customer, contact, link in zip(customers, contacts, links, strict=True)
    )


def _signed(checkout: CheckoutSession, n: int) -> tuple[bytes, str]:
    session = {
        "id": checkout.session_id,
        "object": "checkout.session",
        "amount_total": to_minor(checkout.amount, checkout.currency),
        "currency": checkout.currency.lower(),
        "client_reference_id": f"dunmore-checkout-{checkout.pk}",
        "metadata": {"checkout_id": str(checkout.pk)},
        "mode": "payment",
        "payment_intent": f"pi_bench_{checkout.pk}",
        "payment_status": "paid",
        "status": "complete",
    }
    event = {
        "id": f"evt_bench_{checkout.session_id}_{n}",
        "object": "event",
        "created": int(time.time()),
        "data": {"object": session},
        "livemode": False,
        "type": "checkout.session.completed",
    }
    body = json.dumps(event).encode()
    t = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={t},v1={mac}"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bench_payment_event(*, rows: int = DEFAULT_ROWS, say=print) -> dict:
    """rows: how many customers pay (one event each)."""
    now = timezone.now()
    factory = RequestFactory()
    url = reverse("portal:stripe_webhook")
    timings: list[float] = []
    failed = 0
    try:
        with transaction.atomic(), override_settings(STRIPE_WEBHOOK_SECRET=SECRET):
            checkouts = _world(rows, now)
            ids = [checkout.customer_id for checkout in checkouts]
            dunning_run(as_of=_weekday_morning(now), customer_ids=ids)
            queued = QueueEntry.objects.filter(customer_id__in=ids).count()
            say(f"{rows} customers made, {queued} in the queue; posting one event each")
            for n, checkout in enumerate(checkouts):
                body, header = _signed(checkout, n)
                request = factory.post(
                    url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
                )
                started = time.perf_counter()
                response = stripe_webhook(request)
                gone = not QueueEntry.objects.filter(customer_id=checkout.customer_id).exists()
                timings.append((time.perf_counter() - started) * 1000)
                failed += response.status_code != 200 or not gone
            raise _Rollback
    except _Rollback:
        pass
    say(
        f"{rows} events: median {statistics.median(timings):.1f} ms, "
        f"p95 {_percentile(timings, 0.95):.1f} ms, {failed} not settled (all rolled back; "
        "the final COMMIT is not included)"
    )
    return {
        "events": rows,
        "queued_before_count": queued,
        "not_settled_count": failed,
        "event_to_queue_median_ms": round(statistics.median(timings), 1),
        "event_to_queue_p95_ms": round(_percentile(timings, 0.95), 1),
        "event_to_queue_max_ms": round(max(timings), 1),
        "events_per_s": round(len(timings) / (sum(timings) / 1000), 1),
        "peak_mb": _peak_mb(),
        "cpus": _cpus(),
    }
