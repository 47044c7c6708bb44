"""The demo's writer: the rows of a whole demo ledger in memory, then one bulk insert per
table and one append of their audit events (see invoices/demo.py)."""

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from audit.services import Event

from .dates import format_day
from .exceptions import DisputeError, LedgerError, OverAllocation
from .models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceStatus,
    Payment,
)
from .money import ZERO, format_money, quantize
from .services import CUSTOMER_FIELDS, credit_hold_by_hand

Progress = Callable[[str], None]


def _plain(value):
    """A value as the services put it in an event's data."""
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, Decimal | date):
        return str(value)
    return value


class BulkLedger:
    """The rows of the load, held in memory until write().

    Each service rule the demo relies on is kept here as the service keeps it: an invoice's
    balance, status and closing date follow from its allocations and open disputes, money is
    never applied past an open balance, and each change has its audit event. Events name
    primary keys, so they are kept as functions of the saved rows until then."""

    def __init__(self):
        self.customers: list[Customer] = []
        self.contacts: list[Contact] = []
        self.invoices: list[Invoice] = []
        self.payments: list[Payment] = []
        self.credit_notes: list[CreditNote] = []
        self.allocations: list[Allocation] = []
        self.disputes: list[Dispute] = []
        self.events: list[Callable[[], Event]] = []
        self._applied: dict[str, list[Allocation]] = defaultdict(list)
        self._disputed: set[str] = set()

    def customer_add(self, customer: Customer) -> Customer:
        customer.clean_fields(exclude=["collector"])  # the collector is a demo user
        if customer.credit_hold:
            credit_hold_by_hand(customer)
        self.customers.append(customer)
        self.events.append(
            lambda: Event(
                action="ledger.customer.created",
                customer_id=customer.pk,
                summary=f"Customer {customer.name} ({customer.external_id}) created",
                data={
                    name: _plain(getattr(customer, name))
                    for name in ("external_id", *CUSTOMER_FIELDS)
                },
            )
        )
        return customer

    def contact_add(self, customer: Customer, **values) -> None:
        blank = Contact()
        changes = {
            name: [_plain(getattr(blank, name)), _plain(value)]
            for name, value in values.items()
            if getattr(blank, name) != value
        }
        contact = Contact(customer=customer, **values)
        contact.clean_fields(exclude=["customer"])
        self.contacts.append(contact)
        self.events.append(
            lambda: Event(
                action="ledger.contact.created",
                customer_id=customer.pk,
                summary=f"Contact {contact} added",
                # The demo names every channel's primary itself: none is made one for it.
                data={"contact_id": contact.pk, "changes": changes, "made_primary": {}},
            )
        )

    def invoice_add(self, customer: Customer, **values) -> Invoice:
        invoice = Invoice(
            customer=customer, currency=customer.currency, open_balance=values["amount"], **values
        )
        if invoice.due_date < invoice.issue_date or invoice.amount <= 0:
            raise LedgerError(f"Invoice {invoice.number}: bad dates or amount.")
        self.invoices.append(invoice)
        self.events.append(
            lambda: Event(
                action="ledger.invoice.created",
                customer_id=customer.pk,
                invoice_id=invoice.pk,
                summary=f"Invoice {invoice.number} for "
                f"{format_money(invoice.amount, invoice.currency)} "
                f"due {format_day(invoice.due_date)}",
                data={
                    "number": invoice.number,
                    "amount": invoice.amount,
                    "currency": invoice.currency,
                    "issue_date": invoice.issue_date,
                    "due_date": invoice.due_date,
                },
            )
        )
        return invoice

    def payment_add(
        self, customer: Customer, *, amount: Decimal, received_on: date, reference: str, allocations
    ) -> None:
        amount = quantize(amount)
        payment = Payment(
            customer=customer,
            received_on=received_on,
            amount=amount,
            currency=customer.currency,
            reference=reference,
        )
        self.payments.append(payment)
        applied = self._apply(payment, allocations, on=received_on)
        only = allocations[0][0] if len(allocations) == 1 else None
        self.events.append(
            lambda: Event(
                action="ledger.payment.recorded",
                customer_id=customer.pk,
                invoice_id=only.pk if only else None,
                summary=f"Payment of {format_money(amount, payment.currency)} received "
                f"{format_day(received_on)}" + (f" (ref {reference})" if reference else ""),
                data={
                    "payment_id": payment.pk,
                    "amount": amount,
                    "currency": payment.currency,
                    "received_on": received_on,
                    "reference": reference,
                    "allocations": applied,
                    "unallocated": amount - sum((Decimal(a["amount"]) for a in applied), ZERO),
                },
            )
        )

    def credit_add(
        self, invoice: Invoice, *, amount: Decimal, reason: str, on: date, write_off: bool
    ) -> CreditNote:
        amount = quantize(amount)
        if invoice.open_balance <= 0:
            raise LedgerError(f"Invoice {invoice.number} has nothing left to credit.")
        # Numbered from its primary key once saved, as credit_note_issue numbers it.
        credit = CreditNote(
            customer=invoice.customer,
            number=f"tmp-{uuid.uuid4()}",
            issued_on=on,
            amount=amount,
            currency=invoice.currency,
            reason=reason,
            is_write_off=write_off,
        )
        self.credit_notes.append(credit)
        self._apply(credit, [(invoice, amount)], on=on)
        kind = "written off" if write_off else "credited"
        self.events.append(
            lambda: Event(
                action="ledger.invoice.written_off" if write_off else "ledger.credit_note.issued",
                customer_id=invoice.customer.pk,
                invoice_id=invoice.pk,
                summary=f"{format_money(amount, invoice.currency)} {kind} on invoice "
                f"{invoice.number}: {reason}",
                data={"credit_note": credit.number, "amount": amount, "reason": reason},
            )
        )
        return credit

    def dispute_add(self, invoice: Invoice, **values) -> Dispute:
        dispute = Dispute(invoice=invoice, **values)
        if invoice.number in self._disputed:
            raise DisputeError(f"Invoice {invoice.number} already has an open dispute.")
        if not ZERO < dispute.amount <= invoice.open_balance:
            raise DisputeError(f"Invoice {invoice.number}: the amount in dispute is out of range.")
        self.disputes.append(dispute)
        self._disputed.add(invoice.number)
        self._refresh(invoice)
        self.events.append(
            lambda: Event(
                action="ledger.dispute.opened",
                customer_id=invoice.customer.pk,
                invoice_id=invoice.pk,
                summary=f"Dispute opened on {invoice.number}: {dispute.get_reason_display()}",
                data={
                    "dispute_id": dispute.pk,
                    "reason": dispute.reason,
                    "amount": dispute.amount,
                    "detail": dispute.detail,
                },
            )
        )
        return dispute

    def dispute_close(self, dispute: Dispute, *, outcome: str, on: date, note: str) -> None:
        """As dispute_resolve: resolved for the customer credits the amount in dispute."""
        invoice = dispute.invoice
        dispute.status = outcome
        dispute.resolved_on = on
        dispute.resolution_note = note
        self._disputed.discard(invoice.number)
        if outcome == DisputeStatus.RESOLVED_FOR_CUSTOMER:
            dispute.credit_note = self.credit_add(
                invoice,
                amount=min(dispute.amount, invoice.open_balance),
                reason=f"Dispute resolved for the customer: {dispute.get_reason_display()}",
                on=on,
                write_off=False,
            )
        self._refresh(invoice)
        self.events.append(
            lambda: Event(
                action="ledger.dispute.resolved",
                customer_id=invoice.customer.pk,
                invoice_id=invoice.pk,
                summary=f"Dispute on {invoice.number} {dispute.get_status_display().lower()}",
                data={"dispute_id": dispute.pk, "outcome": outcome, "note": note},
            )
        )

    def _apply(self, source, allocations, *, on: date) -> list:
        applied = []
        total = ZERO
        for invoice, part in allocations:
            part = quantize(part)
            if not ZERO < part <= invoice.open_balance:
                raise OverAllocation(
                    f"{part} cannot be applied to invoice {invoice.number}, which has "
                    f"{invoice.open_balance} open."
                )
            total += part
            allocation = Allocation(invoice=invoice, amount=part, applied_on=on)
            if isinstance(source, Payment):
                allocation.payment = source
            else:
                allocation.credit_note = source
            self.allocations.append(allocation)
            self._applied[invoice.number].append(allocation)
            self._refresh(invoice)
            applied.append({"invoice": invoice.number, "amount": str(part)})
        if total > source.amount:
            raise OverAllocation(f"Allocations of {total} exceed the {source.amount} received.")
        if isinstance(source, Payment):
            source.unapplied = source.amount - total
        return applied

    def _refresh(self, invoice: Invoice) -> None:
        """invoice_refresh, in memory."""
        allocations = self._applied[invoice.number]
        invoice.open_balance = invoice.amount - sum((a.amount for a in allocations), ZERO)
        if invoice.open_balance == 0:
            written_off = any(a.credit_note and a.credit_note.is_write_off for a in allocations)
            invoice.status = InvoiceStatus.WRITTEN_OFF if written_off else InvoiceStatus.PAID
            invoice.closed_on = max(a.applied_on for a in allocations)
        else:
            disputed = invoice.number in self._disputed
            invoice.status = InvoiceStatus.IN_DISPUTE if disputed else InvoiceStatus.OPEN
            invoice.closed_on = None

    def write(self, say: Progress) -> list[Event]:
        """Insert every row, parents first; returns the audit events, in order."""
        Customer.objects.bulk_create(self.customers)
        Contact.objects.bulk_create(self.contacts)
        Invoice.objects.bulk_create(self.invoices)
        say(
            f"  {len(self.customers):,} customers, {len(self.contacts):,} contacts and "
            f"{len(self.invoices):,} invoices written"
        )
        Payment.objects.bulk_create(self.payments)
        CreditNote.objects.bulk_create(self.credit_notes)
        for credit in self.credit_notes:
            credit.number = f"{'WO' if credit.is_write_off else 'CN'}-{credit.pk:06d}"
        CreditNote.objects.bulk_update(self.credit_notes, ["number"])
        Allocation.objects.bulk_create(self.allocations)
        Dispute.objects.bulk_create(self.disputes)
        say(
            f"  {len(self.payments):,} payments, {len(self.credit_notes):,} credit notes, "
            f"{len(self.allocations):,} allocations and {len(self.disputes):,} disputes written"
        )
        return [make() for make in self.events]
