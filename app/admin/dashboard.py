"""The dashboard: funnel, screening rates per form and per utm source, the queue's size and age."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from app.admin.blueprint import bp
from app.db import get_session
from app.models import utcnow
from app.reporting.charts import RateChart, columns, hbar, rate_bars
from app.reporting.dashboard import RATE_CATEGORIES, overview, period
from app.reporting.speed_to_lead import duration, speed_to_lead

CHART_GROUPS = 8  # the busiest forms / sources get a chart; the tables below list them all


def _rates(rows: list[Any], title: str) -> RateChart:
    """Spam / competitor / student / invalid shares of the busiest groups, as one grouped bar chart."""
    groups = [(r.key, [(c, r.rate(c)) for c in RATE_CATEGORIES]) for r in rows[:CHART_GROUPS]]
    return rate_bars(groups, title=title)


@bp.get("/dashboard")
def dashboard() -> str:
    """Figures for the chosen period (default: the last 30 days)."""
    start, end = period(request.args.get("since"), request.args.get("until"))
    data = overview(get_session(), start, end)
    total = data["total"]
    charts = {
        "funnel": hbar(total.funnel, title=f"Funnel {start} to {end}"),
        "daily": columns(data["daily"], title=f"Submissions per day {start} to {end}"),
        "sources": hbar([(r.key, r.submissions) for r in data["by_source"][:8]], title="Submissions by utm source"),
        "rates_form": _rates(data["by_form"], f"Screening rates per form {start} to {end}"),
        "rates_source": _rates(data["by_source"], f"Screening rates per utm source {start} to {end}"),
    }
    age = utcnow() - data["queue_oldest"] if data["queue_oldest"] else None
    return render_template(
        "admin/dashboard.html",
        start=start,
        end=end,
        data=data,
        total=total,
        charts=charts,
        categories=RATE_CATEGORIES,
        queue_age=age,
        speed=speed_to_lead(get_session(), start, end),
        duration=duration,
    )
