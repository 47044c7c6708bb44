from decimal import Decimal

import holidays
from django import forms
from django.contrib.auth import get_user_model

from accounts.roles import ROLES
from invoices.forms import AmountField
from invoices.models import MONEY
from letters.models import InterestRegime

from .models import Channel, DunningSettings, Policy
from .policy_services import SETTINGS_FIELDS, steps_problems

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


class StepForm(forms.Form):
    position = forms.IntegerField(
        min_value=1, max_value=99, widget=forms.NumberInput(attrs={"style": "width: 4.5rem"})
    )
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"size": 18}))
    offset_days = forms.IntegerField(
        min_value=-365,
        max_value=3650,
        label="Offset (days)",
        widget=forms.NumberInput(attrs={"style": "width: 4.5rem"}),
    )
    # The blank row's initial values: left as they are, the row is ignored.
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.EMAIL)
    template = forms.SlugField(
        max_length=100, label="Template key", widget=forms.TextInput(attrs={"size": 16})
    )
    min_balance = AmountField(
        **MONEY,
        min_value=0,
        initial=Decimal("0"),
        label="Min balance",
        widget=forms.NumberInput(attrs={"style": "width: 7rem", "step": "0.01"}),
    )
    business_days_only = forms.BooleanField(required=False, initial=True, label="Business days")
    use_escalation_contact = forms.BooleanField(required=False, label="Escalation contact")
    attach_statement = forms.BooleanField(required=False, label="Attach statement")
    response_deadline_days = forms.IntegerField(
        min_value=1,
        max_value=90,
        required=False,
        label="Deadline (days)",
        widget=forms.NumberInput(attrs={"style": "width: 4.5rem"}),
    )


class BaseStepFormSet(forms.BaseFormSet):
    def steps(self) -> list[dict]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]

    def clean(self):
        if any(self.errors):
            return
        for problem in steps_problems(self.steps()):
            # Collected at once so the admin can fix every problem in one go.
            self._non_form_errors.append(problem)


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


class PolicyCopyForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name of the new policy")
    source = forms.ModelChoiceField(
        queryset=Policy.objects.all(), label="Copy the steps of", empty_label=None
    )


class CustomerPolicyForm(forms.Form):
    policy = forms.ModelChoiceField(
        queryset=Policy.objects.all(), required=False, empty_label="The default policy"
    )


# --- settings -------------------------------------------------------------------------------


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
            "plan_grace_days": "Grace days after an instalment",
            "schedule_minutes": "Run every (minutes)",
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
        self.fields["schedule_minutes"].min_value = 1
        self.fields["schedule_minutes"].widget.attrs["min"] = 1

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
