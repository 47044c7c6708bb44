"""Payment plans the customer asks for on their page: the rules of what they may ask, the
request itself (portal.requests.customer_request_make) and the plan it becomes once a
collector approves it, or the customer accepts a collector's counter-offer."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Sum

from dunning.models import PaymentPlan, PlanStatus
from dunning.selectors import PLAN_EVERY, plan_schedule
from dunning.services import plan_create
from invoices.dates import format_day
from invoices.models import Customer, Invoice, InvoiceStatus
from invoices.money import format_money

from .confirmations import confirmation_queue
from .exceptions import PortalError
from .models import CustomerRequest, PortalLink, RequestKind, RequestStatus
from .requests import customer_request_make

FEWEST, MOST = 2, 12
FIRST_WITHIN_DAYS = 30
# A request the collector has not settled yet, or a counter-offer the customer has not
# answered: either way a second one would only cross it.
WAITING = (RequestStatus.PENDING, RequestStatus.COUNTERED)

Schedule = list[tuple[dt.date, Decimal]]


def customer_today(customer: Customer, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(customer.timezone)).date()


def plan_total(customer: Customer, *, today: dt.date) -> Decimal:
    """What a plan asked for on the page covers: the open balance of the customer's overdue
    invoices, not those in dispute (a dispute is settled first) nor those not yet due."""
    total = Invoice.objects.filter(
        customer=customer,
        status=InvoiceStatus.OPEN,
        currency=customer.currency,
        due_date__lt=today,
    ).aggregate(total=Sum("open_balance"))["total"]
    # SQLite sums to a Decimal without places: money keeps two.
    return (total or Decimal("0")).quantize(Decimal("0.01"))


def plan_refusal(customer: Customer) -> str:
    """Why the customer cannot ask for a plan now, in words for them; empty if they can."""
    if PaymentPlan.objects.filter(customer=customer, status=PlanStatus.ACTIVE).exists():
        return "You already have a payment plan with us. Contact us to change it."
    waiting = CustomerRequest.objects.filter(
        customer=customer, kind=RequestKind.PLAN, status__in=WAITING
    ).first()
    if waiting is None:
        return ""
    if waiting.status == RequestStatus.COUNTERED:
        return "We have answered your request for a payment plan: see our offer on your page."
    return (
        f"You asked for a payment plan on {format_day(waiting.made_at.date())}: "
        "we will answer it soon."
    )


def first_date_range(today: dt.date) -> tuple[dt.date, dt.date]:
    return today + dt.timedelta(days=1), today + dt.timedelta(days=FIRST_WITHIN_DAYS)


def schedule_json(schedule: Schedule) -> list[list[str]]:
    return [[due.isoformat(), str(amount)] for due, amount in schedule]


def schedule_of(rows) -> Schedule:
    """A schedule back from a request's proposal or counter."""
    return [(dt.date.fromisoformat(due), Decimal(amount)) for due, amount in rows]


def schedule_words(schedule: Schedule, currency: str) -> str:
    return "\n".join(
        f"{n}. {format_day(due)}: {format_money(amount, currency)}"
        for n, (due, amount) in enumerate(schedule, start=1)
    )


def plan_offer(*, total: Decimal, count: int, first_date: dt.date, every: str) -> dict:
    """A schedule as a request's proposal or a collector's counter stores it."""
    schedule = plan_schedule(total=total, count=count, first_date=first_date, every=every)
    return {
        "total": str(total),
        "count": count,
        "every": every,
        "first_date": first_date.isoformat(),
        "instalments": schedule_json(schedule),
    }


@transaction.atomic
def plan_request_make(
    *,
    link: PortalLink,
    count: int,
    first_date: dt.date,
    every: str,
    message: str = "",
    now: dt.datetime,
) -> CustomerRequest:
    """The customer asks for a payment plan of their overdue balance: `count` equal
    instalments every week, fortnight or month from `first_date`. Waits for a collector."""
    # One request at a time: a second submit waits here and then sees the first.
    customer = Customer.objects.select_for_update().get(pk=link.customer_id)
    refusal = plan_refusal(customer)
    if refusal:
        raise PortalError(refusal)
    today = customer_today(customer, now)
    earliest, latest = first_date_range(today)
    if not FEWEST <= count <= MOST:
        raise PortalError(f"Choose between {FEWEST} and {MOST} instalments.")
    if not earliest <= first_date <= latest:
        raise PortalError(
            f"The first instalment must fall between {format_day(earliest)} "
            f"and {format_day(latest)}."
        )
    if every not in PLAN_EVERY:
        raise PortalError("Choose how often you would pay.")
    total = plan_total(customer, today=today)
    if total < Decimal("0.01") * count:
        raise PortalError("Nothing overdue is left to spread over a plan.")
    proposal = plan_offer(total=total, count=count, first_date=first_date, every=every)
    money = format_money(total, customer.currency)
    request = customer_request_make(
        link=link,
        kind=RequestKind.PLAN,
        proposal=proposal,
        message=message,
        summary=f"Asked for a payment plan: {money} in {count} instalments, "
        f"{PLAN_EVERY[every].lower()} from {format_day(first_date)}",
        now=now,
    )
    schedule = schedule_of(proposal["instalments"])
    confirmation_queue(
        contact=link.contact,
        key=f"plan-request:{request.pk}",
        subject=f"Your request for a payment plan: {money} in {count} instalments",
        text=(
            f"Dear {link.contact.name or customer.name},\n\n"
            f"We have your request to pay {money} in {count} instalments:\n\n"
            f"{schedule_words(schedule, customer.currency)}\n\n"
            "A member of our team will answer it soon; until then nothing changes. "
            "We will write to you with the answer.\n"
        ),
        now=now,
    )
    return request


def plan_request_apply(
    *, actor, request: CustomerRequest, now: dt.datetime, counter: dict | None = None
) -> PaymentPlan:
    """The payment plan an approved request (or an accepted counter-offer) becomes: the
    schedule asked for, or the one offered. Runs inside the decision's transaction; a
    customer who has an active plan meanwhile is refused (dunning.exceptions.DunningError)."""
    offer = counter if counter is not None else request.proposal
    customer = request.customer
    return plan_create(
        actor=actor,
        customer=customer,
        agreed_on=customer_today(customer, now),
        instalments=schedule_of(offer["instalments"]),
        note=f"Asked for on the customer's page (request {request.pk}).",
    )
