"""Geometry of the report's charts, drawn as inline SVG by templates/answers/_charts.html.

Server-rendered so that they need no JavaScript and no external code (CSP `default-src 'self'`);
every chart also has its data table on the page. Only numbers are computed here; the template
writes the markup (escaped by Jinja) and the words (translated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

WIDTH = 640
ROW = 26  # height of one horizontal bar's row
LABEL_WIDTH = 190  # room for the longest disposition name (不属于本次征求意见范围)
VALUE_WIDTH = 56


@dataclass
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float
    share: float  # of the chart's total, 0..1
    display: str | None = None  # the value as written beside the bar (e.g. "45.0%"), if not
    # the number itself


@dataclass
class Chart:
    id: str
    kind: str  # "bars" (horizontal) or "columns" (a timeline)
    width: int
    height: int
    total: int
    maximum: int
    bars: list[Bar] = field(default_factory=list)
    axis: list[dict] = field(default_factory=list)  # tick labels of a timeline


def bar_chart(id: str, rows: list[tuple[str, int]], *, display=None) -> Chart:
    """Horizontal bars, one per (label, value), scaled to the largest value; `display(value)`
    writes the value beside its bar (a rate as a percentage), else the number."""
    maximum = max((value for _label, value in rows), default=0)
    total = sum(value for _label, value in rows)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    chart = Chart(id=id, kind="bars", width=WIDTH, height=max(ROW * len(rows), ROW) + 4,
                  total=total, maximum=maximum)
    for index, (label, value) in enumerate(rows):
        width = plot * value / maximum if maximum else 0
        if value and width < 2:
            width = 2  # a non-zero count stays visible
        y = index * ROW + 4
        chart.bars.append(Bar(
            label=label, value=value, x=LABEL_WIDTH, y=y, width=round(width, 1),
            height=ROW - 8, text_x=round(LABEL_WIDTH + width + 6, 1), text_y=y + ROW / 2 + 1,
            share=value / total if total else 0.0,
            display=display(value) if display else None,
        ))
    return chart


def daily_counts(days) -> list[tuple[str, int]]:
    """Comments per local day from (ISO date, count) pairs, from the first day to the last,
    days without comments as 0."""
    counts: dict[date, int] = {}
    for day, count in days:
        if day:
            parsed = date.fromisoformat(day)
            counts[parsed] = counts.get(parsed, 0) + count
    if not counts:
        return []
    first, last = min(counts), max(counts)
    span = (last - first).days
    return [((first + timedelta(days=n)).isoformat(), counts.get(first + timedelta(days=n), 0))
            for n in range(span + 1)]


def timeline_chart(id: str, rows: list[tuple[str, int]], *, height: int = 200,
                   tick=lambda label: label[5:]) -> Chart:
    """Vertical columns, one per day (ISO date, count), with a few date ticks under them
    (`tick(label)`: what a tick says; by default the day without its year)."""
    maximum = max((value for _day, value in rows), default=0)
    total = sum(value for _day, value in rows)
    left, bottom, top = 40, 24, 16
    plot_width, plot_height = WIDTH - left - 8, height - bottom - top
    chart = Chart(id=id, kind="columns", width=WIDTH, height=height, total=total,
                  maximum=maximum)
    if not rows:
        return chart
    step = plot_width / len(rows)
    gap = min(2.0, step * 0.2)
    for index, (day, value) in enumerate(rows):
        bar_height = plot_height * value / maximum if maximum else 0
        if value and bar_height < 2:
            bar_height = 2
        x = left + index * step
        chart.bars.append(Bar(
            label=day, value=value, x=round(x + gap / 2, 1), y=round(top + plot_height
                                                                     - bar_height, 1),
            width=round(max(step - gap, 1), 1), height=round(bar_height, 1),
            text_x=round(x + step / 2, 1), text_y=height - 6,
            share=value / total if total else 0.0,
        ))
    ticks = sorted({0, len(rows) - 1, *range(0, len(rows), max(1, len(rows) // 5))})
    ticks = [t for t in ticks if t == len(rows) - 1 or len(rows) - 1 - t >= len(rows) / 10]
    for index in ticks:
        bar = chart.bars[index]
        chart.axis.append({"x": bar.text_x, "y": height - 6, "label": tick(bar.label)})
    chart.axis.append({"x": left - 6, "y": top + 4, "label": str(maximum), "anchor": "end"})
    chart.axis.append({"x": left - 6, "y": top + plot_height, "label": "0", "anchor": "end"})
    return chart
