"""What the customer's page shows: a fixed number of queries, whatever the number of rows."""

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Case, Count, Sum, Value, When, Window
from django.http import QueryDict

from accounts.roles import MANAGER, has_role
from invoice_copies.selectors import newest_copy_ids
from invoices.models import Customer, Invoice, InvoiceStatus, Organisation, Payment
from letters.models import Document, DocumentKind, LetterSettings

from .checks import pending_checks
from .contacts import opt_out_right
from .models import CustomerRequest, RequestStatus

OPEN = (InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)


PER_PAGE = 25


@dataclass
class ListPage:
    """One page of a list on the customer's page, and where it sits in the whole list."""

    items: list
    number: int
    count: int
    param: str  # the query parameter that picks the page, e.g. "invoices_page"
    query: QueryDict  # the page's query: the other lists stay on their pages

    def _href(self, number: int) -> str:
        query = self.query.copy()
        query[self.param] = str(number)
        return "?" + query.urlencode()

    @property
    def previous_href(self) -> str:
        return self._href(self.number - 1) if self.number > 1 else ""

    @property
    def next_href(self) -> str:
        return self._href(self.number + 1) if self.number < self.pages else ""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / PER_PAGE))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * PER_PAGE + 1 if self.count else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1 if self.count else 0


def _page_number(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _list_page(queryset, pages: QueryDict, param: str, **totals) -> tuple[ListPage, dict]:
    """One page of `queryset` and the whole list's size (and any `totals`) in one query: a
    window counts the rows before LIMIT cuts them. A page past the end (an old link) shows
    the last one, at the cost of a count."""
    number = _page_number(pages.get(param))
    rows = queryset.annotate(
        full_count=Window(Count("pk")), **{n: Window(e) for n, e in totals.items()}
    )
    items = list(rows[(number - 1) * PER_PAGE : number * PER_PAGE])
    if not items and number > 1:
        number = max(1, math.ceil(queryset.count() / PER_PAGE))
        items = list(rows[(number - 1) * PER_PAGE : number * PER_PAGE])
    first = items[0] if items else None
    count = first.full_count if first else 0
    return ListPage(items, number, count, param, pages), {
        n: getattr(first, n, None) for n in totals
    }


def customer_page(customer: Customer, *, today: dt.date, pages: Mapping | None = None) -> dict:
    """The page's lists, PER_PAGE rows each, picked by ?invoices_page=, ?payments_page=
    and ?letters_page=; a fixed number of queries however long the lists."""
    pages = pages if isinstance(pages, QueryDict) else QueryDict(urlencode(pages or {}))
    invoices, totals = _list_page(
        Invoice.objects.filter(customer=customer, status__in=OPEN).order_by(
            "due_date", "number", "pk"
        ),
        pages,
        "invoices_page",
        open_total=Sum("open_balance"),
    )
    copies = newest_copy_ids(invoice.pk for invoice in invoices.items)
    for invoice in invoices.items:
        invoice.copy_id = copies.get(invoice.pk)
        invoice.overdue_days = invoice.days_overdue(today)
    letters, _ = _list_page(
        Document.objects.filter(customer=customer, kind=DocumentKind.LETTER)
        .defer("content")
        .order_by("-created_at", "-id"),
        pages,
        "letters_page",
    )
    payments, _ = _list_page(
        Payment.objects.filter(customer=customer, reversed_on__isnull=True).order_by(
            "-received_on", "-id"
        ),
        pages,
        "payments_page",
    )
    return {
        "organisation": Organisation.current(),
        "firm": LetterSettings.current(),
        "invoices": invoices.items,
        "invoice_list": invoices,
        "letters": letters.items,
        "letter_list": letters,
        "payments": payments.items,
        "payment_list": payments,
        "open_total": totals["open_total"] or Decimal("0"),
        # Whether to offer stopping collection email, and why (portal.contacts).
        "opt_out_right": opt_out_right(customer),
        "customer_requests": customer_requests(customer),
        "pending_checks": pending_checks(customer, today=today),
    }


def invoice_copy(customer: Customer, invoice_id: int) -> Document | None:
    """The newest copy of one of this customer's invoices; None for anyone else's."""
    return (
        Document.objects.filter(
            kind=DocumentKind.INVOICE_COPY, invoice_id=invoice_id, invoice__customer=customer
        )
        .order_by("-id")
        .first()
    )


def letter(customer: Customer, document_id: int) -> Document | None:
    return Document.objects.filter(
        pk=document_id, customer=customer, kind=DocumentKind.LETTER
    ).first()


# --- requests a collector decides (portal.request_services) -----------------------------------

SHOWN_REQUESTS = 10


def customer_requests(customer: Customer) -> list[CustomerRequest]:
    """The customer's newest requests, for their page: waiting, answered and decided."""
    return list(CustomerRequest.objects.filter(customer=customer)[:SHOWN_REQUESTS])


def _waiting():
    return CustomerRequest.objects.filter(status=RequestStatus.PENDING)


def requests_waiting(*, user, mine: bool = False) -> list[CustomerRequest]:
    """Requests waiting for a decision, oldest first: a collector's own customers' first
    (only theirs with `mine`). One query, whatever their number."""
    waiting = _waiting().select_related("customer__collector", "contact", "link")
    if not has_role(user, MANAGER):
        if mine:
            waiting = waiting.filter(customer__collector=user)
        waiting = waiting.annotate(
            others=Case(When(customer__collector=user, then=Value(0)), default=Value(1))
        ).order_by("others", "made_at", "id")
    else:
        waiting = waiting.order_by("made_at", "id")
    return list(waiting)


def requests_waiting_count(user) -> int:
    """How many requests wait for this user: a collector's own customers', or all for a
    manager. One query, for the navigation."""
    waiting = _waiting()
    if not has_role(user, MANAGER):
        waiting = waiting.filter(customer__collector=user)
    return waiting.count()


def request_detail(pk: int) -> CustomerRequest | None:
    return (
        CustomerRequest.objects.select_related(
            "customer__collector", "contact", "link", "decided_by"
        )
        .filter(pk=pk)
        .first()
    )
