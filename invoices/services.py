"""Every write to the ledger; each writes its audit event in the same transaction."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    Max,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record

from .dates import format_day
from .exceptions import CurrencyMismatch, DisputeError, InvoiceNotOpen, LedgerError, OverAllocation
from .models import (
    MONEY,
    Allocation,
    Contact,
    ContactRole,
    CreditNote,
    Customer,
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    RaisedVia,
    WriteOffRequest,
    WriteOffStatus,
)
from .money import ZERO, format_money, quantize

CUSTOMER_FIELDS = (
    "name",
    "debtor_type",
    "timezone",
    "currency",
    "country",
    "region",
    "collector",
    "on_hold",
    "hold_reason",
    "hold_until",
    "do_not_contact",
    "insolvent",
    "credit_hold",
    "credit_limit",
    "terms_accepted_on",
    "terms_version",
    "late_interest_rate",
    "late_fee",
    "language",
    "payment_terms_days",
)


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def _changes(obj, values: dict) -> dict:
    """Apply values to obj; return {field: [before, after]} for what really changed."""
    changed = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changed[name] = [_plain(old), _plain(new)]
            setattr(obj, name, new)
    return changed


# --- customers and contacts -------------------------------------------------------------


@transaction.atomic
def customer_create(*, actor, external_id: str, name: str, **fields) -> Customer:
    """Create a customer; unknown fields are refused, validation errors raise."""
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    from .models import Organisation

    org = Organisation.current()
    fields.setdefault("timezone", org.default_timezone)
    fields.setdefault("currency", org.default_currency)
    fields.setdefault("country", org.default_country)
    customer = Customer(external_id=external_id, name=name, **fields)
    if customer.credit_hold:
        credit_hold_by_hand(customer)
    customer.full_clean()
    customer.save()
    audit_record(
        action="ledger.customer.created",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Customer {customer.name} ({customer.external_id}) created",
        data={f: _plain(getattr(customer, f)) for f in ("external_id", *CUSTOMER_FIELDS)},
    )
    return customer


def credit_hold_by_hand(customer: Customer) -> None:
    # A hold a person sets or lifts is theirs: the credit-hold rule neither lifts it nor
    # claims it (dunning.credit_hold).
    customer.credit_hold_by_rule = False
    customer.credit_hold_since = timezone.localdate() if customer.credit_hold else None
    customer.credit_hold_reason = "set by hand" if customer.credit_hold else ""


@transaction.atomic
def customer_update(*, actor, customer: Customer, **values) -> dict:
    """Change a customer's fields; returns the changes (empty when nothing changed)."""
    unknown = set(values) - {"external_id", *CUSTOMER_FIELDS}
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    # NO KEY UPDATE: rows written meanwhile that point at the customer (an audit event, an
    # invoice) only need KEY SHARE, which FOR UPDATE would refuse: a writer holding the audit
    # chain's lock would wait here while this waited for the chain, a deadlock.
    customer = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
    changed = _changes(customer, values)
    if not changed:
        return {}
    if "credit_hold" in changed:
        credit_hold_by_hand(customer)
    customer.full_clean()
    customer.save()
    audit_record(
        action="ledger.customer.updated",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Customer {customer.name} changed: {', '.join(changed)}",
        data={"changes": changed},
    )
    return changed


