"""Money in the reader's locale: {% money amount currency %} in pages, and the `money`
filter ({{ amount|money:currency }}) where there is no request, e.g. in letters."""

from babel import Locale, UnknownLocaleError
from django import template
from django.conf import settings
from django.utils.translation import get_language, to_locale
from django.utils.translation.trans_real import parse_accept_lang_header

from invoices.money import format_money

register = template.Library()


def default_locale() -> str:
    return to_locale(get_language() or settings.LANGUAGE_CODE)


def locale_from_header(header: str) -> str | None:
    """The first locale in an Accept-Language header that babel knows, e.g. 'de_DE'."""
    for code, _quality in parse_accept_lang_header(header or ""):
        if code == "*":
            continue
        try:
            return str(Locale.parse(code, sep="-"))
        except (ValueError, UnknownLocaleError):
            continue
    return None


def user_locale(context) -> str:
    """The browser's preferred locale, worked out once per request."""
    request = context.get("request")
    if request is None:
        return default_locale()
    cached = getattr(request, "_dunmore_locale", None)
    if cached is None:
        header = request.headers.get("Accept-Language", "")
        cached = locale_from_header(header) or default_locale()
        request._dunmore_locale = cached
    return cached


@register.simple_tag(takes_context=True, name="money")
def money_tag(context, amount, currency):
    return format_money(amount, currency, locale=user_locale(context))


@register.filter(name="money")
def money_filter(amount, currency):
    return format_money(amount, currency, locale=default_locale())
