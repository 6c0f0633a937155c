"""Charts drawn as inline SVG on the server: no script, nothing fetched, readable without colour.

Each function returns markup with every label escaped, plus a <title> per bar so
the exact figure shows on hover and is read by screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def hbar(items: Sequence[tuple[str, int]], *, title: str, width: int = 460, bar: int = 22) -> Markup:
    """Horizontal bars (a funnel, a ranking): label, bar, value."""
    label_w, gap = 120, 6
    top = max((v for _, v in items), default=0) or 1
    height = len(items) * (bar + gap) + gap
    parts = [
        f'<svg class="chart hbar" role="img" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar + gap)
        length = round((width - label_w - 70) * value / top)
        parts.append(
            f"<g><title>{escape(label)}: {value}</title>"
            f'<text x="0" y="{y + bar * 0.68:.0f}">{escape(label[:18])}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{max(length, 1)}" height="{bar}" rx="3"></rect>'
            f'<text x="{label_w + length + 6}" y="{y + bar * 0.68:.0f}">{value}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(items: Sequence[tuple[str, int]], *, title: str, width: int = 720, height: int = 180) -> Markup:
    """Vertical columns over time (one per day); first and last dates labelled."""
    bottom, left = 22, 34
    top = max((v for _, v in items), default=0) or 1
    step = (width - left) / max(len(items), 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}"></line>',
        f'<text x="0" y="12">{top}</text><text x="0" y="{height - bottom}">0</text>',
    ]
    for i, (label, value) in enumerate(items):
        h = (height - bottom - 10) * value / top
        x = left + i * step
        parts.append(
            f'<rect class="bar" x="{x + step * 0.1:.1f}" y="{height - bottom - h:.1f}" '
            f'width="{max(step * 0.8, 1):.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
    if items:
        parts.append(f'<text x="{left}" y="{height - 4}">{escape(items[0][0])}</text>')
        parts.append(f'<text x="{width}" y="{height - 4}" text-anchor="end">{escape(items[-1][0])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_bars(
    groups: Sequence[tuple[str, Sequence[tuple[str, float]]]], *, title: str, width: int = 560, bar: int = 12
) -> Markup:
    """Grouped horizontal bars of shares (0..1): one block per group, one labelled bar per series.

    Each bar carries its series name and percentage as text, so the chart reads without colour.
    The full width is the smallest of 5/10/25/50/100 % that fits every share, and says so.
    """
    label_w, value_w, gap, head = 110, 56, 3, 18
    top = max((share for _, series in groups for _, share in series), default=0.0)
    scale = next(step for step in (0.05, 0.1, 0.25, 0.5, 1.0) if top <= step)
    block = head + max((len(series) for _, series in groups), default=0) * (bar + gap) + 8
    height = len(groups) * block + head
    parts = [
        f'<svg class="chart rates" role="img" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text class="scale" x="{width - value_w}" y="12" text-anchor="end">full width = {scale:.0%}</text>',
    ]
    for i, (group, series) in enumerate(groups):
        y0 = head + i * block
        parts.append(f'<text class="group" x="0" y="{y0 + 13}">{escape(group[:40])}</text>')
        for j, (name, share) in enumerate(series):
            y = y0 + head + j * (bar + gap)
            length = round((width - label_w - value_w) * min(share / scale, 1.0))
            pct = f"{share * 100:.1f}%"
            parts.append(
                f"<g><title>{escape(group)} — {escape(name)}: {pct}</title>"
                f'<text x="12" y="{y + bar - 2}">{escape(name[:14])}</text>'
                f'<rect class="bar s{j % 4}" x="{label_w}" y="{y}" width="{max(length, 1)}" '
                f'height="{bar}" rx="2"></rect>'
                f'<text x="{label_w + length + 6}" y="{y + bar - 2}">{pct}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
