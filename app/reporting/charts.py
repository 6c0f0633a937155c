"""The geometry of the dashboard's charts: where each bar goes and what it says, as plain data.

`app/templates/admin/_charts.html` draws these as inline SVG (autoescaped): no script, nothing
fetched, and readable without colour — every chart has a title, every bar a text label and its
figure, plus a <title> so the exact figure shows on hover and is read by screen readers.
Nothing here knows about markup or escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One horizontal bar with its label on the left and its figure on the right."""

    title: str  # the full text for hover and screen readers, e.g. "Accepted: 25"
    label: str  # the label drawn beside the bar (shortened)
    figure: str  # the value drawn after the bar
    x: int  # where the bar starts
    y: int  # the bar's top
    width: int  # the drawn length (at least 1, so a zero still shows)
    height: int
    label_x: int
    figure_x: int
    baseline: int  # y of both texts
    series: int = 0  # in a grouped chart: which series (styled .s0 … .s3)


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars (a funnel, a ranking)."""

    title: str
    width: int
    height: int
    bars: list[Bar]


@dataclass(frozen=True)
class Column:
    """One vertical column; the figure is only in its title."""

    title: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class ColumnChart:
    """Vertical columns over time with a base line, the top figure and the first and last labels."""

    title: str
    width: int
    height: int
    left: int  # where the base line and the first label start
    base: int  # y of the base line
    top: int  # the figure a full-height column stands for
    columns: list[Column]
    first_label: str
    last_label: str


@dataclass(frozen=True)
class Group:
    """A heading (drawn at `label_y`) over one bar per series."""

    label: str
    label_y: int
    bars: list[Bar]


@dataclass(frozen=True)
class RateChart:
    """Grouped bars of shares; `scale` says what share the full width stands for."""

    title: str
    width: int
    height: int
    scale: str  # e.g. "full width = 25%"
    scale_x: int
    groups: list[Group]


def hbar(items: Sequence[tuple[str, int]], *, title: str, width: int = 460, bar: int = 22) -> BarChart:
    """Horizontal bars (a funnel, a ranking): label, bar, value."""
    label_w, gap = 120, 6
    top = max((v for _, v in items), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar + gap)
        length = round((width - label_w - 70) * value / top)
        bars.append(
            Bar(
                title=f"{label}: {value}",
                label=label[:18],
                figure=str(value),
                x=label_w,
                y=y,
                width=max(length, 1),
                height=bar,
                label_x=0,
                figure_x=label_w + length + 6,
                baseline=round(y + bar * 0.68),
            )
        )
    return BarChart(title=title, width=width, height=len(items) * (bar + gap) + gap, bars=bars)


def columns(items: Sequence[tuple[str, int]], *, title: str, width: int = 720, height: int = 180) -> ColumnChart:
    """Vertical columns over time (one per day); first and last dates labelled."""
    bottom, left = 22, 34
    top = max((v for _, v in items), default=0) or 1
    step = (width - left) / max(len(items), 1)
    cols = []
    for i, (label, value) in enumerate(items):
        h = (height - bottom - 10) * value / top
        x = left + i * step
        cols.append(
            Column(
                title=f"{label}: {value}",
                x=x + step * 0.1,
                y=height - bottom - h,
                width=max(step * 0.8, 1),
                height=h,
            )
        )
    return ColumnChart(
        title=title,
        width=width,
        height=height,
        left=left,
        base=height - bottom,
        top=top,
        columns=cols,
        first_label=items[0][0] if items else "",
        last_label=items[-1][0] if items else "",
    )


def rate_bars(
    groups: Sequence[tuple[str, Sequence[tuple[str, float]]]], *, title: str, width: int = 560, bar: int = 12
) -> RateChart:
    """Grouped horizontal bars of shares (0..1): one block per group, one labelled bar per series.

    Each bar carries its series name and percentage as text, so the chart reads without colour.
    The full width is the smallest of 5/10/25/50/100 % that fits every share, and says so.
    """
    label_w, value_w, gap, head = 110, 56, 3, 18
    top = max((share for _, series in groups for _, share in series), default=0.0)
    scale = next(step for step in (0.05, 0.1, 0.25, 0.5, 1.0) if top <= step)
    block = head + max((len(series) for _, series in groups), default=0) * (bar + gap) + 8
    blocks = []
    for i, (group, series) in enumerate(groups):
        y0 = head + i * block
        bars = []
        for j, (name, share) in enumerate(series):
            y = y0 + head + j * (bar + gap)
            length = round((width - label_w - value_w) * min(share / scale, 1.0))
            pct = f"{share * 100:.1f}%"
            bars.append(
                Bar(
                    title=f"{group} — {name}: {pct}",
                    label=name[:14],
                    figure=pct,
                    x=label_w,
                    y=y,
                    width=max(length, 1),
                    height=bar,
                    label_x=12,
                    figure_x=label_w + length + 6,
                    baseline=y + bar - 2,
                    series=j % 4,
                )
            )
        blocks.append(Group(label=group[:40], label_y=y0 + 13, bars=bars))
    return RateChart(
        title=title,
        width=width,
        height=len(groups) * block + head,
        scale=f"full width = {scale:.0%}",
        scale_x=width - value_w,
        groups=blocks,
    )