@transaction.atomic
def contact_save(*, actor, customer: Customer, contact: Contact | None = None, **values) -> Contact:
    """Create or change a contact. Making one primary demotes the previous primary of its
    role, or of the channel; every channel someone can be reached on keeps one primary."""
    creating = contact is None
    contact = contact or Contact(customer=customer)
    changed = _changes(contact, values)
    if not creating and not changed:
        return contact
    contact.full_clean(exclude=["customer"])
    others = Contact.objects.filter(customer=customer).exclude(pk=contact.pk)
    if contact.is_primary:
        others.filter(role=contact.role, is_primary=True).update(is_primary=False)
    for channel, field in CHANNEL_PRIMARY.items():
        if getattr(contact, field) and not getattr(contact, CHANNEL_DETAIL[channel]):
            setattr(contact, field, False)
        if getattr(contact, field):
            others.filter(**{field: True}).update(**{field: False})
    contact.save()
    promoted = contact_primaries_settle(customer=customer)
    audit_record(
        action="ledger.contact.created" if creating else "ledger.contact.updated",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Contact {contact} {'added' if creating else 'changed'}",
        data={"contact_id": contact.pk, "changes": changed, "made_primary": promoted},
    )
    return contact


# Which flag makes a contact the first one reached on a channel, and the detail it needs.
CHANNEL_PRIMARY = {"email": "primary_email", "phone": "primary_phone", "post": "primary_post"}
CHANNEL_DETAIL = {"email": "email", "phone": "phone", "post": "address"}


def contact_primaries_settle(*, customer: Customer) -> dict:
    """Keep exactly one primary per channel among the contacts who have that channel's
    detail: a primary whose detail was removed stops being one, and a channel with none
    gets the billing contact (else the longest-known contact) that has the detail.
    Returns {channel: contact id} for each contact it made primary."""
    contacts = sorted(
        customer.contacts.all(),
        key=lambda c: (c.role != ContactRole.ACCOUNTS_PAYABLE, not c.is_primary, c.pk),
    )
    promoted = {}
    for channel, field in CHANNEL_PRIMARY.items():
        detail = CHANNEL_DETAIL[channel]
        for contact in contacts:
            if getattr(contact, field) and not getattr(contact, detail):
                Contact.objects.filter(pk=contact.pk).update(**{field: False})
                setattr(contact, field, False)
        if any(getattr(c, field) for c in contacts):
            continue
        first = next((c for c in contacts if getattr(c, detail)), None)
        if first is not None:
            Contact.objects.filter(pk=first.pk).update(**{field: True})
            setattr(first, field, True)
            promoted[channel] = first.pk
    return promoted


def primary_contact(customer: Customer, role: str = ContactRole.ACCOUNTS_PAYABLE):
    return customer.contacts.filter(role=role, is_primary=True).first()


NOTE_MAX_CHARS = 2000


@transaction.atomic
def customer_note_add(*, actor, customer: Customer, text: str) -> AuditEvent:
    """A note on the customer's timeline. The audit event is the note: it is kept with,
    and as tamper-evident as, everything else the timeline shows."""
    text = text.strip()
    if not text:
        raise LedgerError("The note is empty: write something first.")
    if len(text) > NOTE_MAX_CHARS:
        raise LedgerError(
            f"A note can be at most {NOTE_MAX_CHARS:,} characters; this one has {len(text):,}."
        )
    return audit_record(
        action="ledger.note.added",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Note: {text}",
        data={"text": text},
    )


# --- invoices ---------------------------------------------------------------------------


@transaction.atomic
def invoice_create(
    *,
    actor,
    customer: Customer,
    number: str,
    issue_date: date,
    due_date: date,
    amount: Decimal,
    currency: str | None = None,
) -> Invoice:
    currency = currency or customer.currency
    if currency != customer.currency:
        raise CurrencyMismatch(
            f"Invoice {number} is in {currency} but {customer.name} is billed in "
            f"{customer.currency}."
        )
    amount = quantize(amount)
    invoice = Invoice(
        customer=customer,
        number=number,
        issue_date=issue_date,
        due_date=due_date,
        currency=currency,
        amount=amount,
        open_balance=amount,
    )
    if due_date < issue_date:
        raise LedgerError(f"Invoice {number}: the due date is before the issue date.")
    if amount <= 0:
        raise LedgerError(f"Invoice {number}: the amount must be more than zero.")
    invoice.full_clean()
    invoice.save()
    audit_record(
        action="ledger.invoice.created",
        actor=actor,
        customer_id=customer.pk,
        invoice_id=invoice.pk,
        summary=f"Invoice {number} for {format_money(amount, currency)} due {format_day(due_date)}",
        data={
            "number": number,
            "amount": amount,
            "currency": currency,
            "issue_date": issue_date,
            "due_date": due_date,
        },
    )
    return invoice


