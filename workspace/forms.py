"""Forms of the collector's workspace: the customer page's actions (promises, holds, plans,
notes, disputes) and the call outcome."""

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from dateutil.relativedelta import relativedelta
from django import forms
from django.utils import timezone

from dunning.forms import DATE, amount_field, collector_choices
from dunning.models import CallOutcome
from invoices.dates import format_day
from invoices.models import Dispute, DisputeReason, DisputeStatus, Invoice, InvoiceStatus
from invoices.money import format_money

# --- holds on the customer page ---------------------------------------------------------------


class InvoiceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, invoice):
        balance = format_money(invoice.open_balance, invoice.currency)
        return f"{invoice.number} ({balance}, due {format_day(invoice.due_date)})"


class PromiseForm(forms.Form):
    amount = amount_field()
    promised_for = forms.DateField(label="Promised for", widget=DATE)
    invoices = InvoiceChoiceField(
        queryset=Invoice.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the invoices overdue today.",
    )
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, customer, today: dt.date, latest: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.latest = today, latest
        self.fields["invoices"].queryset = Invoice.objects.filter(
            customer=customer, status__in=[InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE]
        ).order_by("due_date", "id")
        self.fields["promised_for"].widget.attrs.update(
            min=today.isoformat(), max=latest.isoformat()
        )
        self.fields["promised_for"].help_text = f"At the latest {format_day(latest)}."

    def clean_promised_for(self):
        day = self.cleaned_data["promised_for"]
        if day < self.today:
            raise forms.ValidationError("A promise is for today or a later date.")
        if day > self.latest:
            raise forms.ValidationError(
                f"At the latest {format_day(self.latest)}; for longer, agree a payment plan."
            )
        return day


