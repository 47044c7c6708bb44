from dataclasses import dataclass
from decimal import Decimal

import holidays
from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator

from accounts.roles import ROLES
from invoices.forms import AmountField
from invoices.models import MONEY, DebtorType
from letters.models import InterestRegime

from .models import BarredDebts, Channel, DunningSettings, Policy, StepKind
from .policy_services import (
    SETTINGS_FIELDS,
    TemplateCatalogue,
    steps_problems,
    template_catalogue,
)

WEEKDAYS = [
    ("0", "Mon"),
    ("1", "Tue"),
    ("2", "Wed"),
    ("3", "Thu"),
    ("4", "Fri"),
    ("5", "Sat"),
    ("6", "Sun"),
]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def amount_field(**kwargs) -> AmountField:
    """An amount of money more than zero, with the ledger's precision."""
    return AmountField(**MONEY, min_value=Decimal("0.01"), **kwargs)


def collector_choices(empty_label: str) -> list[tuple[str, str]]:
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=ROLES)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return [("", empty_label), *((str(u.pk), u.get_full_name() or u.get_username()) for u in users)]


# --- policies ------------------------------------------------------------------------------


# Widths in the step table, where controls stretch to fill their cells: numbers stay narrow,
# names and choices wide enough to read whole, so that a row fits a 1280 px screen.
NARROW = {"style": "width: 4rem; min-width: 4rem"}


# Short names for the editor's narrow column; KIND_HELP says what each does.
STEP_KINDS = [(StepKind.CHASE, "Chase"), (StepKind.CHECK, "Satisfaction check")]
KIND_HELP = (
    "Chase: a step of the ladder, its offset counted from the due date. Satisfaction check: "
    "an email a few days after the invoice is issued (its offset counts days after the issue "
    "date), asking whether all is in order, sent only while the invoice is not yet due, "
    "once per invoice; it never moves the ladder on."
)


class KindField(forms.ChoiceField):
    """A step's kind; left out of a post (a client that predates it), a chase step."""

    def to_python(self, value):
        return super().to_python(value) or StepKind.CHASE

    def has_changed(self, initial, data):
        return self.to_python(data) != (initial or StepKind.CHASE)


class StepForm(forms.Form):
    """One row of the policy editor. The labels head the editor's columns, in field order."""

    position = forms.IntegerField(
        min_value=1,
        max_value=99,
        label="Position",
        widget=forms.NumberInput(attrs={"style": "width: 3.25rem; min-width: 3.25rem"}),
    )
    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"style": "min-width: 9rem"})
    )
    kind = KindField(
        choices=STEP_KINDS,
        required=False,
        initial=StepKind.CHASE,
        label="Kind",
        help_text=KIND_HELP,
        widget=forms.Select(attrs={"style": "min-width: 7rem", "title": KIND_HELP}),
    )
    offset_days = forms.IntegerField(
        min_value=-365,
        max_value=3650,
        label="Offset (days)",
        widget=forms.NumberInput(attrs=NARROW),
    )
    # The blank row's initial values: left as they are, the row is ignored.
    channel = forms.ChoiceField(
        choices=Channel.choices,
        initial=Channel.EMAIL,
        widget=forms.Select(attrs={"style": "min-width: 8rem"}),
    )
    template = forms.ChoiceField(
        required=False,
        widget=forms.Select(attrs={"style": "min-width: 12.5rem"}),
        error_messages={
            "invalid_choice": "There is no template %(value)s: choose one from the list, or "
            "create it under Templates first."
        },
    )
    min_balance = AmountField(
        **MONEY,
        min_value=0,
        initial=Decimal("0"),
        label="Min balance",
        widget=forms.NumberInput(attrs={"style": "width: 6rem", "step": "0.01"}),
    )
    response_deadline_days = forms.IntegerField(
        min_value=1,
        max_value=90,
        required=False,
        label="Deadline (days)",
        widget=forms.NumberInput(attrs=NARROW),
    )
    business_days_only = forms.BooleanField(required=False, initial=True, label="Business days")
    use_escalation_contact = forms.BooleanField(required=False, label="Escalation contact")
    attach_statement = forms.BooleanField(required=False, label="Attach statement")
    attach_copies = forms.BooleanField(required=False, label="Attach invoice copies")
    # UK Pre-Action Protocol for Debt Claims: individuals and sole traders in England and
    # Wales get this letter instead, with at least 30 days to reply.
    pre_action_template = forms.ChoiceField(
        required=False,
        label="Letter for individuals (England and Wales)",
        widget=forms.Select(attrs={"style": "min-width: 10rem"}),
    )
    pre_action_days = forms.IntegerField(
        min_value=30,
        max_value=90,
        required=False,
        label="Their days to reply",
        widget=forms.NumberInput(attrs=NARROW),
    )

    def __init__(self, *args, catalogue: TemplateCatalogue | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The formset passes one catalogue to all its rows: one query for the whole page.
        self.catalogue = catalogue if catalogue is not None else template_catalogue()
        self.fields["template"].choices = self.catalogue.choices()
        self.fields["pre_action_template"].choices = self.catalogue.choices()

    def clean(self):
        data = super().clean()
        channel, key = data.get("channel"), data.get("template")
        if channel and key is not None:
            problem = self.catalogue.problem(channel, key)
            if problem:
                self.add_error("template", problem)
        individual = data.get("pre_action_template")
        if individual:
            if channel != Channel.LETTER:
                self.add_error(
                    "pre_action_template", "Only a letter step has a letter for individuals."
                )
            elif problem := self.catalogue.problem(Channel.LETTER, individual):
                self.add_error("pre_action_template", problem)
            if not data.get("pre_action_days"):
                data["pre_action_days"] = 30  # the Protocol's least
        elif data.get("pre_action_days"):
            self.add_error("pre_action_days", "Choose the letter for individuals first.")
        if data.get("kind") == StepKind.CHECK:
            self._clean_check(data)
        return data

    def _clean_check(self, data: dict) -> None:
        # Its template: an email step's own rule (the catalogue) already asks for one.
        if data.get("channel") and data["channel"] != Channel.EMAIL:
            self.add_error("channel", "A satisfaction check goes by email: choose Email.")
        offset = data.get("offset_days")
        if offset is not None and offset < 1:
            self.add_error(
                "offset_days",
                "A satisfaction check counts days after the issue date: give at least 1.",
            )


@dataclass(frozen=True)
class Problem:
    """One thing to fix before a form saves: the id of the field it is about ("" for the
    whole form) and what is wrong, in words."""

    field_id: str
    text: str


class BaseStepFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def steps(self) -> list[dict]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]

    def clean(self):
        # The ladder's rules run over whatever each row got right, even when some rows have
        # field errors, so that the admin sees every problem in one round.
        for problem in steps_problems(self.steps()):
            self._non_form_errors.append(problem)

    def problems(self, *others: forms.Form) -> list[Problem]:
        """Every problem of the submission: each row's, then the ladder's, then those of the
        other forms posted with it."""
        found = []
        for row, form in enumerate(self.forms, start=1):
            for name, errors in form.errors.items():
                field = form[name] if name in form.fields else None
                where = f"Step {row}, {field.label}" if field else f"Step {row}"
                found += [Problem(field.auto_id if field else "", f"{where}: {e}") for e in errors]
        found += [Problem("", error) for error in self.non_form_errors()]
        for form in others:
            for name, errors in form.errors.items():
                field = form[name] if name in form.fields else None
                where = f"{field.label}: " if field else ""
                found += [Problem(field.auto_id if field else "", f"{where}{e}") for e in errors]
        return found


StepFormSet = forms.formset_factory(
    StepForm, formset=BaseStepFormSet, extra=1, can_delete=True, max_num=30, validate_max=True
)


class PolicyVersionNoteForm(forms.Form):
    note = forms.CharField(max_length=200, required=False, label="What changed and why (optional)")


class PolicyInterestForm(forms.Form):
    interest_regime = forms.ChoiceField(
        choices=[("", "Not claimed"), *InterestRegime.choices],
        required=False,
        label="Statutory interest and compensation in letters",
    )


class PolicyBarredForm(forms.Form):
    barred_debts = forms.ChoiceField(
        choices=BarredDebts.choices, label="Debts past their limitation date"
    )


class PolicyCopyForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name of the new policy")
    source = forms.ModelChoiceField(
        queryset=Policy.objects.all(), label="Copy the steps of", empty_label=None
    )


class CustomerPolicyForm(forms.Form):
    policy = forms.ModelChoiceField(
        queryset=Policy.objects.all(), required=False, empty_label="The default policy"
    )


class PolicyRepeatForm(forms.Form):
    repeat_every_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        label="Repeat the last reminder every (days)",
        help_text="Once the ladder is done, its last email or letter goes again every this "
        "many days until paid; blank: once",
    )


class PolicyRuleForm(forms.Form):
    """A default-policy rule (dunning.rules): blank conditions hold for everyone."""

    position = forms.IntegerField(min_value=1, max_value=999, label="Position")
    debtor_type = forms.ChoiceField(
        choices=[("", "Any debtor"), *DebtorType.choices], required=False, label="Debtor type"
    )
    country = forms.CharField(
        required=False, label="Country (two-letter code)", help_text="Blank: any"
    )
    min_balance = AmountField(
        **MONEY,
        min_value=Decimal("0"),
        required=False,
        label="Owing at least",
        help_text="In the customer's own currency; blank: any balance",
    )
    policy = forms.ModelChoiceField(
        queryset=Policy.objects.all(), empty_label=None, label="Follow policy"
    )

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and not (len(country) == 2 and country.isalpha()):
            raise forms.ValidationError("Use a two-letter ISO country code, e.g. GB.")
        return country


