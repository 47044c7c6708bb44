"""bench pages: server time of the collector's screens over the scale data set.

Each page is requested through Django's test client (middleware, view, queries, template)
as a signed-in manager: warmed up, then timed 30 times; median and p95 are printed. The
customer page (its edit page, and the customer's own page behind their link) is measured
for a customer given 200 invoices and 1,000 sent touches (each with its audit event, as the
timeline reads them), and the cash-matching screen with 500 unapplied payments, all added
inside the run's transaction, which is rolled back at the end, like every row the bench
adds. The queue reads the queue rows the dunning runs keep (or `queue_rebuild` fills)."""

import datetime as dt
import statistics
import time
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.bench import signed_in_manager
from accounts.roles import COLLECTOR
from audit.services import Event, audit_record_many
from dunning.models import QueueEntry, Touch, TouchStatus
from dunning.queue import queue_refresh
from invoices.bench import _cpus, _peak_mb
from invoices.models import Customer, Invoice, InvoiceStatus, Payment
from invoices.signals import ledger_changed

RUNS = 30
WARM = 3


def timed(client: Client, url: str, runs: int = RUNS) -> tuple[float, float]:
    timings = []
    for attempt in range(WARM + runs):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        if attempt >= WARM:
            timings.append(elapsed)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def _big_customer(collector) -> Customer:
    today = dt.date.today()
    customer = Customer.objects.create(
        external_id="BENCH-PAGES",
        name="Bench Pages Ltd",
        timezone="Europe/London",
        currency="GBP",
        collector=collector,
    )
    Invoice.objects.bulk_create(
        Invoice(
            number=f"BENCH-PAGES-{i:04d}",
            customer=customer,
            currency="GBP",
            issue_date=today - dt.timedelta(days=30 + i),
            due_date=today - dt.timedelta(days=i),
            amount=Decimal("100.00"),
            open_balance=Decimal("100.00"),
            status=InvoiceStatus.OPEN,
        )
        for i in range(200)
    )
    ledger_changed.send(
        sender=_big_customer, currencies={"GBP"}, since=today - dt.timedelta(days=229)
    )
    now = dt.datetime.now(dt.UTC)
    Touch.objects.bulk_create(
        Touch(
            key=f"bench:{customer.pk}:{i}",
            customer=customer,
            channel="email",
            status=TouchStatus.SENT,
            scheduled_for=now - dt.timedelta(hours=i),
            sent_at=now - dt.timedelta(hours=i),
            currency="GBP",
            automated=False,
            subject=f"Touch {i}",
        )
        for i in range(1000)
    )
    audit_record_many(
        events=(
            Event(
                action="dunning.touch.sent",
                summary=f"Touch {i} sent by email",
                customer_id=customer.pk,
                data={"touch": i},
            )
            for i in range(1000)
        )
    )
    queue_refresh(customer_ids=[customer.pk])
    return customer


def _unapplied_cash(count: int = 500) -> None:
    """Payments not yet matched, for the matching screen: one per customer with something
    open, for that invoice's balance, every other one naming it in its reference."""
    today = dt.date.today()
    open_invoices = (
        Invoice.objects.filter(status=InvoiceStatus.OPEN)
        .order_by("customer_id")
        .distinct("customer_id")
        .values_list("customer_id", "number", "open_balance", "currency")[:count]
    )
    Payment.objects.bulk_create(
        Payment(
            customer_id=customer_id,
            received_on=today - dt.timedelta(days=i % 30),
            amount=balance,
            unapplied=balance,
            currency=currency,
            reference=number if i % 2 else f"BACS {i:06d}",
        )
        for i, (customer_id, number, balance, currency) in enumerate(open_invoices)
    )


def _portal_path(customer: Customer) -> str:
    """The customer's own page (no login: the link is the proof), for the same customer."""
    from invoices.models import Contact
    from portal.services import portal_link_make

    contact = Contact.objects.create(customer=customer, name="Bench Payables", email="b@x.test")
    _link, url = portal_link_make(customer=customer, contact=contact, now=dt.datetime.now(dt.UTC))
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def time_pages(client: Client, pages: dict[str, str], *, say, runs: int = RUNS) -> dict:
    """Median and p95 of each page, printed and returned as figures."""
    figures = {}
    for name, url in pages.items():
        median, p95 = timed(client, url, runs)
        say(f"{name:19} median {median:7.1f} ms   p95 {p95:7.1f} ms   {url}")
        figures[f"{name}_median_ms"] = round(median, 1)
        figures[f"{name}_p95_ms"] = round(p95, 1)
    return figures


def _narrow_term() -> str:
    """The number in the name of the customer halfway along the ledger (the scale set names
    them "Harbour Joinery 105206 Ltd"), or that name whole."""
    count = Customer.objects.count()
    name = Customer.objects.order_by("pk").values_list("name", flat=True)[count // 2]
    return next((word for word in name.split() if word.isdigit()), name)


def bench_pages(*, rows: int | None = None, say=print) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError("bench pages measures PostgreSQL: set DATABASE_URL=postgres://...")
    if Invoice.objects.count() < 100_000:
        say("warning: fewer than 100,000 invoices; load the scale set with seed_scale")
    if QueueEntry.objects.count() < Customer.objects.count() // 2:
        say("warning: the queue is not filled; run queue_rebuild (or a dunning run) first")
    with signed_in_manager("bench-pages-manager") as (client, manager):
        User = get_user_model()
        collector = User.objects.filter(groups__name=COLLECTOR).first() or manager
        customer = _big_customer(collector)
        _unapplied_cash()
        pages = {
            "queue": reverse("queue"),
            "queue_filtered": f"{reverse('queue')}?collector={collector.pk}&bucket=31_60",
            "queue_search": f"{reverse('queue')}?q=Ltd&flag=waiting",
            # A term few names hold (the number in a name), found through the trigram index.
            "queue_search_narrow": f"{reverse('queue')}?{urlencode({'q': _narrow_term()})}",
            # A term a twentieth of the names hold, all together in name order.
            "customers_clustered": f"{reverse('customer_list')}?q=Scale+Consumer",
            "customer": reverse("customer_detail", args=[customer.pk]),
            "customer_edit": reverse("customer_edit", args=[customer.pk]),
            "calls": f"{reverse('calls')}?collector={collector.pk}",
            "cash_matching": reverse("cash_unapplied"),
        }
        figures = time_pages(client, pages, say=say)
        # The customer has no session: a client of its own, on the same host.
        anonymous = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
        figures.update(time_pages(anonymous, {"portal": _portal_path(customer)}, say=say))
    return {**figures, "peak_mb": _peak_mb(), "cpus": _cpus()}
