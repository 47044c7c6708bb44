"""Geometry for small server-rendered SVG charts: no JavaScript, no chart library.

Every shape carries its colour as an SVG attribute as well as its CSS class: the page's
stylesheet (which wins in a browser) may restyle it, and the PDF renderer, which does not
apply the document's CSS inside an SVG, still draws it in colour."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# The same colours as static/css/app.css, for the PDF.
COLOURS = {
    "text": "#1b1f24",
    "grid": "#dde1e6",
    "bar-track": "#eef0f3",
    "bar-current": "#4c8c5a",
    "bar-1": "#c9a227",
    "bar-2": "#d9822b",
    "bar-3": "#c8552b",
    "bar-4": "#a12622",
    "line-1": "#1f5fbf",
    "line-2": "#7a4bc2",
    "line-3": "#3a7d44",
    "line-4": "#d0542d",
    "surface": "#ffffff",
}


@dataclass
class Bar:
    label: str
    value: Decimal
    css_class: str
    y: float = 0
    text_y: float = 0
    length: float = 0


@dataclass
class BarChart:
    """Horizontal bars: a label column, the bar, and the value right-aligned at the end."""

    bars: list[Bar] = field(default_factory=list)
    width: int = 480
    bar_x: int = 64
    max_length: int = 250
    bar_height: int = 22
    gap: int = 10

    @property
    def value_x(self) -> int:
        return self.width

    @property
    def height(self) -> int:
        return len(self.bars) * (self.bar_height + self.gap)


def bar_chart(labels, values, *, css_classes=None) -> BarChart:
    """Bars scaled to the largest value; when every value is zero the bars are empty."""
    values = list(values)
    classes = list(css_classes) if css_classes else [""] * len(values)
    chart = BarChart()
    largest = max(values, default=Decimal(0))
    for index, (label, value, css) in enumerate(zip(labels, values, classes, strict=True)):
        y = index * (chart.bar_height + chart.gap)
        length = float(value / largest) * chart.max_length if largest > 0 else 0.0
        chart.bars.append(
            Bar(
                label=label,
                value=value,
                css_class=css,
                y=y,
                text_y=y + chart.bar_height * 0.72,
                length=round(length, 1),
            )
        )
    return chart


@dataclass
class Series:
    name: str
    css_class: str
    # One polyline per run of known values: a month with no figure breaks the line.
    lines: list[str] = field(default_factory=list)
    dots: list[tuple[float, float]] = field(default_factory=list)
    # The month to date: a hollow point of its own, outside the line (see line_chart).
    partial_dots: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class LineChart:
    """Lines over months: a y axis from zero to a round top, a label under each month."""

    series: list[Series]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    width: int = 560
    height: int = 200
    left: int = 40
    bottom: int = 24
    top: int = 8

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


def _round_top(largest: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above the largest value."""
    if largest <= 0:
        return 1.0
    power = 10 ** (len(str(int(largest))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= largest:
            return step * power
    return 10.0 * power


def line_chart(
    x_labels, series: dict[str, tuple[str, list]], *, ticks: int = 4, partial: int | None = None
) -> LineChart:
    """series: name -> (css class, values with None for no figure), each as long as
    x_labels. Negative values (ADD can dip below zero) are drawn at zero's line.

    partial: the index from which the months are not whole yet (the month to date). Their
    points are drawn hollow and left out of the line: a CEI of a few days against a whole
    month's balance is not a collapse, and a line into it would draw one."""
    chart = LineChart(series=[], x_labels=[], y_ticks=[])
    known = [float(v) for _css, values in series.values() for v in values if v is not None]
    top = _round_top(max(known, default=0.0))
    plot_width = chart.width - chart.left - 20  # room for the last label
    plot_height = chart.plot_bottom - chart.top
    count = max(len(x_labels), 1)
    step = plot_width / max(count - 1, 1)

    def x_at(index: int) -> float:
        return round(chart.left + index * step, 1)

    def y_at(value: float) -> float:
        return round(chart.plot_bottom - max(value, 0.0) / top * plot_height, 1)

    chart.x_labels = [(x_at(i), label) for i, label in enumerate(x_labels)]
    chart.y_ticks = [(y_at(top * i / ticks), f"{top * i / ticks:g}") for i in range(ticks + 1)]
    for name, (css, values) in series.items():
        line = Series(name=name, css_class=css)
        run: list[str] = []
        for index, value in enumerate(values):
            if partial is not None and index >= partial:
                if value is not None:
                    line.partial_dots.append((x_at(index), y_at(float(value))))
                value = None
            if value is None:
                if run:
                    line.lines.append(" ".join(run))
                run = []
                continue
            point = (x_at(index), y_at(float(value)))
            run.append(f"{point[0]},{point[1]}")
            line.dots.append(point)
        if run:
            line.lines.append(" ".join(run))
        chart.series.append(line)
    return chart


def _svg_open(css_class: str, width: int, height: int, font_size: int, label: str) -> str:
    return (
        f'<svg class="{css_class}" viewBox="0 0 {width} {height}" font-size="{font_size}" '
        f'role="img" aria-label="{escape(label)}; the same figures are in the table.">'
    )


def line_chart_svg(chart: LineChart, label: str) -> SafeString:
    """The chart as SVG markup with its legend. Written here rather than in a template: a
    year of four series is hundreds of coordinates, which the template engine renders
    several times slower. Coordinates always use a dot, whatever the locale."""
    text, grid = COLOURS["text"], COLOURS["grid"]
    parts = [_svg_open("chart line-chart", chart.width, chart.height, 12, label)]
    for y, tick in chart.y_ticks:
        parts.append(
            f'<line class="grid" stroke="{grid}" '
            f'x1="{chart.left}" x2="{chart.width}" y1="{y}" y2="{y}"></line>'
            f'<text fill="{text}" x="{chart.left - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(tick)}</text>'
        )
    for x, month in chart.x_labels:
        parts.append(
            f'<text fill="{text}" x="{x}" y="{chart.height - 6}" '
            f'text-anchor="middle">{escape(month)}</text>'
        )
    for series in chart.series:
        colour = COLOURS.get(series.css_class, text)
        parts.append(f'<g class="{escape(series.css_class)}"><title>{escape(series.name)}</title>')
        parts.extend(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{points}">'
            "</polyline>"
            for points in series.lines
        )
        parts.extend(
            f'<circle fill="{colour}" cx="{x}" cy="{y}" r="3"></circle>' for x, y in series.dots
        )
        parts.append("</g>")
    # Outside the series' groups, whose stylesheet rule would fill every circle.
    surface = COLOURS["surface"]
    for series in chart.series:
        colour = COLOURS.get(series.css_class, text)
        parts.extend(
            f'<circle class="partial" fill="{surface}" stroke="{colour}" stroke-width="2" '
            f'cx="{x}" cy="{y}" r="4"><title>{escape(series.name)}, month to date</title>'
            "</circle>"
            for x, y in series.partial_dots
        )
    parts.append('</svg><p class="legend">')
    parts.extend(
        f'<span class="key {escape(s.css_class)}">{escape(s.name)}</span> ' for s in chart.series
    )
    if any(s.partial_dots for s in chart.series):
        parts.append('<span class="partial-key">○ month to date</span>')
    parts.append("</p>")
    return mark_safe("".join(parts))  # every text above is escaped


def bar_chart_svg(chart: BarChart, label: str, value_text) -> SafeString:
    """The bars as SVG markup; value_text(value) writes each bar's amount (in the reader's
    locale). Coordinates always use a dot, whatever the locale."""
    text, track = COLOURS["text"], COLOURS["bar-track"]
    parts = [_svg_open("chart", chart.width, chart.height, 13, label)]
    for bar in chart.bars:
        size = f'y="{bar.y}" height="{chart.bar_height}" rx="3"'
        parts.append(
            f'<text fill="{text}" x="0" y="{bar.text_y}">{escape(bar.label)}</text>'
            f'<rect class="bar-track" fill="{track}" x="{chart.bar_x}" '
            f'width="{chart.max_length}" {size}></rect>'
            f'<rect class="{escape(bar.css_class)}" fill="{COLOURS.get(bar.css_class, text)}" '
            f'x="{chart.bar_x}" '
            f'width="{bar.length}" {size}></rect>'
            f'<text fill="{text}" x="{chart.value_x}" y="{bar.text_y}" '
            f'text-anchor="end">{escape(value_text(bar.value))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped
