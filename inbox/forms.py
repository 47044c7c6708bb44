from django import forms

from invoices.models import Customer


class AssignForm(forms.Form):
    customer = forms.CharField(
        label="Customer",
        max_length=64,
        help_text="The customer's number (external id) or exact name.",
    )

    def clean_customer(self):
        value = self.cleaned_data["customer"].strip()
        found = list(Customer.objects.filter(external_id=value)[:1]) or list(
            Customer.objects.filter(name__iexact=value)[:2]
        )
        if not found:
            raise forms.ValidationError("No customer has that number or name.")
        if len(found) > 1:
            raise forms.ValidationError("Several customers have that name: use the number.")
        return found[0]
