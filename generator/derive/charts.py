"""Numbers → inline SVG bar charts, drawn at build time.

No chart library reaches the browser. Colours come from CSS classes and
`currentColor`, so a chart follows the theme's light and dark palettes; the
viewBox is narrow enough that its text stays readable on a 390 px phone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 360
HEIGHT = 200
FONT = 13
PAD_TOP, PAD_RIGHT, PAD_BOTTOM = 14, 8, 26
BAR_ROW = 22  # height of one row in a horizontal chart
LABEL_UNITS = 8  # CJK characters (or about twice as many Latin) kept in a horizontal bar label


@dataclass(frozen=True)
class Series:
    key: str  # CSS class suffix: "s-<key>" colours it
    label: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    id: str  # unique on the page; the figure's anchor
    title: str
    labels: tuple[str, ...]  # one per category, as shown in the table
    series: tuple[Series, ...]
    axis_labels: tuple[str, ...] = ()  # short labels under the bars ("" = none); default: labels
    stacked: bool = True
    horizontal: bool = False
    note: str = ""  # a sentence under the chart

    @property
    def totals(self) -> tuple[float, ...]:
        return tuple(sum(s.values[i] for s in self.series) for i in range(len(self.labels)))

    @property
    def rows(self) -> list[tuple[str, tuple[float, ...]]]:
        """(label, value per series) for the accessible table."""
        return [(label, tuple(s.values[i] for s in self.series)) for i, label in enumerate(self.labels)]


def nice_ceiling(value: float) -> float:
    """The smallest whole "round" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at or above value."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        top = step * exponent
        if top >= value and float(top).is_integer():
            return top
    return 10 * exponent


def ticks(top: float) -> list[float]:
    """Evenly spaced whole-number gridlines from 0 to top, four or five when possible."""
    for count in (4, 5, 3, 6, 2, 1):
        step = top / count
        if step == int(step):
            return [step * i for i in range(count + 1)]
    return [0, top]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _units(label: str) -> float:
    """Width in CJK characters: a Latin letter or digit is about half of one."""
    return sum(1 if ord(char) > 0x2e7f else 0.55 for char in label)


def _clip(label: str) -> str:
    units = 0.0
    for index, char in enumerate(label):
        units += 1 if ord(char) > 0x2e7f else 0.55
        if units > LABEL_UNITS:
            return label[:index] + "…"
    return label


def chart_svg(chart: Chart) -> Markup:
    return horizontal_svg(chart) if chart.horizontal else vertical_svg(chart)


def vertical_svg(chart: Chart) -> Markup:
    """Columns per category: stacked, or side by side when not stacked."""
    count = len(chart.labels)
    peak = max(chart.totals if chart.stacked else [v for s in chart.series for v in s.values], default=0)
    top = nice_ceiling(peak)
    grid = ticks(top)
    left = 10 + 8 * len(_number(top))
    plot_w = WIDTH - left - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(count, 1)
    gap = min(slot * 0.22, 10)

    def y(value: float) -> float:
        return PAD_TOP + plot_h * (1 - value / top)

    parts = [_open(chart, WIDTH, HEIGHT)]
    for tick in grid:
        parts.append(f'<line class="grid" x1="{left}" x2="{WIDTH - PAD_RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="tick" x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{_number(tick)}</text>')
    axis = chart.axis_labels or chart.labels
    groups = len(chart.series) if not chart.stacked else 1
    for i, label in enumerate(chart.labels):
        x0 = left + slot * i + gap / 2
        width = (slot - gap) / groups
        base = 0.0
        for n, series in enumerate(chart.series):
            value = series.values[i]
            if chart.stacked:
                y_top, y_bottom = y(base + value), y(base)
                x = x0
                base += value
            else:
                y_top, y_bottom = y(value), y(0)
                x = x0 + n * width
            if value > 0:
                title = escape(f"{label} · {series.label}: {_number(value)}")
                parts.append(f'<rect class="bar s-{series.key}" x="{x:.1f}" y="{y_top:.1f}" width="{max(width, 1):.1f}" '
                             f'height="{max(y_bottom - y_top, 0.5):.1f}"><title>{title}</title></rect>')
        if axis[i]:
            parts.append(f'<text class="axis-label" x="{left + slot * (i + 0.5):.1f}" y="{HEIGHT - 8}" '
                         f'text-anchor="middle">{escape(axis[i])}</text>')
    parts.append(f'<line class="axis" x1="{left}" x2="{WIDTH - PAD_RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_svg(chart: Chart) -> Markup:
    """One bar per category, its label on the left and its value at the end."""
    count = len(chart.labels)
    height = PAD_TOP + BAR_ROW * count + 4
    left = 12 + FONT * max((_units(_clip(label)) for label in chart.labels), default=1)
    peak = max(chart.totals, default=0) or 1
    plot_w = WIDTH - left - PAD_RIGHT - 34
    parts = [_open(chart, WIDTH, height)]
    for i, label in enumerate(chart.labels):
        y0 = PAD_TOP + BAR_ROW * i
        x = float(left)
        for series in chart.series:
            width = plot_w * series.values[i] / peak
            if series.values[i] > 0:
                title = escape(f"{label} · {series.label}: {_number(series.values[i])}")
                parts.append(f'<rect class="bar s-{series.key}" x="{x:.1f}" y="{y0 + 3}" width="{max(width, 1):.1f}" '
                             f'height="{BAR_ROW - 8}" rx="2"><title>{title}</title></rect>')
            x += width
        parts.append(f'<text class="axis-label" x="{left - 6}" y="{y0 + BAR_ROW / 2 + 3:.1f}" text-anchor="end">{escape(_clip(label))}</text>')
        parts.append(f'<text class="value" x="{x + 5:.1f}" y="{y0 + BAR_ROW / 2 + 3:.1f}">{_number(chart.totals[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(chart: Chart, width: int, height: int) -> str:
    return (f'<svg class="chart-svg" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart.id}-title" '
            f'font-size="{FONT}" xmlns="http://www.w3.org/2000/svg"><title id="{chart.id}-title">{escape(chart.title)}</title>')