@transaction.atomic
def invoice_update(*, actor, invoice: Invoice, **values) -> dict:
    """Change an invoice's amount or dates; the balance follows from the allocations."""
    allowed = {"amount", "issue_date", "due_date"}
    if set(values) - allowed:
        raise TypeError(f"Only {sorted(allowed)} can change on an invoice.")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if "amount" in values:
        values["amount"] = quantize(values["amount"])
        applied = invoice.amount - invoice.open_balance
        if values["amount"] < applied:
            raise OverAllocation(
                f"Invoice {invoice.number}: {format_money(applied, invoice.currency)} has "
                "already been paid or credited, more than the new amount "
                f"{format_money(values['amount'], invoice.currency)}."
            )
    changed = _changes(invoice, values)
    if not changed:
        return {}
    if invoice.due_date < invoice.issue_date:
        raise LedgerError(f"Invoice {invoice.number}: the due date is before the issue date.")
    if "amount" in values:
        # The balance moves with the amount (what was applied stays applied); saving the
        # new amount beside the old balance would break balance <= amount.
        invoice.open_balance = invoice.amount - applied
    invoice.save()
    invoice_refresh(invoice_ids=[invoice.pk])
    audit_record(
        action="ledger.invoice.updated",
        actor=actor,
        customer_id=invoice.customer_id,
        invoice_id=invoice.pk,
        summary=f"Invoice {invoice.number} changed: {', '.join(changed)}",
        data={"changes": changed},
    )
    return changed


def invoice_refresh(*, invoice_ids: Iterable[int]) -> None:
    """Derive open balance, status and closing date from allocations and disputes.

    Called by every service that moves money or opens or closes a dispute, inside its
    transaction, so the stored values never drift from the ledger."""
    ids = list(invoice_ids)
    if not ids:
        return
    applied = Allocation.objects.filter(invoice=OuterRef("pk"))
    rows = (
        Invoice.objects.filter(pk__in=ids)
        .annotate(
            applied=Coalesce(
                Sum("allocations__amount"), ZERO, output_field=Invoice._meta.get_field("amount")
            ),
            last_applied=Max("allocations__applied_on"),
            written_off=Exists(applied.filter(credit_note__is_write_off=True)),
            disputed=Exists(
                Dispute.objects.filter(invoice=OuterRef("pk"), status=DisputeStatus.OPEN)
            ),
        )
        .values("pk", "amount", "applied", "last_applied", "written_off", "disputed")
    )
    for row in rows:
        balance = row["amount"] - row["applied"]
        if balance < 0:
            raise OverAllocation("More was applied to an invoice than it is for.")
        if balance == 0:
            status = InvoiceStatus.WRITTEN_OFF if row["written_off"] else InvoiceStatus.PAID
            closed_on = row["last_applied"]
        else:
            status = InvoiceStatus.IN_DISPUTE if row["disputed"] else InvoiceStatus.OPEN
            closed_on = None
        Invoice.objects.filter(pk=row["pk"]).update(
            open_balance=balance, status=status, closed_on=closed_on
        )


# --- payments and credits ---------------------------------------------------------------


def _check_currency(invoice: Invoice, currency: str, what: str) -> None:
    if invoice.currency != currency:
        raise CurrencyMismatch(
            f"{what} is in {currency} but invoice {invoice.number} is in {invoice.currency}; "
            "money in one currency cannot settle an invoice in another."
        )


