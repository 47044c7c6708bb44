"""Filter forms for the ledger lists, and the field every form takes amounts with.

Filter forms are bound to the query string; a value that does not validate is reported beside
the filters and otherwise ignored."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import InvoiceStatus
from .money import AMOUNT_TEXT, shown
from .selectors import collectors

UNASSIGNED = "none"


class AmountField(forms.DecimalField):
    """A DecimalField that reads only the documented format: an optional minus, digits, and
    optionally a dot and decimals (the field's decimal_places says how many).

    Django's own DecimalField hands the text to Decimal(), which also takes 1E3, 1_234.56, +5
    and other scripts' digits; the import reads amounts by the same rule (money.parse_amount).
    min_value still decides whether a negative or zero is allowed, and says so."""

    def __init__(self, *args, what: str = "an amount", example: str = "1234.56", **kwargs):
        super().__init__(*args, **kwargs)
        self.what, self.example = what, example

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if value and not AMOUNT_TEXT.fullmatch(value):
                raise ValidationError(
                    "'%(value)s' is not %(what)s: use digits with a dot for decimals, "
                    "e.g. %(example)s.",
                    code="invalid",
                    params={"value": shown(value), "what": self.what, "example": self.example},
                )
        return super().to_python(value)


class LongSelect(forms.Select):
    """A select of hundreds of plain options (time zones, currencies) written out in one
    pass: Django renders each option through a template, several milliseconds a page."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = "" if value is None else str(value)
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        options = "".join(
            f'<option value="{escape(key)}"{" selected" if str(key) == chosen else ""}>'
            f"{escape(label)}</option>"
            for key, label in self.choices
        )
        return mark_safe(f"<select{flatatt(attrs)}>{options}</select>")


def staff_choices(*, empty_label: str) -> list[tuple[str, str]]:
    """The "assigned collector" filter: the collectors, and anyone else with customers
    assigned; "(inactive)" marks those who can no longer log in but still hold customers."""
    return [
        ("", empty_label),
        (UNASSIGNED, "Unassigned"),
        *(
            (
                str(u.pk),
                (u.get_full_name() or u.get_username()) + ("" if u.is_active else " (inactive)"),
            )
            for u in collectors()
        ),
    ]


class FilterForm(forms.Form):
    """A GET form whose valid fields filter a list and whose invalid ones are dropped."""

    def filters(self) -> dict:
        self.is_valid()
        return {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}

    def collector_filter(self, value: str) -> dict:
        if value == UNASSIGNED:
            return {"unassigned": True}
        if value:
            return {"collector": get_user_model()(pk=int(value))}
        return {}


class CustomerFilterForm(FilterForm):
    SORTS = [
        ("name", "Name A–Z"),
        ("-name", "Name Z–A"),
        ("-overdue", "Overdue, highest first"),
        ("overdue", "Overdue, lowest first"),
    ]
    FLAGS = [
        ("", "Any flag"),
        ("on_hold", "On hold"),
        ("do_not_contact", "Do not contact"),
        ("insolvent", "Insolvent"),
        ("credit_hold", "Credit hold"),
    ]

    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "Name or external id"}),
    )
    collector = forms.ChoiceField(required=False)
    currency = forms.ChoiceField(required=False)
    flag = forms.ChoiceField(required=False, choices=FLAGS)
    has_overdue = forms.BooleanField(required=False, label="Has overdue")
    sort = forms.ChoiceField(required=False, choices=SORTS)

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].choices = staff_choices(empty_label="Any collector")
        self.fields["currency"].choices = [("", "Any currency"), *((c, c) for c in currencies)]

    def filters(self) -> dict:
        data = super().filters()
        return {
            "q": data.get("q", "").strip(),
            "currency": data.get("currency", ""),
            "flag": data.get("flag", ""),
            "has_overdue": data.get("has_overdue", False),
            "sort": data.get("sort") or "name",
            **self.collector_filter(data.get("collector", "")),
        }


class InvoiceFilterForm(FilterForm):
    STATUSES = [
        ("outstanding", "Outstanding"),
        *InvoiceStatus.choices,
        ("all", "All statuses"),
    ]
    OVERDUE = [
        ("", "Any age"),
        ("not_due", "Not yet due"),
        ("1_30", "1–30 days overdue"),
        ("31_60", "31–60 days overdue"),
        ("61_90", "61–90 days overdue"),
        ("90_plus", "Over 90 days overdue"),
    ]
    SORTS = [("due", "Due date, oldest first"), ("-due", "Due date, newest first")]

    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "Customer, external id or invoice no."}),
    )
    status = forms.ChoiceField(required=False, choices=STATUSES)
    overdue = forms.ChoiceField(required=False, choices=OVERDUE, label="Overdue")
    currency = forms.ChoiceField(required=False)
    customer = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    sort = forms.ChoiceField(required=False, choices=SORTS)

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", "Any currency"), *((c, c) for c in currencies)]

    def filters(self) -> dict:
        data = super().filters()
        return {
            "status": data.get("status") or "outstanding",
            "overdue": data.get("overdue", ""),
            "q": data.get("q", "").strip(),
            "currency": data.get("currency", ""),
            "customer_id": data.get("customer"),
            "sort": data.get("sort") or "due",
        }
