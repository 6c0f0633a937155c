"""The dashboard's charts: geometry as plain data (no app), drawn by `admin/_charts.html` (autoescaped)."""

from __future__ import annotations

import pytest
from flask import render_template_string

from app.reporting.charts import columns, hbar, rate_bars

SCRIPT = "<script>alert(1)</script>"


def draw(app, macro: str, chart) -> str:
    with app.app_context():
        return render_template_string(
            '{% import "admin/_charts.html" as draw %}{{ draw[macro](chart) }}', macro=macro, chart=chart
        )


def test_hbar_lengths_are_shares_of_the_largest_and_labels_are_cut():
    chart = hbar([("Submissions", 40), ("Accepted", 10), ("A very long label indeed", 0)], title="Funnel")
    assert (chart.width, chart.height) == (460, 90)
    assert [bar.width for bar in chart.bars] == [270, 68, 1]  # a zero still shows as a sliver
    assert [bar.figure_x for bar in chart.bars] == [396, 194, 126]
    assert [bar.y for bar in chart.bars] == [6, 34, 62] and [bar.baseline for bar in chart.bars] == [21, 49, 77]
    assert [bar.label for bar in chart.bars] == ["Submissions", "Accepted", "A very long label "]
    assert chart.bars[2].title == "A very long label indeed: 0"


def test_columns_scale_to_the_busiest_day_and_label_the_ends():
    chart = columns([("2026-11-01", 2), ("2026-11-02", 4)], title="Per day")
    assert (chart.top, chart.base, chart.first_label, chart.last_label) == (4, 158, "2026-11-01", "2026-11-02")
    assert [round(c.height, 1) for c in chart.columns] == [74.0, 148.0]
    assert [c.title for c in chart.columns] == ["2026-11-01: 2", "2026-11-02: 4"]
    empty = columns([], title="Nothing")
    assert (empty.columns, empty.top, empty.first_label) == ([], 1, "")


@pytest.mark.parametrize(("top", "scale"), [(0.0, "5%"), (0.04, "5%"), (0.2, "25%"), (0.6, "100%")])
def test_rate_bars_pick_the_smallest_scale_that_fits(top, scale):
    chart = rate_bars([("Form", [("spam", top), ("student", 0.0)])], title="Rates")
    assert chart.scale == f"full width = {scale}"
    [group] = chart.groups
    assert [bar.label for bar in group.bars] == ["spam", "student"] and [bar.series for bar in group.bars] == [0, 1]
    assert group.bars[0].title == f"Form — spam: {top * 100:.1f}%"


def test_charts_escape_labels_and_read_without_colour(app):
    funnel = draw(app, "hbar", hbar([(SCRIPT, 3), ("Accepted", 1)], title=f"Funnel {SCRIPT}"))
    daily = draw(app, "columns", columns([(SCRIPT, 2), ("2026-11-02", 1)], title="Per day"))
    rates = draw(app, "rate_bars", rate_bars([(SCRIPT, [("spam", 0.5)])], title="Rates"))
    for svg in (funnel, daily, rates):
        assert "<script" not in svg and "&lt;script&gt;" in svg
        assert svg.startswith('<svg class="chart') and svg.endswith("</svg>") and 'role="img"' in svg
    assert 'aria-label="Funnel &lt;script&gt;alert(1)&lt;/script&gt;"' in funnel
    # Each bar says what it is and its figure in text, not only by colour or length.
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;: 3</title>" in funnel
    assert (
        '<text x="0" y="21">&lt;script&gt;alert(1)&lt;/</text>' in funnel and '<text x="396" y="21">3</text>' in funnel
    )
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; — spam: 50.0%</title>" in rates
    assert ">spam</text>" in rates and ">50.0%</text>" in rates and ">full width = 50%</text>" in rates
