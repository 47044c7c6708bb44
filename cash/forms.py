"""Forms of the payment actions on the customer page, and the matching screen's plan."""

import datetime as dt
from decimal import Decimal

from django import forms

from dunning.forms import DATE, amount_field
from invoices.dates import format_day
from invoices.forms import AmountField
from invoices.models import MONEY, Invoice, InvoiceStatus, Payment, PaymentMethod
from invoices.money import ZERO, format_money

# The payment form lists this many open invoices to allocate to, oldest first; with all
# their inputs blank the ledger pays the oldest first across every open invoice.
ALLOCATION_ROWS = 100


def outstanding_invoices(customer):
    return Invoice.objects.filter(
        customer=customer,
        currency=customer.currency,
        status__in=[InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE],
    ).order_by("due_date", "issue_date", "number")


def oldest_first(invoices, amount: Decimal) -> dict[int, Decimal]:
    """How the ledger applies a payment by default (invoices.services._auto_allocation):
    the oldest open, undisputed invoices first."""
    plan, left = {}, amount
    for invoice in invoices:
        if left <= 0:
            break
        if invoice.status != InvoiceStatus.OPEN:
            continue
        part = min(left, invoice.open_balance)
        plan[invoice.pk] = part
        left -= part
    return plan


def _invoice_label(invoice: Invoice) -> str:
    balance = format_money(invoice.open_balance, invoice.currency)
    return f"{invoice.number} ({balance} open, due {format_day(invoice.due_date)})"


class PaymentForm(forms.Form):
    received_on = forms.DateField(label="Received on", widget=DATE)
    amount = amount_field(label="Amount")
    method = forms.ChoiceField(choices=[("", "Not known"), *PaymentMethod.choices], required=False)
    reference = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, customer, today: dt.date, refill_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.customer, self.today = customer, today
        self.fields["received_on"].widget.attrs["max"] = today.isoformat()
        if refill_url:
            # As the amount is typed, the allocation table comes back filled oldest first.
            self.fields["amount"].widget.attrs.update(
                {
                    "hx-get": refill_url,
                    "hx-trigger": "input changed delay:300ms",
                    "hx-select": "#payment-allocations",
                    "hx-target": "#payment-allocations",
                    "hx-swap": "outerHTML",
                    "hx-sync": "this:replace",
                }
            )
        self.fields["amount"].help_text = f"In {customer.currency}"
        self.invoices = list(outstanding_invoices(customer)[:ALLOCATION_ROWS])
        self.more_invoices = len(self.invoices) == ALLOCATION_ROWS
        prefill = {}
        if not self.is_bound and self.initial.get("amount"):
            prefill = oldest_first(self.invoices, self.initial["amount"])
        for invoice in self.invoices:
            name = self.allocation_name(invoice)
            self.fields[name] = AmountField(
                **MONEY,
                min_value=ZERO,
                required=False,
                label=f"Apply to {invoice.number}",
            )
            if invoice.pk in prefill:
                self.initial[name] = prefill[invoice.pk]
        self.allocations = None

    @staticmethod
    def allocation_name(invoice: Invoice) -> str:
        return f"apply_{invoice.pk}"

    def main_fields(self):
        return [self[name] for name in ("received_on", "amount", "method", "reference")]

    def allocation_rows(self):
        return [(invoice, self[self.allocation_name(invoice)]) for invoice in self.invoices]

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        if day > self.today:
            raise forms.ValidationError("A payment cannot be received in the future.")
        return day

    def clean(self):
        data = super().clean()
        given = [(invoice, data.get(self.allocation_name(invoice))) for invoice in self.invoices]
        if all(value is None for _, value in given):
            self.allocations = None  # oldest first, as the ledger does by default
            return data
        allocations = []
        for invoice, value in given:
            if not value:
                continue
            if value > invoice.open_balance:
                self.add_error(
                    self.allocation_name(invoice),
                    f"Only {format_money(invoice.open_balance, invoice.currency)} is open on "
                    f"{invoice.number}.",
                )
            allocations.append((invoice, value))
        total = sum((value for _, value in allocations), ZERO)
        amount = data.get("amount")
        if amount is not None and total > amount:
            self.add_error(
                None,
                f"The amounts applied add up to {format_money(total, self.customer.currency)}, "
                f"more than the {format_money(amount, self.customer.currency)} received.",
            )
        self.allocations = allocations
        return data


class InvoiceChoice(forms.ModelChoiceField):
    def label_from_instance(self, invoice):
        return _invoice_label(invoice)


class CreditNoteForm(forms.Form):
    invoice = InvoiceChoice(queryset=Invoice.objects.none(), empty_label="Choose an invoice")
    amount = amount_field(label="Amount")
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = outstanding_invoices(customer)

    def clean(self):
        data = super().clean()
        invoice, amount = data.get("invoice"), data.get("amount")
        if invoice and amount and amount > invoice.open_balance:
            self.add_error(
                "amount",
                f"Only {format_money(invoice.open_balance, invoice.currency)} is open on "
                f"{invoice.number}.",
            )
        return data


class PaymentChoice(forms.ModelChoiceField):
    def label_from_instance(self, payment):
        text = (
            f"{format_money(payment.amount, payment.currency)} received "
            f"{format_day(payment.received_on)}"
        )
        return text + (f" (ref {payment.reference})" if payment.reference else "")


class PaymentReverseForm(forms.Form):
    payment = PaymentChoice(queryset=Payment.objects.none(), empty_label="Choose a payment")
    reason = forms.CharField(
        max_length=200, help_text="For example: cheque returned unpaid, transfer recalled"
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment"].queryset = Payment.objects.filter(
            customer=customer, reversed_on__isnull=True
        ).order_by("-received_on", "-id")


def parse_plan(text: str) -> list[tuple[int, Decimal]] | None:
    """The matching screen's plan, "invoice_id:amount,...", or None if it is not one."""
    pairs = []
    for part in (text or "").split(","):
        invoice_id, _, amount = part.partition(":")
        try:
            pairs.append((int(invoice_id), Decimal(amount)))
        except (ValueError, ArithmeticError):
            return None
        if not pairs[-1][1].is_finite() or pairs[-1][1] <= 0:
            return None
    return pairs or None
