"""The dashboard's filters: one GET form shared by the page, its drill-down and its exports,
so a CSV or a PDF always holds what the page showed."""

import datetime as dt

from django import forms

from dunning.forms import DATE
from invoices.forms import UNASSIGNED, FilterForm, staff_choices
from invoices.selectors import customer_currencies

from .aging import DEFAULT_EDGES, parse_edges

AGING_BY = [("currency", "Currency"), ("customer", "Customer"), ("collector", "Collector")]
PERIODS = [("30", "Last 30 days"), ("90", "Last 90 days"), ("365", "Last 12 months")]
EARLIEST = dt.date(2000, 1, 1)


class ReportFilterForm(FilterForm):
    as_of = forms.DateField(
        required=False,
        label="As of",
        widget=DATE,
        input_formats=["%Y-%m-%d"],
    )
    currency = forms.ChoiceField(required=False)
    collector = forms.ChoiceField(required=False)
    by = forms.ChoiceField(required=False, choices=AGING_BY, label="Aging by")
    edges = forms.CharField(
        required=False,
        max_length=40,
        label="Bucket edges (days)",
        widget=forms.TextInput(attrs={"placeholder": ",".join(map(str, DEFAULT_EDGES))}),
    )
    period = forms.ChoiceField(required=False, choices=PERIODS, label="Activity over")

    def __init__(self, data=None, *args, currencies: list[str], today: dt.date, **kwargs):
        if data is not None and not data.get("as_of"):
            # Left empty, As of means today: show it, rather than an empty date box.
            data = data.copy()
            data["as_of"] = today.isoformat()
        super().__init__(data, *args, **kwargs)
        self.today = today
        as_of = self.fields["as_of"]
        as_of.initial = today
        as_of.widget = forms.DateInput(
            attrs={**DATE.attrs, "min": EARLIEST.isoformat(), "max": today.isoformat()},
            format=DATE.format,
        )
        self.fields["currency"].choices = [("", "Every currency"), *((c, c) for c in currencies)]
        self.fields["collector"].choices = staff_choices(empty_label="Every collector")

    def clean_as_of(self):
        as_of = self.cleaned_data["as_of"]
        if as_of and as_of > self.today:
            raise forms.ValidationError("Reports look back: choose today or an earlier date.")
        if as_of and as_of < EARLIEST:
            raise forms.ValidationError(f"Choose a date after {EARLIEST:%-d %b %Y}.")
        return as_of

    def clean_edges(self):
        text = self.cleaned_data["edges"].strip()
        if not text:
            return DEFAULT_EDGES
        try:
            return parse_edges(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    @staticmethod
    def defaults(today: dt.date) -> dict:
        return {
            "as_of": today,
            "currency": "",
            "collector_id": None,
            "unassigned": False,
            "by": "currency",
            "edges": DEFAULT_EDGES,
            "period": 30,
        }

    def filters(self) -> dict:
        """Valid choices, with defaults for anything left empty or refused."""
        data = super().filters()
        collector = data.get("collector", "")
        return {
            "as_of": data.get("as_of") or self.today,
            "currency": data.get("currency", ""),
            "collector_id": int(collector) if collector and collector != UNASSIGNED else None,
            "unassigned": collector == UNASSIGNED,
            "by": data.get("by") or "currency",
            "edges": data.get("edges") or DEFAULT_EDGES,
            "period": int(data.get("period") or 30),
        }


def report_filters(query, *, today: dt.date) -> tuple[ReportFilterForm, dict]:
    """The reports' filter form for a query string's values, and the filters it gives (the
    defaults without any): what every report page and export reads, in the request or in
    the worker."""
    form = ReportFilterForm(query or None, currencies=customer_currencies(), today=today)
    return form, form.filters() if form.is_bound else ReportFilterForm.defaults(today)
