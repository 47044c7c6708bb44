"""The dashboard's largest pieces of markup, written in Python rather than as template
loops: a year of figures for three currencies and their charts are hundreds of cells and
shapes, which the template engine renders several times slower, on every dashboard."""

from django import template
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from invoices.money import format_money
from invoices.templatetags.dates import _day
from invoices.templatetags.money import user_locale
from reports.charts import bar_chart_svg

register = template.Library()

NONE = "–"  # a figure whose denominator is zero


def _figure(value) -> str:
    return NONE if value is None else escape(localize(value))


@register.simple_tag(takes_context=True)
def trend_rows(context, trend: dict) -> SafeString:
    """{% trend_rows trend %}: the rows of a currency's monthly figures table."""
    locale = user_locale(context)
    rows = []
    for m in trend["months"]:
        amounts = (m.credit_sales, m.ar_close, m.ar_current)
        figures = (m.dso, m.countback_dso, m.best_dso, m.add, m.cei)
        cells = [
            f'<td class="num">{escape(format_money(a, m.currency, locale))}</td>' for a in amounts
        ]
        cells += [f'<td class="num">{_figure(f)}</td>' for f in figures]
        rows.append(
            f'<tr><th scope="row">{escape(_day(m.month_end, locale))}</th>{"".join(cells)}</tr>'
        )
    return mark_safe("".join(rows))  # every value above is escaped


@register.simple_tag(takes_context=True)
def aging_bars(context, chart: dict) -> SafeString:
    """{% aging_bars chart %}: a currency's aging as a bar chart, amounts in the reader's
    locale."""
    currency, locale = chart["row"].currency, user_locale(context)
    return bar_chart_svg(
        chart["geometry"],
        f"Bar chart of {currency} open balance by age",
        lambda value: format_money(value, currency, locale),
    )
