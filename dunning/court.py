"""Is it worth going to court? For a referral case: what a claim would be (the balance, the
interest and compensation the final demand claims, and the interest owed on invoices paid
late, each with its working), the first limitation date, the small-claims limit and court
fee for the customer's jurisdiction, how the customer has been paying, and what is left
after the court fee, with a verdict in words. A fixed number of queries, however many
invoices."""

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Max, Q, Sum

from invoices.dates import format_day
from invoices.models import Customer, Payment
from invoices.money import format_money
from letters.claims import claim_record, nothing_claimed
from letters.context import Record
from letters.exceptions import LetterError

from . import small_claims
from .limitation import WARN_DAYS, country_name
from .models import Chase, ChaseStatus, Claimant, HoldStatus, PromiseToPay
from .rules import policy_for
from .small_claims import SmallClaims

if TYPE_CHECKING:  # pack.py builds on this module
    from .pack import Case

ZERO = Decimal("0.00")
HISTORY_DAYS = 365  # "the last 12 months" of payments and promises
OK, WARN, STOP = "ok", "warn", "stop"
BARRED_INTEREST = "No interest is claimed on a debt past its limitation date."
NOT_COUNTED = (
    "Not counted: a lawyer's or agency's fees, the time a claim takes, the cost of enforcing "
    "a judgment, and whether {name} can pay."
)


@dataclass(frozen=True)
class Paying:
    """How the customer has paid over the last HISTORY_DAYS."""

    since: dt.date
    count: int  # payments in the customer's currency
    total: Decimal
    other_currencies: int  # payments in other currencies, not added up
    last_on: dt.date | None  # the latest payment ever
    kept: int  # promises made since, kept or broken
    broken: int


@dataclass(frozen=True)
class Court:
    """The answer for one case: the figures, what is on file, and the verdict in words."""

    today: dt.date
    currency: str
    balance: Decimal  # of the invoices referred
    interest: Record  # letters.claims.claim_record: lines, paid_late, totals, reason
    limitation: dt.date | None  # the earliest limitation date among the invoices referred
    limitation_invoice: str
    limitation_words: str  # e.g. "in 4 years", "passed on 10 Jan 2025"
    limitation_unknown: str  # why no date is known
    small_claims: SmallClaims | None
    small_claims_missing: str  # what is not on file, in words ("" when both are)
    over_limit: bool | None  # None: no limit on file, or in another currency
    paying: Paying
    verdict: str
    level: str  # OK, WARN or STOP
    not_counted: str

    @property
    def claim(self) -> Decimal:
        """The balance, interest and compensation, and what invoices paid late owe."""
        interest = self.interest
        return self.balance + interest["total"] + interest["compensation"] + self.paid_late

    @property
    def lines(self) -> list[dict]:
        """The working of each invoice referred, its rates in words (rate_text)."""
        return _working(self.interest["lines"])

    @property
    def paid_late_lines(self) -> list[dict]:
        return _working(self.interest["paid_late"])

    @property
    def paid_late(self) -> Decimal:
        return self.interest["paid_late_total"]

    @property
    def fee(self) -> Decimal | None:
        return self.small_claims.fee if self.small_claims else None

    @property
    def net(self) -> Decimal:
        """The expected net recovery: the claim less the court fee (when one is on file)."""
        return self.claim - (self.fee or ZERO)

    @property
    def prominent(self) -> bool:
        """Worth saying before anything else on the page: past the limit or the date."""
        return self.level == STOP or bool(self.over_limit)


