"""Reads for letters: the template version in force, the templates in ladder order, the
print queue."""

from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Length

from .defaults import SHIPPED
from .models import PrintItem, Template, TemplateVersion
from .signals import StepUse


def language_of(country: str, chosen: str = "") -> str:
    """The language to write to a customer in: the one chosen for them (its language part:
    de for de-AT), else the one customers in their country are most likely to read (CLDR's
    likely subtags): de for DE, nl for BE, en for GB; English when the country is unknown.
    Without a template in that language, English is used (template_version_current)."""
    if chosen:
        return chosen.replace("_", "-").split("-")[0].lower()
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


@dataclass(frozen=True)
class TemplateRow:
    template: Template
    latest: int
    has_letter: bool  # its latest version has a letter (PDF) besides the email
    uses: tuple[StepUse, ...]


def templates_in_ladder_order(uses: Sequence[StepUse]) -> list[TemplateRow]:
    """Every template with its latest version number and the steps that use it, in the order
    the ladder sends them: the default policy's steps first, then other policies', then the
    shipped templates no step uses, then the rest by name; English before its translations.

    uses: steps_naming_templates(), ordered as it returns them."""
    rank: dict[str, int] = {}
    for key in [use.template for use in uses] + list(SHIPPED):
        rank.setdefault(key, len(rank))
    by_key: dict[str, list[StepUse]] = {}
    for use in uses:
        by_key.setdefault(use.template, []).append(use)
    newest = TemplateVersion.objects.filter(template=OuterRef("pk")).order_by("-number")
    templates = Template.objects.annotate(
        latest=Subquery(newest.values("number")[:1]),
        letter_length=Subquery(newest.annotate(n=Length("letter_html")).values("n")[:1]),
    )
    rows = [
        TemplateRow(
            template=t,
            latest=t.latest or 0,
            has_letter=bool(t.letter_length),
            uses=tuple(by_key.get(t.key, ())),
        )
        for t in templates
    ]

    def place(row: TemplateRow):
        t = row.template
        unranked = t.key not in rank
        return (
            rank.get(t.key, len(rank)),
            t.name.casefold() if unranked else "",
            t.key,
            t.language != "en",
            t.language,
        )

    return sorted(rows, key=place)


def steps_without_template(uses: Sequence[StepUse], rows: Sequence[TemplateRow]) -> list[StepUse]:
    """The steps whose template key has no English template (what any language falls back to).
    A phone or legal step may name none; a message step always needs one."""
    english = {row.template.key for row in rows if row.template.language == "en"}
    return [
        use for use in uses if (use.template or use.sends_message) and use.template not in english
    ]


def print_queue():
    return (
        PrintItem.objects.filter(printed_at__isnull=True)
        .select_related("document", "document__customer")
        .order_by("queued_at", "id")
    )
