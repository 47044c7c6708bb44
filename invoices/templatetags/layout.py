"""Helpers for templates/base.html."""

from django import template
from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def title_text(context):
    """The page's {% block title %}, rendered again for its h1: Django allows a block to be
    defined only once, and pages should not have to repeat their title."""
    block_context = context.render_context.get(BLOCK_CONTEXT_KEY)
    block = block_context.get_block("title") if block_context else None
    if block is None:
        return ""
    # Rendered with autoescaping already; stripping must not make Django escape it twice.
    return mark_safe(block.nodelist.render(context).strip())