def court_case(case: "Case", *, today: dt.date) -> Court:
    """Whether the referral case is worth taking to court on `today` (see the module)."""
    customer = case.customer
    lines = [
        {"number": line["number"], "due_date": line["due_date"], "balance": line["balance"]}
        for line in case.invoices
    ]
    interest = _interest(case, lines, today)
    dated = [(line["limitation"], line["number"]) for line in case.invoices if line["limitation"]]
    first, first_number = min(dated) if dated else (None, "")
    unknown = ""
    if first is None and case.invoices:
        where = country_name(customer.country) if customer.country else "this customer"
        unknown = f"No limitation period is on file for {where}"
    small = small_claims_row(customer, on=today)
    court = Court(
        today=today,
        currency=case.currency,
        balance=case.total,
        interest=interest,
        limitation=first,
        limitation_invoice=first_number,
        limitation_words=how_far(today, first) if first else "",
        limitation_unknown=unknown,
        small_claims=small,
        small_claims_missing=_missing(customer, small),
        over_limit=None,
        paying=paying_record(customer, today=today),
        verdict="",
        level=OK,
        not_counted=NOT_COUNTED.format(name=customer.name),
    )
    over = None
    if small is not None and small.currency == case.currency:
        over = court.claim > small.limit
    court = replace(court, over_limit=over)
    verdict, level = _verdict(court, customer)
    return replace(court, verdict=verdict, level=level)


def _interest(case: "Case", lines: list[dict], today: dt.date) -> Record:
    """What the final demand claims for these invoices (the same rule and figures as
    letters.render.context_build): none on a barred debt."""
    if not lines:
        return nothing_claimed("Nothing is referred.")
    if case.barred:
        return nothing_claimed(BARRED_INTEREST)
    regime = policy_regime(case.customer, chase_id=_chase_id(case))
    try:
        return claim_record(customer=case.customer, regime=regime, lines=lines, today=today)
    except LetterError as error:
        return nothing_claimed(str(error))


def _chase_id(case: "Case") -> int | None:
    demand = case.final_demand
    return demand.touch.chase_id if demand is not None else None


def policy_regime(customer: Customer, *, chase_id: int | None = None) -> str:
    """The interest law of the customer's policy (Policy.interest_regime; "" for none): the
    policy of the chase the final demand was sent in, else of their active chase, else the
    one chosen for them, else by the policy rules, else the default (dunning.rules). At most
    five queries."""
    chases = Chase.objects.filter(pk=chase_id) if chase_id else None
    if chases is None:
        chases = Chase.objects.filter(customer=customer, status=ChaseStatus.ACTIVE)
    regime = chases.values_list("policy_version__policy__interest_regime", flat=True).first()
    if regime is not None:
        return regime
    policy, _why = policy_for(customer)
    return policy.interest_regime if policy else ""


def small_claims_row(customer: Customer, *, on: dt.date) -> SmallClaims | None:
    """The small-claims row for a claim by us (a business) against the customer. One query."""
    return small_claims.small_claims_row(customer.country, customer.region, Claimant.BUSINESS, on)


def paying_record(customer: Customer, *, today: dt.date) -> Paying:
    """The customer's payments and promises over the last HISTORY_DAYS. Two queries."""
    since = today - dt.timedelta(days=HISTORY_DAYS)
    recent = Q(received_on__gt=since, received_on__lte=today)
    same = Q(currency=customer.currency)
    payments = Payment.objects.filter(customer=customer, reversed_on__isnull=True).aggregate(
        count=Count("pk", filter=recent & same),
        total=Sum("amount", filter=recent & same),
        other=Count("pk", filter=recent & ~same),
        last_on=Max("received_on", filter=Q(received_on__lte=today)),
    )
    promises = PromiseToPay.objects.filter(
        customer=customer, made_on__gt=since, made_on__lte=today
    ).aggregate(
        kept=Count("pk", filter=Q(status=HoldStatus.KEPT)),
        broken=Count("pk", filter=Q(status=HoldStatus.BROKEN)),
    )
    return Paying(
        since=since,
        count=payments["count"],
        total=payments["total"] or ZERO,
        other_currencies=payments["other"],
        last_on=payments["last_on"],
        kept=promises["kept"],
        broken=promises["broken"],
    )


