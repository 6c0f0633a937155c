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
    parts = [f'<svg class="chart hbar" role="img" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar + gap)
        length = round((width - label_w - 70) * value / top)
        parts.append(
            f'<g><title>{escape(label)}: {value}</title>'
            f'<text x="0" y="{y + bar * 0.68:.0f}">{escape(label[:18])}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{max(length, 1)}" height="{bar}" rx="3"></rect>'
            f'<text x="{label_w + length + 6}" y="{y + bar * 0.68:.0f}">{value}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(items: Sequence[tuple[str, int]], *, title: str, width: int = 720, height: int = 180) -> Markup:
    """Vertical columns over time (one per day); first and last dates labelled."""
    bottom, left = 22, 34
    top = max((v for _, v in items), default=0) or 1
    step = (width - left) / max(len(items), 1)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}"></line>',
             f'<text x="0" y="12">{top}</text><text x="0" y="{height - bottom}">0</text>']
    for i, (label, value) in enumerate(items):
        h = (height - bottom - 10) * value / top
        x = left + i * step
        parts.append(f'<rect class="bar" x="{x + step * 0.1:.1f}" y="{height - bottom - h:.1f}" '
                     f'width="{max(step * 0.8, 1):.1f}" height="{h:.1f}"><title>{escape(label)}: {value}</title></rect>')
    if items:
        parts.append(f'<text x="{left}" y="{height - 4}">{escape(items[0][0])}</text>')
        parts.append(f'<text x="{width}" y="{height - 4}" text-anchor="end">{escape(items[-1][0])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