def _auto_allocation(customer: Customer, currency: str, amount: Decimal):
    """Oldest open, undisputed invoices first."""
    plan = []
    left = amount
    invoices = (
        Invoice.objects.select_for_update()
        .filter(customer=customer, currency=currency, status=InvoiceStatus.OPEN)
        .order_by("due_date", "issue_date", "number")
    )
    for invoice in invoices:
        if left <= 0:
            break
        part = min(left, invoice.open_balance)
        plan.append((invoice, part))
        left -= part
    return plan


@transaction.atomic
def payment_record(
    *,
    actor,
    customer: Customer,
    amount: Decimal,
    received_on: date,
    currency: str | None = None,
    reference: str = "",
    method: str = "",
    allocations: Sequence[tuple[Invoice, Decimal]] | None = None,
    external_key: str | None = None,
    import_batch=None,
    audit: bool = True,
) -> Payment:
    """Record money received and apply it to invoices.

    Without explicit allocations the payment settles the oldest open invoices first. What
    is left over stays on the payment as the customer's unallocated credit."""
    amount = quantize(amount)
    currency = currency or customer.currency
    if amount <= 0:
        raise LedgerError("A payment must be for more than zero.")
    if allocations is None:
        allocations = _auto_allocation(customer, currency, amount)
    payment = Payment.objects.create(
        customer=customer,
        received_on=received_on,
        amount=amount,
        currency=currency,
        reference=reference,
        method=method,
        unapplied=amount,
        external_key=external_key,
        import_batch=import_batch,
    )
    applied = _apply(payment=payment, allocations=allocations, on=received_on, currency=currency)
    if audit:
        audit_record(
            action="ledger.payment.recorded",
            actor=actor,
            customer_id=customer.pk,
            invoice_id=allocations[0][0].pk if len(allocations) == 1 else None,
            summary=f"Payment of {format_money(amount, currency)} received "
            f"{format_day(received_on)}" + (f" (ref {reference})" if reference else ""),
            data={
                "payment_id": payment.pk,
                "amount": amount,
                "currency": currency,
                "received_on": received_on,
                "reference": reference,
                "allocations": applied,
                "unallocated": amount - sum((Decimal(a["amount"]) for a in applied), ZERO),
            },
        )
    return payment


def _apply(*, payment=None, credit_note=None, allocations, on: date, currency: str) -> list:
    source = payment or credit_note
    total = ZERO
    applied = []
    invoice_ids = []
    for invoice, part in allocations:
        part = quantize(part)
        if part <= 0:
            raise LedgerError("Each allocation must be for more than zero.")
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _check_currency(invoice, currency, "The money")
        if invoice.customer_id != source.customer_id:
            raise LedgerError(f"Invoice {invoice.number} belongs to another customer.")
        if part > invoice.open_balance:
            raise OverAllocation(
                f"{format_money(part, invoice.currency)} is more than the "
                f"{format_money(invoice.open_balance, invoice.currency)} still open on invoice "
                f"{invoice.number}."
            )
        total += part
        Allocation.objects.create(
            invoice=invoice, payment=payment, credit_note=credit_note, amount=part, applied_on=on
        )
        invoice_ids.append(invoice.pk)
        applied.append({"invoice": invoice.number, "amount": str(part)})
    if total > source.amount:
        raise OverAllocation(
            f"Allocations of {format_money(total, source.currency)} exceed the "
            f"{format_money(source.amount, source.currency)} received."
        )
    invoice_refresh(invoice_ids=invoice_ids)
    if payment is not None:
        payment_refresh(payment_ids=[payment.pk])
    return applied


def payment_unallocated(payment: Payment) -> Decimal:
    if payment.reversed_on is not None:
        return ZERO
    used = payment.allocations.aggregate(s=Sum("amount"))["s"] or ZERO
    return payment.amount - used


