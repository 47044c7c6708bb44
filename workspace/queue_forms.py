"""The queue's filters and its bulk actions."""

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model

from accounts.roles import ROLES
from invoices.forms import FilterForm, staff_choices

BUCKETS = [
    ("", "Any age"),
    ("1_30", "1–30 days late"),
    ("31_60", "31–60 days late"),
    ("61_90", "61–90 days late"),
    ("90_plus", "Over 90 days late"),
]
FLAGS = [
    ("", "Any flag"),
    ("act_now", "Act now"),
    ("broken_promise", "Broken promise"),
    ("call_due", "Call due"),
    ("waiting", "Waiting (paused)"),
    ("promise", "Promise to pay"),
    ("plan", "Payment plan"),
    ("on_hold", "On hold"),
    ("disputed", "In dispute"),
    ("in_legal", "In legal"),
    ("no_contact", "Do not contact / insolvent"),
    ("credit_hold", "Credit hold"),
]


class QueueFilterForm(FilterForm):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "Name or external id"}),
    )
    collector = forms.ChoiceField(required=False)
    bucket = forms.ChoiceField(required=False, choices=BUCKETS, label="Oldest overdue")
    flag = forms.ChoiceField(required=False, choices=FLAGS)
    currency = forms.ChoiceField(required=False)

    def __init__(self, *args, currencies: list[str], managing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", "Any currency"), *((c, c) for c in currencies)]
        if managing:
            self.fields["collector"].choices = staff_choices(empty_label="Every collector")
        else:
            # A collector works their own customers.
            del self.fields["collector"]

    def filters(self) -> dict:
        data = super().filters()
        return {
            "q": data.get("q", "").strip(),
            "bucket": data.get("bucket", ""),
            "flag": data.get("flag", ""),
            "currency": data.get("currency", ""),
            **self.collector_filter(data.get("collector", "")),
        }


BULK_ACTIONS = [
    ("send", "Send the next step now"),
    ("hold", "Put on hold"),
    ("assign", "Assign to a collector"),
]


class BulkForm(forms.Form):
    """The customers ticked on a queue page and what to do with them; `confirm` is set by
    the confirmation page, so nothing happens on the first submit."""

    MAX = 100

    action = forms.ChoiceField(choices=BULK_ACTIONS)
    customer = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Customers")
    collector = forms.ChoiceField(required=False, label="Assign to")
    reason = forms.CharField(required=False, max_length=200, label="Reason for the hold")
    until = forms.DateField(
        required=False,
        label="Hold until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for a hold until released.",
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, today: dt.date, managing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.managing = managing
        # Any id is accepted here; the view keeps only customers the user may act on.
        raw = self.data.getlist("customer") if self.is_bound else []
        self.fields["customer"].choices = [(v, v) for v in raw if str(v).isdigit()]
        users = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=ROLES)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self.fields["collector"].choices = [
            ("", "Choose…"),
            ("none", "Nobody (unassigned)"),
            *((str(u.pk), u.get_full_name() or u.get_username()) for u in users),
        ]

    def clean_customer(self):
        ids = self.cleaned_data["customer"]
        if len(ids) > self.MAX:
            raise forms.ValidationError(f"Choose at most {self.MAX} customers at a time.")
        return ids

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign":
            if not self.managing:
                self.add_error("action", "Only managers assign customers to collectors.")
            elif not data.get("collector"):
                self.add_error("collector", "Choose who takes these customers.")
        if action == "hold":
            if not data.get("reason", "").strip():
                self.add_error("reason", "Give a reason for the hold.")
            until = data.get("until")
            if until and until < self.today:
                self.add_error("until", "The hold cannot end in the past.")
        return data

    def assignee(self):
        value = self.cleaned_data.get("collector")
        if not value or value == "none":
            return None
        return (
            get_user_model()
            .objects.filter(pk=int(value), is_active=True, groups__name__in=ROLES)
            .first()
        )
