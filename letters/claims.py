"""The late-payment interest and compensation a message may claim from a customer, worked out
from the ledger: which regime applies to them (the policy's statute, else the terms they
accepted, else none), the balance of each invoice day by day from its allocations, and the
invoices already paid late. Also how far a policy's statutory regime reaches among its
customers, for the policy page."""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from invoices.dates import format_day
from invoices.models import Allocation, Customer, DebtorType, Invoice, InvoiceStatus

from . import interest as rules
from .context import Record, records
from .exceptions import LetterError
from .models import ReferenceRate

ZERO = rules.ZERO


def claim_regime(*, customer: Customer, regime: str) -> tuple[rules.Regime | None, str]:
    """The regime to claim under and, when there is none, why not in words: the policy's
    statutory regime if it may charge this customer, else the customer's accepted terms if
    they give late charges."""
    reasons = []
    if regime:
        why = rules.regime_applies(regime, customer.debtor_type, customer.currency)
        if why is None:
            return rules.REGIMES[regime], ""
        reasons.append(why)
    else:
        reasons.append("The policy claims no statutory interest.")
    why = rules.terms_apply(
        accepted_on=customer.terms_accepted_on,
        rate=customer.late_interest_rate,
        fee=customer.late_fee,
    )
    if why is None:
        version = f" {customer.terms_version}" if customer.terms_version else ""
        return rules.contractual(
            name=f"terms of business{version} accepted on {format_day(customer.terms_accepted_on)}",
            currency=customer.currency,
            rate=customer.late_interest_rate,
            fee=customer.late_fee,
        ), ""
    reasons.append(why)
    return None, " ".join(reasons)


def claim_record(
    *,
    customer: Customer,
    regime: str,
    lines: Sequence[Mapping],
    today: dt.date,
    paid_late_since: dt.date | None = None,
) -> Record:
    """The template's `interest` Record for a message covering these invoice lines (dicts
    with number, due_date, balance and optionally amount): interest to today on each, and on
    the customer's invoices paid late and closed from `paid_late_since` (by default the
    oldest covered due date; a caller that knows when the chase began may reach back to it).

    Costs one query for the rate table (statutory regimes), one for the invoices and one for
    all their allocations; none when nothing may be claimed. Raises LetterError when the rate
    table does not reach back far enough."""
    rule, reason = claim_regime(customer=customer, regime=regime)
    if rule is None:
        return nothing_claimed(reason)
    since = paid_late_since or min((line["due_date"] for line in lines), default=None)
    debts = _debts(customer=customer, lines=lines, since=since, today=today, currency=rule.currency)
    rates = _rates(rule.code) if rule.statutory else ()
    try:
        claimed, _interest, _compensation = rules.claim(
            regime=rule, invoices=debts, as_of=today, rates=rates
        )
    except ValueError as error:
        raise LetterError(f"Late-payment interest cannot be worked out: {error}") from None
    still_open = [line for line in claimed if line.paid_on is None]
    paid_late = [line for line in claimed if line.paid_on is not None]
    late_interest = sum((line.interest for line in paid_late), ZERO)
    late_compensation = sum((line.compensation for line in paid_late), ZERO)
    return Record(
        enabled=True,
        statutory=rule.statutory,
        regime=rule.name,
        reason="",
        total=sum((line.interest for line in still_open), ZERO),
        compensation=sum((line.compensation for line in still_open), ZERO),
        lines=tuple(_line_record(line) for line in still_open),
        paid_late=tuple(_line_record(line) for line in paid_late),
        paid_late_interest=late_interest,
        paid_late_compensation=late_compensation,
        paid_late_total=late_interest + late_compensation,
    )


def nothing_claimed(reason: str) -> Record:
    return Record(
        enabled=False,
        statutory=False,
        regime="",
        reason=reason,
        total=ZERO,
        compensation=ZERO,
        lines=(),
        paid_late=(),
        paid_late_interest=ZERO,
        paid_late_compensation=ZERO,
        paid_late_total=ZERO,
    )


def _line_record(line: rules.InterestLine) -> Record:
    return Record(
        invoice_number=line.invoice_number,
        due_date=line.due_date,
        amount=line.principal,
        days=line.days,
        rate=line.periods[-1].annual_rate if line.periods else ZERO,
        interest=line.interest,
        compensation=line.compensation,
        paid_on=line.paid_on or "",
        periods=records(
            {
                "start": period.start,
                "end": period.end,
                "days": period.days,
                "rate": period.annual_rate,
                "base": period.base,
                "interest": period.amount,
            }
            for period in line.periods
        ),
    )


def _rates(code: str) -> list[rules.ReferenceRate]:
    return [
        rules.ReferenceRate(valid_from=valid_from, rate=rate)
        for valid_from, rate in ReferenceRate.objects.filter(regime=code).values_list(
            "valid_from", "rate"
        )
    ]


