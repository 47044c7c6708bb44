"""Geometry for small server-rendered SVG bar charts: no JavaScript, no chart library."""

from dataclasses import dataclass, field
from decimal import Decimal


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
