"""Promises to pay the customer makes on their page. Within the policy's limits (a date at
most DunningSettings.promise_max_days ahead, for at least what is overdue) it is recorded
at once and pauses the chase; outside them it becomes a request a collector decides
(portal.request_services), which promise_request_apply turns into the promise."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from dunning.exceptions import DunningError
from dunning.models import PromiseToPay
from dunning.selectors import settings_load
from dunning.services import promise_record
from invoices.dates import format_day
from invoices.models import Customer, Invoice, InvoiceStatus, Organisation
from invoices.money import ZERO, format_money

from .confirmations import confirmation_queue
from .disputes import customer_today
from .exceptions import PortalError
from .models import CustomerRequest, PortalLink, RequestKind, RequestStatus
from .requests import came_from, customer_request_make

LABEL = "customer page"
# A request not yet decided, or a counter-offer not yet answered: a second would cross it.
WAITING = (RequestStatus.PENDING, RequestStatus.COUNTERED)


@dataclass(frozen=True)
class Limits:
    today: dt.date
    latest: dt.date  # the last date a promise may name without a collector's approval
    overdue: list[Invoice]  # not in dispute, oldest first
    open: list[Invoice]  # every invoice a promise may cover: overdue first, then not yet due
    currency: str

    @property
    def overdue_total(self) -> Decimal:
        return sum((i.open_balance for i in self.overdue), ZERO)

    @property
    def open_total(self) -> Decimal:
        return sum((i.open_balance for i in self.open), ZERO)

    def covers(self, amount: Decimal) -> list[Invoice]:
        """The invoices a promise of `amount` covers: the overdue ones, and the ones not yet
        due as well when it is for more than those."""
        if self.overdue and amount <= self.overdue_total:
            return self.overdue
        return self.open

    def within(self, amount: Decimal, promised_for: dt.date) -> bool:
        return promised_for <= self.latest and amount >= self.overdue_total


def promise_limits(customer: Customer, *, today: dt.date) -> Limits:
    """What the customer may promise today without asking: invoices in dispute are left
    out (a dispute is settled first)."""
    invoices = list(
        Invoice.objects.filter(
            customer=customer,
            status=InvoiceStatus.OPEN,
            currency=customer.currency,
            open_balance__gt=0,
        ).order_by("due_date", "number")
    )
    return Limits(
        today=today,
        latest=today + dt.timedelta(days=settings_load().promise_max_days),
        overdue=[i for i in invoices if i.due_date < today],
        open=invoices,
        currency=customer.currency,
    )


def promise_refusal(customer: Customer) -> str:
    """Why the customer cannot make a promise now, in words for them; empty if they can."""
    waiting = CustomerRequest.objects.filter(
        customer=customer, kind=RequestKind.PROMISE, status__in=WAITING
    ).first()
    if waiting is None:
        return ""
    if waiting.status == RequestStatus.COUNTERED:
        return "We have answered your promise to pay: see our offer on your page."
    return (
        f"You offered a promise to pay on {format_day(waiting.made_at.date())}: "
        "we will answer it soon."
    )


def latest_promise(customer: Customer) -> PromiseToPay | None:
    return PromiseToPay.objects.filter(customer=customer).order_by("-created_at", "-id").first()


def latest_request(customer: Customer) -> CustomerRequest | None:
    return CustomerRequest.objects.filter(customer=customer, kind=RequestKind.PROMISE).first()


@transaction.atomic
def promise_make(
    *, link: PortalLink, amount: Decimal, promised_for: dt.date, message: str, now: dt.datetime
) -> PromiseToPay | CustomerRequest:
    """The customer's promise: recorded at once within the limits (the chase pauses), else
    a request waiting for a collector's answer. Audited with the contact and link it came
    from and confirmed to the contact by email."""
    customer = link.customer
    refusal = promise_refusal(customer)
    if refusal:
        raise PortalError(refusal)
    limits = promise_limits(customer, today=customer_today(customer, now))
    if not limits.open:
        raise PortalError("Nothing is waiting to be paid: there is nothing to promise.")
    if amount <= 0:
        raise PortalError("Enter the amount you will pay.")
    if amount > limits.open_total:
        raise PortalError(
            f"That is more than the {format_money(limits.open_total, limits.currency)} "
            "you owe: enter at most that."
        )
    if promised_for < limits.today:
        raise PortalError("Choose today or a date after it.")
    invoices = limits.covers(amount)
    if not limits.within(amount, promised_for):
        return _request(link, limits, amount, promised_for, invoices, message, now=now)
    try:
        promise = promise_record(
            actor=None,
            customer=customer,
            amount=amount,
            promised_for=promised_for,
            made_on=limits.today,
            invoices=invoices,
            note=message,
            label=LABEL,
            audit_data=came_from(link),
        )
    except DunningError as error:
        raise PortalError(str(error)) from error
    _confirm(
        link,
        key=f"promise:{promise.pk}",
        subject=f"Your promise to pay {_words(amount, promised_for, limits.currency)}",
        text=f"Thank you: you promised to pay {_words(amount, promised_for, limits.currency)}"
        f" ({_numbers(invoices)}).\n\nWe will not chase these invoices until "
        f"{format_day(promised_for)}.\n",
        now=now,
    )
    return promise


def _request(link, limits: Limits, amount, promised_for, invoices, message, *, now):
    why = []
    if promised_for > limits.latest:
        why.append(f"a date after {format_day(limits.latest)}")
    if amount < limits.overdue_total:
        why.append(f"less than the {format_money(limits.overdue_total, limits.currency)} overdue")
    words = _words(amount, promised_for, limits.currency)
    request = customer_request_make(
        link=link,
        kind=RequestKind.PROMISE,
        proposal={
            "amount": str(amount),
            "promised_for": promised_for.isoformat(),
            "invoice_ids": [i.pk for i in invoices],
        },
        message=message,
        summary=f"Promise to pay {words} offered on the customer page, for a collector to "
        f"approve ({' and '.join(why)})",
        now=now,
    )
    firm = Organisation.current().name
    _confirm(
        link,
        key=f"promise-request:{request.pk}",
        subject=f"Your offer to pay {words}",
        text=f"Thank you: you offered to pay {words} ({_numbers(invoices)}).\n\n"
        f"As it is {' and '.join(why)}, someone at {firm} will look at it and write to you "
        "with our answer. Until then our usual reminders may continue.\n",
        now=now,
    )
    return request


def _confirm(link: PortalLink, *, key: str, subject: str, text: str, now) -> None:
    contact = link.contact
    confirmation_queue(
        contact=contact,
        key=key,
        subject=subject,
        text=f"Dear {contact.name or link.customer.name},\n\n{text}",
        now=now,
    )


def _words(amount: Decimal, promised_for: dt.date, currency: str) -> str:
    return f"{format_money(amount, currency)} by {format_day(promised_for)}"


def _numbers(invoices) -> str:
    numbers = [i.number for i in invoices]
    if len(numbers) > 4:
        return f"{', '.join(numbers[:3])} and {len(numbers) - 3} more"
    return ", ".join(numbers)


def offer_of(offer: dict) -> tuple[Decimal, dt.date]:
    """The amount and date of a promise request's proposal or a collector's counter."""
    day = offer.get("promised_for")
    try:
        return Decimal(str(offer["amount"])), dt.date.fromisoformat(str(day))
    except (KeyError, ValueError, ArithmeticError) as error:
        raise PortalError("The offer needs an amount and a date.") from error


@transaction.atomic
def promise_request_apply(
    *, actor, request: CustomerRequest, now: dt.datetime, counter: dict | None = None
) -> PromiseToPay:
    """Record the promise a collector agreed to: the customer's proposal, or the collector's
    `counter` ({"amount": "…", "promised_for": "YYYY-MM-DD"}). The collector decides, so the
    days-ahead limit of the customer's page does not apply. actor is None when the customer
    accepted a counter-offer on their page. Called inside the decision's transaction."""
    if request.kind != RequestKind.PROMISE:
        raise PortalError("This request is not a promise to pay.")
    customer = request.customer
    amount, promised_for = offer_of(counter or request.proposal)
    limits = promise_limits(customer, today=customer_today(customer, now))
    named = request.proposal.get("invoice_ids") or []
    invoices = [i for i in limits.open if i.pk in named]
    # Paid or disputed since, or a counter for more: the promise covers what is open now.
    if sum((i.open_balance for i in invoices), ZERO) < amount:
        invoices = limits.covers(amount)
    return promise_record(
        actor=actor,
        customer=customer,
        amount=amount,
        promised_for=promised_for,
        made_on=limits.today,
        invoices=invoices,
        note=request.message,
        limit=False,
        label=None if actor is not None else LABEL,
        audit_data={
            "via": "customer_page",
            "contact_id": request.contact_id,
            "link_id": request.link_id,
            "request_id": request.pk,
            **({"counter": True} if counter else {}),
        },
    )