class HoldForm(forms.Form):
    reason = forms.CharField(max_length=200)
    until = forms.DateField(
        required=False, widget=DATE, help_text="Empty: until someone releases it."
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_until(self):
        day = self.cleaned_data["until"]
        if day and day < self.today:
            raise forms.ValidationError("The hold must last until today or later.")
        return day


class PlanForm(forms.Form):
    EVERY = [("month", "Monthly"), ("week", "Weekly"), ("fortnight", "Every two weeks")]

    count = forms.IntegerField(min_value=1, max_value=60, label="Instalments")
    amount = amount_field(label="Total to pay")
    first_date = forms.DateField(label="First instalment on", widget=DATE)
    every = forms.ChoiceField(choices=EVERY, initial="month")
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_first_date(self):
        day = self.cleaned_data["first_date"]
        if day < self.today:
            raise forms.ValidationError("The first instalment is due today or later.")
        return day

    def clean(self):
        data = super().clean()
        if data.get("count") and data.get("amount") and data["amount"] < data["count"] / 100:
            self.add_error("amount", "Each instalment must be at least 0.01.")
        return data

    def schedule(self) -> list[tuple[dt.date, Decimal]]:
        """Equal instalments; the rounding remainder goes on the last one."""
        data = self.cleaned_data
        count, total = data["count"], data["amount"]
        each = (total / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        step = {
            "month": relativedelta(months=1),
            "week": relativedelta(weeks=1),
            "fortnight": relativedelta(weeks=2),
        }[data["every"]]
        rows = [(data["first_date"] + step * i, each) for i in range(count)]
        rows[-1] = (rows[-1][0], total - each * (count - 1))
        return rows


# --- calls and preview ----------------------------------------------------------------------


class CustomerDateTimeField(forms.DateTimeField):
    """A datetime-local input read as a wall-clock time in the customer's time zone (set
    `zone` on the field), not the user's."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    zone: str | None = None

    def to_python(self, value):
        if not self.zone:
            return super().to_python(value)
        with timezone.override(self.zone):
            return super().to_python(value)


class CallOutcomeForm(forms.Form):
    """The outcome of a call and the follow-up data it needs (dunning.calls.call_log).
    Each follow-up field belongs to one outcome (FOLLOW_UP); fields of other outcomes are
    ignored, so the form works with every field shown (no JavaScript)."""

    FOLLOW_UP = {
        CallOutcome.PROMISE: ("promise_amount", "promise_date"),
        CallOutcome.DISPUTE: ("dispute_invoice", "dispute_reason", "dispute_amount"),
        CallOutcome.CALL_BACK: ("call_back_at",),
    }
    REQUIRED = {
        "promise_amount": "Enter the amount they promised.",
        "promise_date": "Enter the date they promised to pay by.",
        "dispute_invoice": "Choose the invoice they dispute.",
        "dispute_reason": "Choose the reason for the dispute.",
        "call_back_at": "Enter when to call them back (their time).",
    }

    outcome = forms.ChoiceField(choices=[("", "Choose an outcome"), *CallOutcome.choices])
    contact = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Who you called"
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    promise_amount = amount_field(
        required=False,
        label="Amount promised",
    )
    promise_date = forms.DateField(required=False, widget=DATE, label="Promised for")
    dispute_invoice = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Invoice disputed"
    )
    dispute_reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *DisputeReason.choices], required=False, label="Reason"
    )
    dispute_amount = amount_field(
        required=False,
        label="Amount in dispute",
        help_text="Empty: the invoice's whole open balance.",
    )
    call_back_at = CustomerDateTimeField(required=False, label="Call back at (their time)")

    def __init__(self, *args, customer, contacts=None, invoices=None, **kwargs):
        """contacts and invoices (the customer's open ones, not in dispute) are read when
        not given: a page of many forms passes them, loaded once."""
        super().__init__(*args, **kwargs)
        if contacts is None:
            contacts = list(customer.contacts.all())
        if invoices is None:
            invoices = list(
                Invoice.objects.filter(customer=customer, status=InvoiceStatus.OPEN).order_by(
                    "due_date", "number"
                )
            )
        self.contacts = {c.pk: c for c in contacts}
        self.invoices = {inv.pk: inv for inv in invoices}
        self.fields["contact"].choices = [
            ("", "Not recorded"),
            *((str(c.pk), _contact_label(c)) for c in contacts),
        ]
        self.fields["dispute_invoice"].choices = [
            ("", "Choose an invoice"),
            *(
                (str(inv.pk), f"{inv.number} ({format_money(inv.open_balance, inv.currency)})")
                for inv in invoices
            ),
        ]
        self.fields["call_back_at"].zone = customer.timezone

    def clean_contact(self):
        pk = self.cleaned_data["contact"]
        return self.contacts[pk] if pk is not None else None

    def clean_dispute_invoice(self):
        pk = self.cleaned_data["dispute_invoice"]
        return self.invoices[pk] if pk is not None else None

    def clean(self):
        data = super().clean()
        for name in self.FOLLOW_UP.get(data.get("outcome"), ()):
            if name in self.REQUIRED and data.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, self.REQUIRED[name])
        return data

    def call_log_values(self) -> dict:
        """Keyword arguments for call_log: the outcome, notes, contact and the follow-up
        data of the chosen outcome only."""
        data = self.cleaned_data
        values = {"outcome": data["outcome"], "notes": data["notes"], "contact": data["contact"]}
        for name in self.FOLLOW_UP.get(data["outcome"], ()):
            values[name] = data[name]
        return values


def _contact_label(contact) -> str:
    label = str(contact)
    if contact.phone:
        label += f", {contact.phone}"
    if contact.phone_opt_out:
        label += " (asked not to be phoned)"
    return label


class CallFilterForm(forms.Form):
    collector = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].choices = collector_choices("Me")


# --- the customer page's actions ------------------------------------------------------------


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept on the customer's timeline; it cannot be edited afterwards.",
    )


class AcknowledgementForm(forms.Form):
    acknowledged_on = forms.DateField(
        label="Acknowledged on", widget=DATE, help_text="The date of their letter or email."
    )
    invoices = InvoiceChoiceField(
        queryset=Invoice.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: everything they owed that day.",
    )
    note = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What they wrote, and where the letter or email is kept.",
    )

    def __init__(self, *args, customer, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["invoices"].queryset = Invoice.objects.filter(
            customer=customer, status__in=[InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE]
        ).order_by("due_date", "id")
        self.fields["acknowledged_on"].widget.attrs.update(max=today.isoformat())

    def clean_acknowledged_on(self):
        day = self.cleaned_data["acknowledged_on"]
        if day > self.today:
            raise forms.ValidationError("An acknowledgement cannot be dated after today.")
        return day


class DocumentsRequestForm(forms.Form):
    requested_on = forms.DateField(
        label="They replied on", widget=DATE, help_text="The date of their reply."
    )
    note = forms.CharField(
        label="What they asked for",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example a copy of the agreement, an invoice or a statement of account.",
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["requested_on"].widget.attrs.update(max=today.isoformat())

    def clean_requested_on(self):
        day = self.cleaned_data["requested_on"]
        if day > self.today:
            raise forms.ValidationError("Their reply cannot be dated after today.")
        return day


class DisputeInvoiceField(forms.ModelChoiceField):
    def label_from_instance(self, invoice):
        return f"{invoice.number} ({format_money(invoice.open_balance, invoice.currency)} open)"


class DisputeOpenForm(forms.Form):
    invoice = DisputeInvoiceField(queryset=Invoice.objects.none(), empty_label="Choose an invoice")
    reason = forms.ChoiceField(choices=[("", "Choose a reason"), *DisputeReason.choices])
    amount = amount_field(
        required=False,
        label="Amount in dispute",
        help_text="Empty: the invoice's whole open balance.",
    )
    detail = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        # Invoices still owing money and not already disputed.
        self.fields["invoice"].queryset = Invoice.objects.filter(
            customer=customer, status=InvoiceStatus.OPEN, open_balance__gt=0
        ).order_by("due_date", "number")

    def clean(self):
        data = super().clean()
        invoice, amount = data.get("invoice"), data.get("amount")
        if invoice and amount and amount > invoice.open_balance:
            self.add_error(
                "amount",
                f"At most the open balance of {invoice.number}: "
                f"{format_money(invoice.open_balance, invoice.currency)}.",
            )
        return data


class DisputeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, dispute):
        return (
            f"{dispute.invoice.number}: {dispute.get_reason_display()} "
            f"({format_money(dispute.amount, dispute.invoice.currency)})"
        )


class DisputeResolveForm(forms.Form):
    OUTCOMES = [
        ("", "Choose an outcome"),
        (DisputeStatus.RESOLVED_FOR_US, "For us: the invoice is owed and chasing resumes"),
        (
            DisputeStatus.RESOLVED_FOR_CUSTOMER,
            "For the customer: credit the amount in dispute",
        ),
    ]

    dispute = DisputeChoiceField(queryset=Dispute.objects.none(), empty_label="Choose a dispute")
    outcome = forms.ChoiceField(choices=OUTCOMES)
    credit_amount = amount_field(
        required=False,
        label="Credit",
        help_text="For the customer only; empty: the amount in dispute.",
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dispute"].queryset = (
            Dispute.objects.filter(invoice__customer=customer, status=DisputeStatus.OPEN)
            .select_related("invoice")
            .order_by("invoice__due_date", "id")
        )

    def clean(self):
        data = super().clean()
        if data.get("credit_amount") and data.get("outcome") == DisputeStatus.RESOLVED_FOR_US:
            self.add_error("credit_amount", "A dispute resolved for us credits nothing.")
        return data
