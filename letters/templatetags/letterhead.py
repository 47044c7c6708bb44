"""The letter settings for the page frames (letter.html, document_base.html): the settings
the renderer passed as letter_settings, else the saved ones."""

from django import template

from letters.models import LetterSettings

register = template.Library()


@register.simple_tag(takes_context=True)
def letter_settings(context) -> LetterSettings:
    return context.get("letter_settings") or LetterSettings.current()


@register.filter
def one_line(value: str) -> str:
    """Rows of an address on one line, for a page footer."""
    return ", ".join(row.strip() for row in str(value).splitlines() if row.strip())
