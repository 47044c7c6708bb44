"""Every amount and date a user reads on the main pages comes from the shared formatters
(invoices.money.format_money, invoices.dates): one way to write money, one way to write a day,
on every page, as in the letters and exports.

The pages are rendered over the demo ledger, their visible text is read (not the values of
form fields, which browsers need in ISO form) and every amount-like and date-like token is
checked against what the formatters write."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from dunning.demo import demo_history
from dunning.models import Task, TaskKind, TaskStatus
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from invoices.demo import demo_load, demo_users_ensure
from invoices.models import Customer, Invoice, InvoiceStatus
from invoices.services import write_off_propose

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept|Oct|Nov|Dec)"
# What the formatters write in the default locale (en-GB): £1,234.56, US$1,234.56, €0.50,
# -£12.00; 3 Dec 2026; 3 Dec 2026, 18:48.
FORMATTED_MONEY = re.compile(r"-?(?:£|€|US\$|CA\$|A\$|CHF|[A-Z]{3}\s?)-?\d{1,3}(?:,\d{3})*\.\d{2}")
AMOUNT = re.compile(r"(?<![\w.,/-])-?\d[\d,]*\.\d{2}(?![\d%])")
FORMATTED_DAY = re.compile(rf"\b\d{{1,2}} {MONTH} \d{{4}}\b")
WRONG_DAYS = {
    "ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "US-style date": re.compile(rf"\b{MONTH}\.? \d{{1,2}}, \d{{4}}"),
    "numeric date": re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    "two-digit day": re.compile(rf"\b0\d {MONTH} \d{{4}}\b"),
    "a.m./p.m.": re.compile(r"\b\d{1,2}(?::\d{2})? ?[ap]\.m\."),
    "full month name": re.compile(
        r"\b\d{1,2} (?:January|February|March|April|June|July|August|September|October"
        r"|November|December) \d{4}\b"
    ),
}


class VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles, or values of inputs."""

    SKIP = {"script", "style", "template", "textarea", "option"}

    def __init__(self):
        super().__init__()
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def problems_in(text: str) -> list[str]:
    found = []
    money_spans = [m.span() for m in FORMATTED_MONEY.finditer(text)]
    for m in AMOUNT.finditer(text):
        if not any(start <= m.start() and m.end() <= end for start, end in money_spans):
            found.append(f"amount without its currency {m.group()!r} in …{_around(text, m)}…")
    for name, pattern in WRONG_DAYS.items():
        found += [f"{name} {m.group()!r} in …{_around(text, m)}…" for m in pattern.finditer(text)]
    return found


def _around(text: str, match) -> str:
    return text[max(0, match.start() - 40) : match.end() + 40]


@pytest.fixture
def demo(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC), tick=False)
    users = demo_users_ensure()
    demo_load(customers=60, seed=2026, today=timezone.localdate())
    now = timezone.now()
    demo_history(now=now)
    dunning_run(as_of=now)
    touches_deliver(as_of=now)
    small = Invoice.objects.filter(status=InvoiceStatus.OPEN).order_by("open_balance")
    write_off_propose(actor=users["colin"], invoice=small[0], reason="Too small to chase")
    return users


def pages(users) -> list[tuple[str, str]]:
    """(user, url) of the main pages, with the busiest customer, invoice and cases."""
    busiest = Customer.objects.order_by("-queue_entry__overdue_total").first()
    invoice = Invoice.objects.filter(customer=busiest).order_by("due_date").first()
    referral = Task.objects.filter(kind=TaskKind.REFERRAL, status=TaskStatus.OPEN).first()
    urls = [
        ("collector", reverse("queue")),
        ("collector", reverse("customer_detail", args=[busiest.pk])),
        ("collector", reverse("calls")),
        ("collector", reverse("customer_list")),
        ("collector", reverse("invoice_list")),
        ("collector", reverse("invoice_detail", args=[invoice.pk])),
        ("manager", reverse("reports:dashboard")),
        ("manager", reverse("dunning:preview")),
        ("manager", reverse("dunning:referral_list")),
        ("manager", reverse("write_off_list")),
    ]
    if referral is not None:
        urls.append(("manager", reverse("dunning:referral_detail", args=[referral.pk])))
    return urls


def test_every_amount_and_date_on_the_main_pages_is_written_by_the_formatters(client, demo):
    users = {user.groups.first().name.lower(): user for user in demo.values()}
    report = {}
    for role, url in pages(users):
        client.force_login(users[role])
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.text)
        assert FORMATTED_MONEY.search(text) or FORMATTED_DAY.search(text), url
        if found := problems_in(text):
            report[url] = found[:8]
    assert report == {}, "\n".join(f"{url}: {p}" for url, found in report.items() for p in found)
