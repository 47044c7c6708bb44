from django import forms

from invoices.models import InvoiceStatus
from invoices.money import format_money


def ticked(invoices) -> list:
    """What Pay now offers ticked: every open invoice; those in dispute only if chosen."""
    return [invoice for invoice in invoices if invoice.status == InvoiceStatus.OPEN]


def _label(invoice) -> str:
    label = f"{invoice.number}: {format_money(invoice.open_balance, invoice.currency)}"
    return label + (" (in dispute)" if invoice.status == InvoiceStatus.IN_DISPUTE else "")


class PayForm(forms.Form):
    """Which open invoices to pay now; each is paid at its open balance."""

    invoice = forms.TypedMultipleChoiceField(
        coerce=int,
        label="Invoices to pay",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one invoice to pay.",
            # An invoice paid since the page was shown is no longer a choice.
            "invalid_choice": "One of these invoices is already paid: reload the page to see why.",
        },
    )

    def __init__(self, *args, invoices, **kwargs):
        if not args and "initial" not in kwargs:
            kwargs["initial"] = {"invoice": [invoice.pk for invoice in ticked(invoices)]}
        # The customer's page holds other forms with an "invoice" field: keep ids apart.
        kwargs.setdefault("auto_id", "pay_%s")
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [(invoice.pk, _label(invoice)) for invoice in invoices]