def payment_refresh(*, payment_ids: Iterable[int]) -> None:
    """Derive each payment's stored unapplied amount from its allocations (nothing is
    left to apply of a reversed payment)."""
    used = (
        Allocation.objects.filter(payment=OuterRef("pk"))
        .values("payment")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    money = DecimalField(**MONEY)
    Payment.objects.filter(pk__in=list(payment_ids)).update(
        unapplied=Case(
            When(reversed_on__isnull=False, then=Value(ZERO)),
            default=F("amount")
            - Coalesce(Subquery(used, output_field=money), Value(ZERO), output_field=money),
            output_field=money,
        )
    )


@transaction.atomic
def payment_allocate(
    *, actor, payment: Payment, invoice: Invoice, amount: Decimal, on: date
) -> None:
    """Apply a payment's unallocated credit to an invoice."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    amount = quantize(amount)
    if amount > payment_unallocated(payment):
        raise OverAllocation(f"Only {payment_unallocated(payment)} of this payment is unallocated.")
    applied = _apply(
        payment=payment, allocations=[(invoice, amount)], on=on, currency=payment.currency
    )
    audit_record(
        action="ledger.payment.allocated",
        actor=actor,
        customer_id=payment.customer_id,
        invoice_id=invoice.pk,
        summary=f"{format_money(amount, payment.currency)} of credit applied to invoice "
        f"{invoice.number}",
        data={"payment_id": payment.pk, "allocations": applied},
    )


@transaction.atomic
def credit_note_issue(
    *,
    actor,
    invoice: Invoice,
    amount: Decimal,
    reason: str,
    issued_on: date,
    number: str | None = None,
    is_write_off: bool = False,
) -> CreditNote:
    """Reduce an invoice's balance by a credit note (or a write-off)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    amount = quantize(amount)
    if invoice.open_balance <= 0:
        raise InvoiceNotOpen(f"Invoice {invoice.number} has nothing left to credit.")
    credit = CreditNote.objects.create(
        customer_id=invoice.customer_id,
        number=number or f"tmp-{uuid.uuid4()}",
        issued_on=issued_on,
        amount=amount,
        currency=invoice.currency,
        reason=reason,
        is_write_off=is_write_off,
    )
    if number is None:
        # Numbered from the primary key: unique without a counter to lock.
        credit.number = f"{'WO' if is_write_off else 'CN'}-{credit.pk:06d}"
        credit.save(update_fields=["number"])
    _apply(
        credit_note=credit, allocations=[(invoice, amount)], on=issued_on, currency=invoice.currency
    )
    kind = "written off" if is_write_off else "credited"
    audit_record(
        action="ledger.invoice.written_off" if is_write_off else "ledger.credit_note.issued",
        actor=actor,
        customer_id=invoice.customer_id,
        invoice_id=invoice.pk,
        summary=f"{format_money(amount, invoice.currency)} {kind} on invoice {invoice.number}: "
        f"{reason}",
        data={"credit_note": credit.number, "amount": amount, "reason": reason},
    )
    return credit


def invoice_write_off(*, actor, invoice: Invoice, reason: str, on: date) -> CreditNote:
    invoice.refresh_from_db()
    return credit_note_issue(
        actor=actor,
        invoice=invoice,
        amount=invoice.open_balance,
        reason=reason,
        issued_on=on,
        is_write_off=True,
    )


# --- write-offs awaiting approval ------------------------------------------------------

WRITE_OFF_REASON_MAX_CHARS = 1000


def _write_off_text(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise LedgerError(f"Give a {what}.")
    if len(text) > WRITE_OFF_REASON_MAX_CHARS:
        raise LedgerError(
            f"The {what} can be at most {WRITE_OFF_REASON_MAX_CHARS:,} characters; "
            f"this one has {len(text):,}."
        )
    return text


def _pending_write_off(request_id: int) -> WriteOffRequest:
    """The request, locked, with its invoice locked too: a payment arriving while a
    manager decides waits for the decision, and the decision sees the balance after it."""
    request = WriteOffRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise LedgerError("There is no such write-off request.")
    if not request.is_pending:
        raise LedgerError(
            f"This write-off request is already {request.get_status_display().lower()}."
        )
    request.invoice = Invoice.objects.select_for_update().get(pk=request.invoice_id)
    return request


@transaction.atomic
def write_off_propose(
    *, actor, invoice: Invoice, reason: str, at: datetime | None = None
) -> WriteOffRequest:
    """Propose writing off an invoice's open balance; a manager decides. The amount is the
    balance now, so the manager approves a figure that cannot grow behind their back."""
    reason = _write_off_text(reason, what="reason for the write-off")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.open_balance <= 0:
        raise InvoiceNotOpen(
            f"Invoice {invoice.number} is already {invoice.get_status_display().lower()}; "
            "there is nothing left to write off."
        )
    if invoice.status == InvoiceStatus.IN_DISPUTE:
        raise LedgerError(
            f"Invoice {invoice.number} has an open dispute: resolve it first (resolving it for "
            "the customer issues a credit note)."
        )
    if WriteOffRequest.objects.filter(invoice=invoice, status=WriteOffStatus.PENDING).exists():
        raise LedgerError(f"A write-off of invoice {invoice.number} is already awaiting approval.")
    request = WriteOffRequest.objects.create(
        invoice=invoice,
        amount=invoice.open_balance,
        currency=invoice.currency,
        reason=reason,
        proposed_by=actor,
        proposed_at=at or timezone.now(),
    )
    audit_record(
        action="ledger.write_off.proposed",
        actor=actor,
        customer_id=invoice.customer_id,
        invoice_id=invoice.pk,
        summary=f"Write-off of {format_money(request.amount, request.currency)} on invoice "
        f"{invoice.number} proposed: {reason}",
        data={"request_id": request.pk, "amount": request.amount, "reason": reason},
    )
    return request


@transaction.atomic
def write_off_approve(
    *, actor, request: WriteOffRequest, note: str = "", at: datetime | None = None
) -> WriteOffRequest:
    """Approve a pending write-off: the invoice's current balance is written off with the
    manager as the actor. A balance that fell since the proposal (a part-payment) is written
    off as it is now; one that was settled or rose, or an invoice now in dispute, is refused
    and the request stays pending for the manager to decline."""
    at = at or timezone.now()
    note = (note or "").strip()
    request = _pending_write_off(request.pk)
    invoice = request.invoice
    if request.proposed_by_id is not None and request.proposed_by_id == getattr(actor, "pk", None):
        raise LedgerError("A write-off needs a second person: someone else must approve it.")
    if invoice.open_balance <= 0:
        raise InvoiceNotOpen(
            f"Invoice {invoice.number} has been {invoice.get_status_display().lower()} since "
            "the proposal; there is nothing left to write off. Decline the request."
        )
    if invoice.open_balance > request.amount:
        raise LedgerError(
            f"The balance of invoice {invoice.number} rose from "
            f"{format_money(request.amount, request.currency)} to "
            f"{format_money(invoice.open_balance, request.currency)} since the proposal. "
            "Decline it and propose again."
        )
    if invoice.status == InvoiceStatus.IN_DISPUTE:
        raise LedgerError(
            f"Invoice {invoice.number} has been disputed since the proposal: resolve the "
            "dispute first."
        )
    amount = invoice.open_balance
    credit = invoice_write_off(
        actor=actor, invoice=invoice, reason=request.reason, on=timezone.localdate(at)
    )
    request.status = WriteOffStatus.APPROVED
    request.decided_by = actor
    request.decided_at = at
    request.decision_note = note
    request.credit_note = credit
    request.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "credit_note"]
    )
    changed = amount != request.amount
    audit_record(
        action="ledger.write_off.approved",
        actor=actor,
        customer_id=invoice.customer_id,
        invoice_id=invoice.pk,
        summary=f"Write-off of {format_money(amount, request.currency)} on invoice "
        f"{invoice.number} approved"
        + (
            f" (proposed {format_money(request.amount, request.currency)}; the balance fell since)"
            if changed
            else ""
        ),
        data={
            "request_id": request.pk,
            "proposed": request.amount,
            "written_off": amount,
            "credit_note": credit.number,
            "note": note,
        },
    )
    request.written_off = amount
    return request


