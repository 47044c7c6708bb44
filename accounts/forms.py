from functools import lru_cache

from babel import Locale
from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator

from invoices.money import currency_choices
from invoices.validators import timezone_names

from .roles import ROLES


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    territories = Locale.parse("en").territories
    return sorted(
        ((code, name) for code, name in territories.items() if len(code) == 2 and code.isalpha()),
        key=lambda pair: pair[1],
    )


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(timezone_names())]


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=200)
    default_currency = forms.ChoiceField()
    default_timezone = forms.ChoiceField(choices=timezone_choices, label="Default time zone")
    default_country = forms.ChoiceField(choices=country_choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Currencies in use today, plus the firm's own even if since withdrawn.
        current = self.initial.get("default_currency")
        keep = [current] if current else []
        self.fields["default_currency"].choices = currency_choices(keep=keep)


ROLE_CHOICES = [(role, role) for role in ROLES]


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("A user with that username already exists.")
        return username

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            candidate = get_user_model()(
                username=data.get("username", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
            )
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class UserRoleForm(forms.Form):
    # The blank choice shows a user who has no role yet; it cannot be saved.
    role = forms.ChoiceField(choices=[("", "No role"), *ROLE_CHOICES])


class UserActiveForm(forms.Form):
    active = forms.TypedChoiceField(
        choices=[("1", "Active"), ("0", "Inactive")], coerce=lambda value: value == "1"
    )


class LoginUnlockForm(forms.Form):
    # Exactly as typed at the login: usernames are stored unstripped by the throttle.
    username = forms.CharField(max_length=255, required=False, strip=False)
    ip_address = forms.GenericIPAddressField(required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("username")) == bool(data.get("ip_address")):
            raise forms.ValidationError("Choose one account or one address to unlock.")
        return data
