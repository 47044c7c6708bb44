"""The satisfaction check on the customer's page: which invoices wait for an answer, and
answering (dunning.checks records it; the contact gets a confirmation email)."""

import datetime as dt

from django.db import transaction

from dunning.checks import ASKED, check_touch, satisfaction_answer_record
from dunning.models import SatisfactionAnswer, StepKind, Touch
from invoices.dates import format_day
from invoices.models import Customer, DisputeReason, Invoice, InvoiceStatus
from invoices.money import format_money

from .confirmations import confirmation_queue
from .models import PortalLink
from .requests import came_from


def pending_checks(customer: Customer, *, today: dt.date) -> list[Invoice]:
    """Invoices a check message asked about that are still open, not due and not disputed,
    and not answered yet, soonest due first. Two queries."""
    asked: set[int] = set()
    for listed in Touch.objects.filter(
        customer=customer, step__kind=StepKind.CHECK, status__in=ASKED
    ).values_list("invoices", flat=True):
        asked.update(int(line["id"]) for line in listed)  # text once sent
    if not asked:
        return []
    return list(
        Invoice.objects.filter(
            customer=customer,
            pk__in=asked,
            status=InvoiceStatus.OPEN,
            due_date__gt=today,
            satisfaction_answer__isnull=True,
        ).order_by("due_date", "number")
    )


class CheckPage:
    """One invoice's check as its page shows it: the answer given, if any, and whether it
    can still be answered (and why not)."""

    def __init__(self, invoice: Invoice, answer: SatisfactionAnswer | None, today: dt.date):
        self.invoice = invoice
        self.answer = answer
        self.before_due = today < invoice.due_date
        self.closed = ""
        if answer is None and invoice.status == InvoiceStatus.IN_DISPUTE:
            self.closed = "A dispute is already open for this invoice: we are looking into it."
        elif answer is None and invoice.open_balance <= 0:
            self.closed = "This invoice is paid: thank you, there is nothing to check."

    @property
    def open(self) -> bool:
        return self.answer is None and not self.closed


def check_page(customer: Customer, invoice_id: int, *, today: dt.date) -> CheckPage | None:
    """The check of one of this customer's invoices that a check message asked about (or
    that was answered); None for any other invoice, or another customer's."""
    invoice = Invoice.objects.filter(pk=invoice_id, customer=customer).first()
    if invoice is None:
        return None
    answer = (
        SatisfactionAnswer.objects.filter(invoice=invoice)
        .select_related("dispute", "acknowledgement")
        .first()
    )
    if answer is None and check_touch(customer.pk, invoice.pk) is None:
        return None
    return CheckPage(invoice, answer, today)


@transaction.atomic
def check_answer(
    *,
    link: PortalLink,
    invoice: Invoice,
    answer: str,
    now: dt.datetime,
    reason: str | None = None,
    detail: str = "",
) -> SatisfactionAnswer:
    """Record the contact's answer and confirm it to them by email, in one transaction.
    Raises dunning.checks.CheckAnswered (the first answer stands) or DunningError /
    DisputeError with a message for the page."""
    customer = link.customer
    recorded = satisfaction_answer_record(
        customer=customer,
        invoice=invoice,
        answer=answer,
        contact=link.contact,
        link_data=came_from(link),
        now=now,
        reason=reason,
        detail=detail,
    )
    amount = format_money(invoice.amount, invoice.currency)
    whom = link.contact.name or customer.name
    if recorded.dispute_id:
        subject = f"We are looking into invoice {invoice.number}"
        body = (
            f"You told us there is a problem with invoice {invoice.number} ({amount}): "
            f"{DisputeReason(reason).label.lower()}."
            + (f'\n\nYour words: "{recorded.dispute.detail}"' if recorded.dispute.detail else "")
            + "\n\nWe have opened a dispute and will not ask for payment of this invoice "
            "while we look into it. A member of our team will be in touch.\n"
        )
    else:
        subject = f"Thank you: invoice {invoice.number} is in order"
        body = (
            f"Thank you for confirming that invoice {invoice.number} ({amount}, due "
            f"{format_day(invoice.due_date)}) arrived and is in order.\n"
        )
    confirmation_queue(
        contact=link.contact,
        key=f"check:{recorded.pk}",
        subject=subject,
        text=f"Dear {whom},\n\n{body}",
        now=now,
    )
    return recorded