class LadderMoveForm(forms.Form):
    """Move a customer to a step of their policy (dunning.moves)."""

    position = forms.TypedChoiceField(coerce=int, label="Move to step")
    reason = forms.CharField(
        max_length=300,
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown with the next step and kept in the timeline",
    )

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The satisfaction check is no step of the ladder: nobody is moved to it.
        self.fields["position"].choices = [
            (step.position, f"{step.position}. {step.name}")
            for step in steps
            if step.kind != StepKind.CHECK
        ]

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Say why the customer is moved.")
        return reason


# --- settings -------------------------------------------------------------------------------

CREDIT_HOLD_MAX_DAYS = 3650


class DunningSettingsForm(forms.ModelForm):
    business_days = forms.MultipleChoiceField(
        choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple, label="Business days"
    )

    class Meta:
        model = DunningSettings
        fields = list(SETTINGS_FIELDS)
        labels = {
            "window_start": "Emails from",
            "window_end": "Emails until",
            "phone_start": "Calls from",
            "phone_end": "Calls until",
            "holiday_country": "Public holidays of (country code)",
            "holiday_subdivision": "Region (subdivision code)",
            "min_interval_days": "Minimum days between automated messages",
            "promise_grace_days": "Grace days after a promise",
            "promise_max_days": "Longest promise (days ahead)",
            "plan_grace_days": "Grace days after an instalment",
            "schedule_minutes": "Run every (minutes)",
            "creditor_role": "We collect as",
            "credit_hold_overdue_days": "Credit hold after (days overdue)",
            "credit_hold_over_limit": "Credit hold over the credit limit",
        }
        help_texts = {
            "credit_hold_overdue_days": "Put an account on credit hold once an undisputed "
            "invoice is more than this many days overdue; empty: never. Applied when saved, "
            "then every hour.",
            "credit_hold_over_limit": "Put an account on credit hold once it owes more than "
            "its credit limit (accounts without a limit never are). Holds the rule set are "
            "lifted when the account is back in terms; holds set by hand stay.",
        }
        widgets = {
            "window_start": TIME,
            "window_end": TIME,
            "phone_start": TIME,
            "phone_end": TIME,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and not self.is_bound:
            self.initial["business_days"] = sorted(str(d) for d in self.instance.business_weekdays)
        for name in ("schedule_minutes", "promise_max_days"):
            # The validator, not min_value, refuses 0: min_value only counts at construction.
            self.fields[name].validators.append(MinValueValidator(1))
            self.fields[name].widget.attrs["min"] = 1
        self.fields["credit_hold_overdue_days"].validators.append(
            MaxValueValidator(CREDIT_HOLD_MAX_DAYS, "At most %(limit_value)s days (ten years).")
        )
        self.fields["credit_hold_overdue_days"].widget.attrs["max"] = CREDIT_HOLD_MAX_DAYS

    def clean_business_days(self) -> str:
        return ",".join(sorted(self.cleaned_data["business_days"]))

    def clean_holiday_country(self) -> str:
        code = self.cleaned_data["holiday_country"].strip().upper()
        if code and code not in holidays.list_supported_countries():
            raise forms.ValidationError(
                f"{code} is not a country the holidays calendar knows; use a two-letter ISO "
                "code such as GB, US or DE, or leave it empty for no public holidays."
            )
        return code

    def clean_holiday_subdivision(self) -> str:
        return self.cleaned_data["holiday_subdivision"].strip().upper()

    def clean(self):
        data = super().clean()
        for start, end, what in (
            ("window_start", "window_end", "The email window"),
            ("phone_start", "phone_end", "The phone window"),
        ):
            if data.get(start) and data.get(end) and data[end] <= data[start]:
                self.add_error(end, f"{what} must end after it starts.")
        country, region = data.get("holiday_country"), data.get("holiday_subdivision")
        if region and not country:
            self.add_error("holiday_subdivision", "Choose the country first.")
        elif country and region:
            known = holidays.list_supported_countries().get(country, [])
            if region not in known:
                listed = ", ".join(known) or "none"
                self.add_error(
                    "holiday_subdivision",
                    f"{country} has no region {region}; known regions: {listed}.",
                )
        return data

    def changed_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# --- preview -----------------------------------------------------------------------------


class PreviewFilterForm(forms.Form):
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Channel.choices])
    collector = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].choices = collector_choices("Any collector")

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"channel": data.get("channel", ""), "collector": data.get("collector", "")}
