from django import forms

from .models import Scope


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which system uses it, e.g. “Xero nightly sync”."
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=[Scope.READ]
    )
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires at",
        help_text="Optional. Leave empty for a token that works until revoked.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
