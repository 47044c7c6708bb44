"""Forms of the collector's workspace: the customer page's actions (promises, holds, plans,
notes, disputes) and the call outcome."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.forms import DATE, amount_field, collector_choices
from dunning.models import CallOutcome, CustomerPolicy, Policy
from dunning.selectors import plan_schedule
from invoices.dates import format_day
from invoices.forms import AmountField, LongSelect
from invoices.models import (
    MONEY,
    ContactRole,
    Customer,
    DebtorType,
    Dispute,
    DisputeReason,
    DisputeStatus,
    Invoice,
    InvoiceStatus,
    Organisation,
)
from invoices.money import currency_choices, format_money
from invoices.validators import timezone_names

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
        return plan_schedule(
            total=data["amount"],
            count=data["count"],
            first_date=data["first_date"],
            every=data["every"],
        )


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


# --- customer and contact records -----------------------------------------------------------


def _collector_users(current_id: int | None):
    """Active collectors, and the customer's present collector even if no longer one, so
    that a save without touching the field keeps it."""
    users = get_user_model().objects.filter(
        Q(is_active=True, groups__name=COLLECTOR) | Q(pk=current_id or 0)
    )
    return users.distinct().order_by("first_name", "last_name", "username")


SIGNED_TERMS_MAX_BYTES = 10 * 1024 * 1024


class CustomerForm(forms.Form):
    """A customer's record. The currency is locked once the customer has invoices (their
    amounts are in it); only an admin assigns the collector."""

    name = forms.CharField(max_length=200)
    external_id = forms.CharField(
        label="External id", max_length=64, help_text="Their account number in your ledger."
    )
    debtor_type = forms.ChoiceField(label="Debtor type", choices=DebtorType.choices)
    country = forms.CharField(
        max_length=2, required=False, help_text="Two-letter ISO code, e.g. GB."
    )
    region = forms.CharField(max_length=64, required=False, help_text="State, province or nation.")
    timezone = forms.ChoiceField(label="Time zone", widget=LongSelect)
    language = forms.RegexField(
        regex=r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})?$",
        max_length=16,
        required=False,
        help_text="Their letters and emails use the templates in this language (e.g. de or "
        "en-GB) where there are some, else English; blank: their country's language.",
        error_messages={"invalid": "Use a language code such as en, en-GB or de."},
    )
    currency = forms.ChoiceField(widget=LongSelect)
    collector = forms.ChoiceField(required=False)
    policy = forms.ModelChoiceField(
        queryset=Policy.objects.all(),
        required=False,
        empty_label="By the policy rules, else the default",
        help_text="The escalation policy that chases them; the next chase follows a change.",
    )
    credit_limit = AmountField(
        **MONEY, min_value=Decimal("0"), required=False, label="Credit limit", what="a limit"
    )
    payment_terms_days = forms.IntegerField(
        label="Payment terms (days)",
        min_value=0,
        max_value=365,
        required=False,
        help_text="Days from the invoice date they have to pay, e.g. 30.",
    )
    terms_version = forms.CharField(label="Terms version", max_length=32, required=False)
    terms_accepted_on = forms.DateField(label="Terms accepted on", required=False, widget=DATE)
    terms_document = forms.FileField(
        label="Signed terms (PDF)",
        required=False,
        help_text="The credit terms they signed; a new file keeps the old ones on record.",
    )
    late_interest_rate = forms.DecimalField(
        label="Late interest rate (% a year)",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
    )
    late_fee = AmountField(
        **MONEY, min_value=Decimal("0"), required=False, label="Late fee", what="a fee"
    )
    do_not_contact = forms.BooleanField(label="Do not contact", required=False)
    insolvent = forms.BooleanField(required=False)
    credit_hold = forms.BooleanField(label="Credit hold", required=False)

    def __init__(self, *args, customer=None, may_assign: bool, today: dt.date, **kwargs):
        self.customer, self.today = customer, today
        org = Organisation.current()
        current_currency = customer.currency if customer else org.default_currency
        self.currency_locked = bool(customer and customer.invoices.exists())
        self.may_assign = may_assign
        if customer is not None:
            kwargs.setdefault(
                "initial",
                {
                    **{
                        name: getattr(customer, name)
                        for name in self.base_fields
                        if name not in ("terms_document", "policy")
                    },
                    "policy": CustomerPolicy.objects.filter(customer=customer)
                    .values_list("policy_id", flat=True)
                    .first(),
                    "collector": str(customer.collector_id or ""),
                },
            )
        else:
            kwargs.setdefault(
                "initial",
                {
                    "timezone": org.default_timezone,
                    "currency": org.default_currency,
                    "country": org.default_country,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(n, n) for n in sorted(timezone_names())]
        self.fields["currency"].choices = currency_choices(keep=[current_currency])
        self.fields["currency"].disabled = self.currency_locked
        current_collector = customer.collector_id if customer else None
        self.fields["collector"].choices = [
            ("", "Unassigned"),
            *(
                (str(u.pk), u.get_full_name() or u.get_username())
                for u in _collector_users(current_collector)
            ),
        ]
        self.fields["collector"].disabled = not may_assign
        self.fields["terms_accepted_on"].widget.attrs["max"] = today.isoformat()

    def _posted_change(self, name: str, current: str) -> bool:
        # A disabled field ignores what is posted; a post that tries to change it anyway
        # is refused rather than silently ignored.
        return self.is_bound and name in self.data and self.data[name] != current

    def clean_external_id(self):
        value = self.cleaned_data["external_id"].strip()
        others = Customer.objects.filter(external_id=value)
        if self.customer is not None:
            others = others.exclude(pk=self.customer.pk)
        other = others.first()
        if other is not None:
            raise forms.ValidationError(
                f"{other.name} already has the external id {value}: each customer needs their own."
            )
        return value

    def clean_country(self):
        value = self.cleaned_data["country"].strip().upper()
        if value and not (len(value) == 2 and value.isascii() and value.isalpha()):
            raise forms.ValidationError("Use a two-letter ISO country code, e.g. GB.")
        return value

    def clean_currency(self):
        if self.currency_locked and self._posted_change("currency", self.customer.currency):
            raise forms.ValidationError(
                f"The currency stays {self.customer.currency}: this customer has invoices in it."
            )
        return self.cleaned_data["currency"]

    def clean_collector(self):
        current = str(self.customer.collector_id or "") if self.customer else ""
        if not self.may_assign and self._posted_change("collector", current):
            raise forms.ValidationError("Only an admin can change the collector.")
        return self.cleaned_data["collector"]

    def clean_terms_accepted_on(self):
        day = self.cleaned_data["terms_accepted_on"]
        if day and day > self.today:
            raise forms.ValidationError("The terms cannot have been accepted in the future.")
        return day

    def clean_language(self):
        value = self.cleaned_data["language"].strip().replace("_", "-")
        if not value:
            return ""
        head, _, tail = value.partition("-")
        return head.lower() + (f"-{tail.upper() if len(tail) == 2 else tail}" if tail else "")

    def clean_terms_document(self):
        upload = self.cleaned_data["terms_document"]
        if upload is None:
            return None
        if upload.size > SIGNED_TERMS_MAX_BYTES:
            raise forms.ValidationError("The file is over 10 MB: scan it at a lower resolution.")
        content = upload.read()
        if not content.startswith(b"%PDF-"):
            raise forms.ValidationError("That is not a PDF: save the signed terms as a PDF.")
        return (upload.name.rsplit("/", 1)[-1][:200] or "signed-terms.pdf", content)

    def values(self) -> dict:
        """The fields as the ledger's services take them (the signed terms apart)."""
        data = dict(self.cleaned_data)
        data.pop("terms_document", None)
        data.pop("policy", None)
        collector = data.pop("collector")
        if self.may_assign:
            data["collector"] = get_user_model().objects.get(pk=collector) if collector else None
        if self.currency_locked:
            data.pop("currency")
        return data


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    role = forms.ChoiceField(choices=ContactRole.choices)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(
        label="Postal address",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One line per row, as on an envelope.",
    )
    is_primary = forms.BooleanField(
        label="Primary for its role",
        required=False,
        help_text="The one written to first; any other primary of the same role stops being so.",
    )
    # Which channels may be used, and which this contact is the first one reached on.
    email_opt_out = forms.BooleanField(label="Do not email", required=False)
    phone_opt_out = forms.BooleanField(label="Do not call", required=False)
    post_opt_out = forms.BooleanField(label="Do not send letters", required=False)
    primary_email = forms.BooleanField(
        label="Primary for email", required=False, help_text="Reminders go here first."
    )
    primary_phone = forms.BooleanField(
        label="Primary for calls", required=False, help_text="Collectors call this number first."
    )
    primary_post = forms.BooleanField(
        label="Primary for letters", required=False, help_text="Posted letters go here first."
    )
    CHANNELS = (
        ("email", "email", "email_opt_out", "primary_email"),
        ("phone", "phone", "phone_opt_out", "primary_phone"),
        ("letters", "address", "post_opt_out", "primary_post"),
    )
    DETAIL_FIELDS = ("name", "role", "email", "phone", "address")

    def channel_rows(self):
        """(channel, its primary checkbox, its do-not-use checkbox), for the form's table."""
        names = {"email": "Email", "phone": "Calls", "letters": "Letters"}
        return [
            (names[channel], self[primary], self[opt_out])
            for channel, _detail, opt_out, primary in self.CHANNELS
        ]

    def __init__(self, *args, contact=None, **kwargs):
        if contact is not None:
            initial = {name: getattr(contact, name) for name in self.base_fields}
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        for name in ("name", "phone", "address"):
            if name in data:
                data[name] = data[name].strip()
        reachable = data.get("email") or data.get("phone") or data.get("address")
        if not reachable and not self.errors:
            raise forms.ValidationError(
                "Give at least one way to reach them: an email, a phone or a postal address."
            )
        for channel, detail, opt_out, primary in self.CHANNELS:
            if not data.get(primary):
                continue
            if not data.get(detail) and detail not in self.errors:
                self.add_error(primary, f"Give their {detail} to make them primary for {channel}.")
            elif data.get(opt_out):
                self.add_error(primary, f"They may not be reached by {channel}: untick one.")
        return data