def rate_text(rate: Decimal) -> str:
    """A yearly rate as people write it: "11.75%", "8.00%", "11.125%" (never rounded)."""
    cents = rate.quantize(Decimal("0.01"))
    return f"{cents if cents == rate else rate.normalize()}%"


def _working(lines) -> list[dict]:
    """Interest lines (letters.claims records) as the working table shows them."""
    return [
        {
            "invoice_number": line["invoice_number"],
            "amount": line["amount"],
            "due_date": line["due_date"],
            "paid_on": line["paid_on"],
            "days": line["days"],
            "interest": line["interest"],
            "compensation": line["compensation"],
            "periods": [
                {
                    "start": period["start"],
                    "end": period["end"],
                    "days": period["days"],
                    "rate_text": rate_text(period["rate"]),
                    "base": period["base"],
                    "interest": period["interest"],
                }
                for period in line["periods"]
            ],
        }
        for line in lines
    ]


def how_far(today: dt.date, day: dt.date) -> str:
    """How far a date is from today, roughly, in words: "in 4 years", "passed on …"."""
    if day < today:
        return f"passed on {format_day(day)}"
    if day == today:
        return "today"
    days = (day - today).days
    if days <= 60:
        return f"in {_count(days, 'day')}"
    gap = relativedelta(day, today)
    if gap.years >= 2:
        return f"in {_count(gap.years, 'year')}"
    return f"in {_count(gap.years * 12 + gap.months, 'month')}"


def _where(customer: Customer) -> str:
    if not customer.country:
        return "this customer (no country on file)"
    place = country_name(customer.country)
    return f"{customer.region.strip()}, {place}" if customer.region.strip() else place


def _missing(customer: Customer, small: SmallClaims | None) -> str:
    if small is None:
        return f"No small-claims limit or court fee is on file for {_where(customer)}."
    if small.fee is None:
        return f"No court fee is on file for {_where(customer)}: none is deducted."
    return ""


def _verdict(court: Court, customer: Customer) -> tuple[str, str]:
    """The verdict in one line, and how loudly to say it."""
    if not court.balance:
        return "Nothing is left to refer", STOP
    if court.limitation is not None and court.limitation < court.today:
        return (
            f"Past the limitation date on {format_day(court.limitation)}: not worth going to court",
            STOP,
        )
    money = format_money
    if court.fee is not None and court.net <= 0:
        return (
            f"The court fee ({money(court.fee, court.small_claims.currency)}) is more than the "
            f"claim ({money(court.claim, court.currency)}): not worth going to court",
            STOP,
        )
    limitation = _limitation_clause(court)
    small = court.small_claims
    if court.over_limit:
        limit = money(small.limit, small.currency)
        if customer.country == "GB":
            return (
                f"Over the small-claims limit ({limit}): a fast-track claim, costs not "
                f"recoverable in the same way; {limitation}",
                WARN,
            )
        return (
            f"Over the small-claims limit ({limit}): a claim in a higher court, where costs "
            f"are higher and rarely recovered; {limitation}",
            WARN,
        )
    near = court.limitation is not None and (court.limitation - court.today).days <= WARN_DAYS
    level = WARN if near or court.limitation is None else OK
    if small is None:
        return f"No small-claims limit on file for {_where(customer)}; {limitation}", WARN
    if small.currency != court.currency:
        return (
            f"The small-claims limit is {money(small.limit, small.currency)} and the claim is "
            f"in {court.currency}: compare them by hand; {limitation}",
            WARN,
        )
    limit = money(small.limit, small.currency)
    return f"Within the small-claims limit ({limit}); {limitation}", level


def _limitation_clause(court: Court) -> str:
    if court.limitation is None:
        return "no limitation date is known"
    if (court.limitation - court.today).days <= WARN_DAYS:
        return (
            f"limitation date {court.limitation_words} ({format_day(court.limitation)}): "
            "issue the claim before then"
        )
    return f"limitation date {court.limitation_words}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