@transaction.atomic
def write_off_decline(
    *, actor, request: WriteOffRequest, note: str, at: datetime | None = None
) -> WriteOffRequest:
    """Decline a pending write-off, saying why; the invoice stays in collection."""
    note = _write_off_text(note, what="reason for declining")
    request = _pending_write_off(request.pk)
    request.status = WriteOffStatus.DECLINED
    request.decided_by = actor
    request.decided_at = at or timezone.now()
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(
        action="ledger.write_off.declined",
        actor=actor,
        customer_id=request.invoice.customer_id,
        invoice_id=request.invoice_id,
        summary=f"Write-off of {format_money(request.amount, request.currency)} on invoice "
        f"{request.invoice.number} declined: {note}",
        data={"request_id": request.pk, "note": note},
    )
    return request


@transaction.atomic
def write_off_withdraw(
    *, actor, request: WriteOffRequest, at: datetime | None = None
) -> WriteOffRequest:
    """The proposer takes back a pending write-off (the customer paid after all, say)."""
    request = _pending_write_off(request.pk)
    request.status = WriteOffStatus.WITHDRAWN
    request.decided_by = actor
    request.decided_at = at or timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        action="ledger.write_off.withdrawn",
        actor=actor,
        customer_id=request.invoice.customer_id,
        invoice_id=request.invoice_id,
        summary=f"Proposed write-off of invoice {request.invoice.number} withdrawn",
        data={"request_id": request.pk},
    )
    return request


