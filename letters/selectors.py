"""Reads for letters: the template version in force, the print queue."""

from babel import Locale, UnknownLocaleError
from django.db.models import Max

from .models import PrintItem, Template, TemplateVersion


def language_of(country: str) -> str:
    """The language customers in a country are most likely to read (CLDR's likely
    subtags): de for DE, nl for BE, en for GB; English when the country is unknown."""
    try:
        return Locale.parse(f"und_{country}").language if country else "en"
    except (ValueError, UnknownLocaleError):
        return "en"


def template_version_current(key: str, language: str = "en") -> TemplateVersion | None:
    """The latest version of a template in a language, else in English, else None."""
    for lang in dict.fromkeys([language, "en"]):
        version = (
            TemplateVersion.objects.filter(template__key=key, template__language=lang)
            .select_related("template")
            .order_by("-number")
            .first()
        )
        if version is not None:
            return version
    return None


def templates_with_latest():
    return Template.objects.annotate(latest=Max("versions__number")).order_by("key", "language")


def print_queue():
    return (
        PrintItem.objects.filter(printed_at__isnull=True)
        .select_related("document", "document__customer")
        .order_by("queued_at", "id")
    )
