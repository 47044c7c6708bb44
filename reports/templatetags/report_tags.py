"""The dashboard's largest pieces of markup, written in Python rather than as template
loops: a year of figures for three currencies and their charts are hundreds of cells and
shapes, which the template engine renders several times slower, on every dashboard."""

from django import template
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from invoices.dates import format_day
from invoices.money import format_money
from reports.charts import bar_chart_svg

register = template.Library()

NONE = "–"  # a figure whose denominator is zero


def _figure(value) -> str:
    return NONE if value is None else escape(localize(value))


@register.simple_tag(takes_context=True)
def trend_rows(context, trend: dict) -> SafeString:
    """{% trend_rows trend %}: the rows of a currency's monthly figures table."""
    rows = []
    for m in trend["months"]:
        amounts = (m.credit_sales, m.ar_close, m.ar_current)
        figures = (m.dso, m.countback_dso, m.best_dso, m.add, m.cei)
        cells = [f'<td class="num">{escape(format_money(a, m.currency))}</td>' for a in amounts]
        cells += [f'<td class="num">{_figure(f)}</td>' for f in figures]
        # The month to date is marked: its figures are not those of a whole month.
        to_date = ' <span class="muted">(month to date)</span>' if m.partial else ""
        rows.append(
            f'<tr><th scope="row">{escape(format_day(m.month_end))}{to_date}</th>'
            f"{''.join(cells)}</tr>"
        )
    return mark_safe("".join(rows))  # every value above is escaped


@register.simple_tag(takes_context=True)
def aging_bars(context, chart: dict) -> SafeString:
    """{% aging_bars chart %}: a currency's aging as a bar chart."""
    currency = chart["row"].currency
    return bar_chart_svg(
        chart["geometry"],
        f"Bar chart of {currency} open balance by age",
        lambda value: format_money(value, currency),
    )