# --- disputes ---------------------------------------------------------------------------


@transaction.atomic
def dispute_open(
    *,
    actor,
    invoice: Invoice,
    reason: str,
    opened_on: date,
    detail: str = "",
    amount: Decimal | None = None,
    owner=None,
    raised_via: str = RaisedVia.STAFF,
    label: str | None = None,
    audit_data: dict | None = None,
) -> Dispute:
    """Open a dispute on one invoice: it leaves dunning until resolved. raised_via says
    where it came from; label and audit_data carry the customer's page (who raised it, with
    which contact and link) onto the audit event."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.open_balance <= 0:
        raise DisputeError(f"Invoice {invoice.number} is settled; there is nothing to dispute.")
    if Dispute.objects.filter(invoice=invoice, status=DisputeStatus.OPEN).exists():
        raise DisputeError(f"Invoice {invoice.number} already has an open dispute.")
    amount = quantize(amount if amount is not None else invoice.open_balance)
    if not ZERO < amount <= invoice.open_balance:
        raise DisputeError(
            f"The amount in dispute must be between 0.01 and the open balance "
            f"{invoice.open_balance}."
        )
    dispute = Dispute(
        invoice=invoice,
        reason=reason,
        detail=detail,
        amount=amount,
        owner=owner,
        opened_on=opened_on,
        raised_via=raised_via,
    )
    dispute.full_clean()
    dispute.save()
    invoice_refresh(invoice_ids=[invoice.pk])
    audit_record(
        action="ledger.dispute.opened",
        actor=actor,
        customer_id=invoice.customer_id,
        invoice_id=invoice.pk,
        summary=f"Dispute opened on {invoice.number}: {dispute.get_reason_display()}",
        data={
            "dispute_id": dispute.pk,
            "reason": reason,
            "amount": amount,
            "detail": detail,
            **({"raised_via": raised_via} if raised_via != RaisedVia.STAFF else {}),
            **(audit_data or {}),
        },
        label=label,
    )
    return dispute


@transaction.atomic
def dispute_resolve(
    *,
    actor,
    dispute: Dispute,
    outcome: str,
    resolved_on: date,
    note: str = "",
    credit_amount: Decimal | None = None,
) -> Dispute:
    """Close a dispute. Resolved for the customer issues a credit note (default: the amount
    in dispute); resolved for us puts the invoice back into collection."""
    dispute = Dispute.objects.select_for_update().select_related("invoice").get(pk=dispute.pk)
    if not dispute.is_open:
        raise DisputeError("This dispute is already resolved.")
    if outcome not in (DisputeStatus.RESOLVED_FOR_US, DisputeStatus.RESOLVED_FOR_CUSTOMER):
        raise DisputeError(f"'{outcome}' is not a way to resolve a dispute.")
    dispute.status = outcome
    dispute.resolved_on = resolved_on
    dispute.resolution_note = note
    dispute.save()
    if outcome == DisputeStatus.RESOLVED_FOR_CUSTOMER:
        amount = quantize(credit_amount if credit_amount is not None else dispute.amount)
        dispute.credit_note = credit_note_issue(
            actor=actor,
            invoice=dispute.invoice,
            amount=min(amount, dispute.invoice.open_balance),
            reason=f"Dispute resolved for the customer: {dispute.get_reason_display()}",
            issued_on=resolved_on,
        )
        dispute.save(update_fields=["credit_note"])
    invoice_refresh(invoice_ids=[dispute.invoice_id])
    audit_record(
        action="ledger.dispute.resolved",
        actor=actor,
        customer_id=dispute.invoice.customer_id,
        invoice_id=dispute.invoice_id,
        summary=f"Dispute on {dispute.invoice.number} {dispute.get_status_display().lower()}",
        data={"dispute_id": dispute.pk, "outcome": outcome, "note": note},
    )
    return dispute


# --- contacts kept in the browser ---------------------------------------------------------

CONTACT_FIELDS = (
    "name",
    "role",
    "email",
    "phone",
    "address",
    "is_primary",
    "email_opt_out",
    "phone_opt_out",
    "post_opt_out",
    "primary_email",
    "primary_phone",
    "primary_post",
)


def _known_contact_fields(values: dict) -> None:
    unknown = set(values) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown contact fields: {sorted(unknown)}")


@transaction.atomic
def contact_create(*, actor, customer: Customer, **values) -> Contact:
    """Add a contact to a customer; making it primary demotes the primary of its role."""
    _known_contact_fields(values)
    return contact_save(actor=actor, customer=customer, **values)


@transaction.atomic
def contact_update(*, actor, contact: Contact, **values) -> dict:
    """Change a contact; returns {field: [before, after]} (empty when nothing changed).

    A new email clears a bounce recorded on the old one, so automated mail tries the new
    address; the clearing is audited in its own words."""
    _known_contact_fields(values)
    contact = Contact.objects.select_for_update().select_related("customer").get(pk=contact.pk)
    changed = {
        name: [_plain(getattr(contact, name)), _plain(new)]
        for name, new in values.items()
        if getattr(contact, name) != new
    }
    if not changed:
        return {}
    bounced_at, old_email = contact.email_bounced_at, contact.email
    clears_bounce = bounced_at is not None and "email" in changed
    if clears_bounce:
        values = {**values, "email_bounced_at": None}
    contact_save(actor=actor, customer=contact.customer, contact=contact, **values)
    if clears_bounce:
        audit_record(
            action="ledger.contact.bounce_cleared",
            actor=actor,
            customer_id=contact.customer_id,
            summary=(
                f"Bounce on {old_email} cleared: the email changed to "
                f"{contact.email or 'none'}, so mail may be sent again"
            ),
            data={
                "contact_id": contact.pk,
                "email": [old_email, contact.email],
                "bounced_at": bounced_at.isoformat(),
            },
        )
    return changed