def _debts(
    *,
    customer: Customer,
    lines: Sequence[Mapping],
    since: dt.date | None,
    today: dt.date,
    currency: str,
) -> list[rules.Debt]:
    """The covered invoices, then those paid late, each with the money applied to it; an
    invoice in another currency than the claim's is left out. A line the ledger does not hold
    (a sample) counts its amount less its balance as paid before it fell due: interest on the
    balance, compensation by the amount."""
    numbers = [line["number"] for line in lines]
    found = _ledger(customer=customer, numbers=numbers, since=since, today=today)
    debts = []
    for line in lines:
        if line["number"] in found:
            debt, its_currency = found.pop(line["number"])
            if its_currency == currency:
                debts.append(debt)
            continue
        amount = line.get("amount") or line["balance"]
        paid = amount - line["balance"]
        debts.append(
            rules.Debt(
                number=line["number"],
                amount=amount,
                due_date=line["due_date"],
                applied=(rules.Applied(line["due_date"], paid),) if paid > 0 else (),
            )
        )
    return debts + [debt for debt, its_currency in found.values() if its_currency == currency]


def _ledger(
    *,
    customer: Customer,
    numbers: Sequence[str],
    since: dt.date | None,
    today: dt.date,
) -> dict[str, tuple[rules.Debt, str]]:
    """The customer's invoices by number, with their currency: those named, and those paid
    in full late from `since` to `today`. Credit notes that are not write-offs correct the
    invoice, so they come off its amount from the start; payments and write-offs reduce it
    from their date."""
    if customer.pk is None:
        return {}
    wanted = Q(number__in=numbers)
    if since is not None:
        wanted |= Q(
            status=InvoiceStatus.PAID,
            closed_on__gt=F("due_date"),
            closed_on__gte=since,
            closed_on__lte=today,
        )
    rows = list(
        Invoice.objects.filter(wanted, customer=customer)
        .order_by("due_date", "number")
        .values_list("pk", "number", "amount", "due_date", "currency")
    )
    corrections = defaultdict(lambda: ZERO)
    applied = defaultdict(list)
    for invoice_id, amount, on, credit_note, write_off in Allocation.objects.filter(
        invoice_id__in=[row[0] for row in rows]
    ).values_list(
        "invoice_id", "amount", "applied_on", "credit_note_id", "credit_note__is_write_off"
    ):
        if credit_note is not None and not write_off:
            corrections[invoice_id] += amount
        else:
            applied[invoice_id].append(rules.Applied(on, amount))
    return {
        number: (
            rules.Debt(
                number=number,
                amount=max(amount - corrections[pk], ZERO),
                due_date=due_date,
                applied=tuple(applied[pk]),
            ),
            currency,
        )
        for pk, number, amount, due_date, currency in rows
    }


@dataclass(frozen=True)
class Reach:
    """How many of a policy's customers its statutory regime can charge, and why not the rest."""

    regime: str  # the code; blank when the policy claims none
    customers: int
    consumers: int
    other_currencies: tuple[tuple[str, int], ...]  # (currency, businesses billed in it)
    by_terms: int  # of the customers left out, those charged under their accepted terms

    @property
    def left_out(self) -> int:
        return self.consumers + sum(count for _currency, count in self.other_currencies)

    @property
    def audience(self) -> str:
        return rules.audience(self.regime) if self.regime else "No statutory interest is claimed."

    @property
    def summary(self) -> str:
        """Who is left out and why, in one or two sentences."""
        if not self.customers:
            return "No customers follow this policy yet."
        if not self.regime:
            if not self.by_terms:
                return "None of its customers has accepted terms with late-payment charges."
            return (
                f"{self.by_terms} of its {_count(self.customers, 'customer')} accepted terms"
                " with late-payment charges; those charges are claimed under the terms."
            )
        if not self.left_out:
            return f"It applies to every customer of this policy ({self.customers})."
        parts = [_count(self.consumers, "consumer")] if self.consumers else []
        parts += [f"{count} billed in {currency}" for currency, count in self.other_currencies]
        text = (
            f"It will not apply to {self.left_out} of this policy's"
            f" {_count(self.customers, 'customer')}: {_joined(parts)}."
        )
        if self.by_terms:
            text += (
                f" {self.by_terms} of them accepted terms with late-payment charges, which are"
                " claimed instead."
            )
        return text


def regime_reach(*, regime: str, customers: QuerySet) -> Reach:
    """Reach of a statutory regime over these customers, in one query (a row per currency)."""
    consumer = Q(debtor_type=DebtorType.CONSUMER)
    terms = Q(terms_accepted_on__isnull=False) & (Q(late_interest_rate__gt=0) | Q(late_fee__gt=0))
    rows = (
        customers.order_by()
        .values("currency")
        .annotate(
            total=Count("pk"),
            consumers=Count("pk", filter=consumer),
            consumer_terms=Count("pk", filter=consumer & terms),
            terms=Count("pk", filter=terms),
        )
        .order_by("currency")
    )
    total = consumers = by_terms = 0
    other = []
    currency = rules.REGIMES[regime].currency if regime else None
    for row in rows:
        total += row["total"]
        if not regime:
            by_terms += row["terms"]
            continue
        consumers += row["consumers"]
        if row["currency"] == currency:
            by_terms += row["consumer_terms"]
        else:
            by_terms += row["terms"]
            if row["total"] > row["consumers"]:
                other.append((row["currency"], row["total"] - row["consumers"]))
    return Reach(
        regime=regime,
        customers=total,
        consumers=consumers,
        other_currencies=tuple(other),
        by_terms=by_terms,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
