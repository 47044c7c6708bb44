from decimal import Decimal

from reports.charts import COLOURS, bar_chart, line_chart, line_chart_svg


def test_bars_are_scaled_to_the_largest_value():
    chart = bar_chart(["a", "b"], [Decimal("50"), Decimal("200")])

    assert [bar.length for bar in chart.bars] == [chart.max_length / 4, chart.max_length]


def test_all_zero_values_draw_empty_bars():
    chart = bar_chart(["a", "b"], [Decimal("0"), Decimal("0")])

    assert [bar.length for bar in chart.bars] == [0, 0]


def test_a_line_rises_with_its_values_up_to_a_round_top():
    chart = line_chart(["Jan", "Feb", "Mar"], {"DSO": ("line-1", [10, 20, 37])})

    [series] = chart.series
    heights = [y for _x, y in series.dots]
    assert heights[0] > heights[1] > heights[2]  # SVG y grows downwards
    assert chart.y_ticks[-1][1] == "50"  # 37 rounds up to 50


def test_a_month_without_a_figure_breaks_the_line():
    chart = line_chart(["Jan", "Feb", "Mar", "Apr"], {"CEI": ("line-1", [80, None, 90, 95])})

    [series] = chart.series
    assert len(series.lines) == 2
    assert len(series.dots) == 3


def test_every_month_gets_its_label_in_order_left_to_right():
    chart = line_chart(["Jan", "Feb", "Mar"], {"DSO": ("line-1", [1, 2, 3])})

    xs = [x for x, _label in chart.x_labels]
    assert [label for _x, label in chart.x_labels] == ["Jan", "Feb", "Mar"]
    assert xs == sorted(xs)


def test_a_line_chart_draws_as_svg_with_its_legend_and_escaped_text():
    chart = line_chart(["Jan", "Feb"], {"<DSO>": ("line-1", [10, 20])})

    svg = line_chart_svg(chart, 'Days "sales"')

    assert svg.count("<circle") == 2 and svg.count("<polyline") == 1
    assert 'aria-label="Days &quot;sales&quot;;' in svg
    assert '<span class="key line-1">&lt;DSO&gt;</span>' in svg
    assert "<DSO>" not in svg


def test_line_colours_are_on_the_shapes_for_the_pdf_renderer():
    chart = line_chart(["Jan", "Feb"], {"DSO": ("line-1", [10, 20]), "ADD": ("line-4", [1, 2])})

    svg = line_chart_svg(chart, "DSO")

    assert f'<polyline fill="none" stroke="{COLOURS["line-1"]}"' in svg
    assert f'<circle fill="{COLOURS["line-4"]}"' in svg


def test_the_month_to_date_is_a_point_apart_from_the_line():
    chart = line_chart(["Jan", "Feb", "Mar"], {"CEI": ("line-1", [80, 85, 4])}, partial=2)

    [series] = chart.series
    assert series.lines == [series.lines[0]] and series.lines[0].count(",") == 2  # Jan, Feb
    assert len(series.dots) == 2
    assert len(series.partial_dots) == 1


def test_the_month_to_date_is_drawn_hollow_and_named_in_the_legend():
    chart = line_chart(["Jan", "Feb"], {"CEI": ("line-1", [80, 4])}, partial=1)

    svg = line_chart_svg(chart, "CEI")

    hollow = f'<circle class="partial" fill="{COLOURS["surface"]}" stroke="{COLOURS["line-1"]}"'
    assert hollow in svg
    assert "○ month to date" in svg


def test_without_a_month_to_date_every_point_is_on_the_line():
    chart = line_chart(["Jan", "Feb"], {"CEI": ("line-1", [80, 85])})

    svg = line_chart_svg(chart, "CEI")

    assert 'class="partial"' not in svg and "month to date" not in svg
