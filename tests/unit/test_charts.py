"""SVG charts: valid XML, one bar per non-zero value, heights proportional, text escaped."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from generator.derive.charts import Chart, Series, chart_svg, nice_ceiling, ticks

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart: Chart) -> ET.Element:
    return ET.fromstring(str(chart_svg(chart)))


def test_nice_ceiling_and_ticks():
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 11, 13, 26, 99, 101)] == [1, 1, 3, 8, 12, 15, 30, 100, 120]
    assert ticks(8) == [0, 2, 4, 6, 8]
    assert ticks(3) == [0, 1, 2, 3]
    assert ticks(15) == [0, 3, 6, 9, 12, 15]
    assert ticks(1) == [0, 1]


def test_stacked_bars_are_proportional():
    chart = Chart("c", "标题", ("a", "b", "c"), (Series("x", "X", (2, 0, 4)), Series("y", "Y", (2, 0, 0))))
    root = parse(chart)
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 3  # zero values draw nothing
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == heights[1] == heights[2] / 2
    assert [b.get("class") for b in bars] == ["bar s-x", "bar s-y", "bar s-x"]
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "标题"


def test_grouped_bars_sit_side_by_side():
    chart = Chart("c", "t", ("a",), (Series("x", "X", (1,)), Series("y", "Y", (1,))), stacked=False)
    x_bar, y_bar = parse(chart).findall(f"{SVG}rect")
    assert float(y_bar.get("x")) > float(x_bar.get("x"))
    assert x_bar.get("y") == y_bar.get("y")


def test_horizontal_chart_clips_long_labels_and_escapes_text():
    chart = Chart("c", "<b>&", ("#一二三四五六七八九十", "#<script>"), (Series("t", "T", (3, 1)),), horizontal=True)
    root = parse(chart)
    labels = [t.text for t in root.findall(f"{SVG}text") if t.get("class") == "axis-label"]
    assert labels == ["#一二三四五六七…", "#<script>"]
    assert root.find(f"{SVG}title").text == "<b>&"
    widths = [float(b.get("width")) for b in root.findall(f"{SVG}rect")]
    assert abs(widths[0] - 3 * widths[1]) < 0.2


def test_an_empty_chart_still_draws_its_axis():
    root = parse(Chart("c", "t", (), (Series("x", "X", ()),)))
    assert root.findall(f"{SVG}rect") == [] and root.findall(f"{SVG}line")
