"""Reads for the payment screens: a customer's recent payments, and the unapplied cash with
the invoices each payment probably pays, in a fixed number of queries whatever the number
of payments and invoices behind them."""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from accounts.roles import MANAGER, has_role
from invoices.models import Invoice, InvoiceStatus, Payment
from invoices.money import ZERO
from invoices.selectors import UncountedPage, uncounted_page

RECENT_PAYMENTS = 10
PAGE_SIZE = 25
# The oldest open invoices fetched per customer and currency to propose from: enough for
# any payment that pays a run of them, and a bound on what one page reads.
OLDEST_PER_CUSTOMER = 20
# A reference longer than this many words is not a remittance listing invoice numbers.
MAX_TOKENS = 12

INVOICE_FIELDS = (
    "id",
    "number",
    "customer_id",
    "currency",
    "issue_date",
    "due_date",
    "amount",
    "open_balance",
    "status",
)


# --- a customer's payments ---------------------------------------------------------------------


def recent_payments(customer_id: int, *, limit: int = RECENT_PAYMENTS) -> list[Payment]:
    """The customer's latest payments, newest first, each with `applied`: one query."""
    payments = list(
        Payment.objects.filter(customer_id=customer_id)
        .only(
            "id",
            "received_on",
            "amount",
            "currency",
            "reference",
            "method",
            "unapplied",
            "reversed_on",
            "reversal_reason",
        )
        .order_by("-received_on", "-id")[:limit]
    )
    for payment in payments:
        payment.applied = ZERO if payment.reversed_on else payment.amount - payment.unapplied
    return payments


# --- unapplied cash and what it probably pays ----------------------------------------------


@dataclass(frozen=True)
class Proposal:
    invoice: Invoice
    amount: Decimal
    reason: str


@dataclass
class UnappliedRow:
    payment: Payment
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def proposed(self) -> Decimal:
        return sum((p.amount for p in self.proposals), ZERO)

    @property
    def left(self) -> Decimal:
        return self.payment.unapplied - self.proposed

    @property
    def plan(self) -> str:
        """The proposal as the Apply button posts it: invoice id and amount pairs."""
        return ",".join(f"{p.invoice.pk}:{p.amount}" for p in self.proposals)


def payments_in_scope(user) -> QuerySet[Payment]:
    """The payments this user may match: a collector's own customers', everyone's for
    managers and admins (accounts.roles.may_change)."""
    payments = Payment.objects.all()
    if not has_role(user, MANAGER):
        payments = payments.filter(customer__collector_id=user.pk)
    return payments


def unapplied_payments(user) -> QuerySet[Payment]:
    # unapplied > 0 is the condition of the partial index payment_unapplied: the few
    # unapplied payments are found among millions by it, newest first.
    return (
        payments_in_scope(user)
        .filter(unapplied__gt=0)
        .select_related("customer")
        .order_by("-received_on", "-id")
    )


def reference_tokens(reference: str) -> set[str]:
    """The words of a payment reference that may be invoice numbers, upper-cased."""
    words = re.split(r"[\s,;/|+&]+", reference or "")[:MAX_TOKENS]
    tokens = {w.strip(".:()[]#'\"").upper() for w in words}
    return {t for t in tokens if len(t) >= 3 and any(c.isdigit() for c in t)}


def _candidates(payments: list[Payment]) -> dict[tuple[int, str], list[Invoice]]:
    """Open invoices the page's payments may pay, per customer and currency, oldest first,
    in one query: the oldest few of each customer, the oldest one whose balance equals a
    payment's unapplied amount, and those a reference names."""
    if not payments:
        return {}
    tokens: set[str] = set()
    for payment in payments:
        for token in reference_tokens(payment.reference):
            tokens.add(token)
    # Numbers are stored as issued; a reference may have them in another case.
    spellings = tokens | {t.lower() for t in tokens} | {t.title() for t in tokens}
    same_amount = Q(pk__in=[])
    for payment in payments:
        same_amount |= Q(
            customer_id=payment.customer_id,
            currency=payment.currency,
            open_balance=payment.unapplied,
        )
    age = [F("due_date").asc(), F("issue_date").asc(), F("number").asc()]
    invoices = (
        Invoice.objects.filter(
            customer_id__in={p.customer_id for p in payments}, status=InvoiceStatus.OPEN
        )
        .only(*INVOICE_FIELDS)
        .annotate(
            age_rank=Window(
                RowNumber(), partition_by=[F("customer_id"), F("currency")], order_by=age
            ),
            amount_rank=Window(
                RowNumber(),
                partition_by=[F("customer_id"), F("currency"), F("open_balance")],
                order_by=age,
            ),
        )
        .filter(
            Q(age_rank__lte=OLDEST_PER_CUSTOMER)
            | (Q(amount_rank=1) & same_amount)
            | Q(number__in=sorted(spellings))
        )
        .order_by("customer_id", "due_date", "issue_date", "number")
    )
    found: dict[tuple[int, str], list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        found[(invoice.customer_id, invoice.currency)].append(invoice)
    return found


def propose(
    payment: Payment, invoices: Iterable[Invoice], taken: dict[int, Decimal] | None = None
) -> list[Proposal]:
    """The invoices this payment probably pays, with why: those its reference names; else
    one whose balance is exactly the amount; else the oldest ones it covers in full (part
    of the oldest when it covers none). What is proposed to payments before it (`taken`,
    updated here) is not proposed again."""
    taken = taken if taken is not None else {}
    left = payment.unapplied
    open_now = [(inv, inv.open_balance - taken.get(inv.pk, ZERO)) for inv in invoices]
    open_now = [(inv, balance) for inv, balance in open_now if balance > 0]
    tokens = reference_tokens(payment.reference)
    proposals: list[Proposal] = []
    named = [(inv, balance) for inv, balance in open_now if inv.number.upper() in tokens]
    if named:
        for inv, balance in named:
            if left <= 0:
                break
            part = min(left, balance)
            proposals.append(Proposal(inv, part, f"reference names {inv.number}"))
            left -= part
    elif same := next((inv for inv, balance in open_now if balance == left), None):
        proposals.append(Proposal(same, left, "same amount"))
    else:
        for inv, balance in open_now:
            if balance > left:
                break
            proposals.append(Proposal(inv, balance, "oldest first"))
            left -= balance
        if not proposals and open_now:
            inv = open_now[0][0]
            proposals.append(Proposal(inv, left, "oldest first, part paid"))
    for proposal in proposals:
        taken[proposal.invoice.pk] = taken.get(proposal.invoice.pk, ZERO) + proposal.amount
    return proposals


def unapplied_rows(payments: list[Payment]) -> list[UnappliedRow]:
    """The payments with their proposals. Two payments of one customer are not both
    proposed the same balance: the one listed first takes it."""
    candidates = _candidates(payments)
    taken: dict[int, Decimal] = {}
    return [
        UnappliedRow(
            payment=payment,
            proposals=propose(
                payment, candidates.get((payment.customer_id, payment.currency), []), taken
            ),
        )
        for payment in payments
    ]


def unapplied_page(user, page=1) -> UncountedPage:
    """One page of the matching screen: the user's unapplied payments, newest first, each
    with its proposal. Two queries whatever the page holds."""
    result = uncounted_page(unapplied_payments(user), page, per_page=PAGE_SIZE)
    result.object_list = unapplied_rows(result.object_list)
    return result
