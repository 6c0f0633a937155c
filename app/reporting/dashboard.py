"""Dashboard figures: the funnel and screening rates over a period, per form and per utm source.

Read from the daily rollups (app/reporting/rollups.py) plus the newest submissions counted live, so the
page reads a few rows per day of the period however many submissions there are. The funnel counts each
new lead once, on its first accepted submission (its first touch): the leads the period brought, by how
far they have got since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Form, Submission, utcnow
from app.reporting import rollups
from app.statuses import Stage, Verdict

RATE_CATEGORIES = rollups.CATEGORIES


@dataclass(frozen=True)
class Row:
    """Funnel and rates for one group (a form, a utm source, or everything)."""

    key: str
    submissions: int
    accepted: int
    held: int
    rejected: int
    mql: int
    sql: int
    won: int
    categories: dict[str, int]

    def rate(self, category: str) -> float:
        """Share of submissions screened into this category, 0..1."""
        return self.categories.get(category, 0) / self.submissions if self.submissions else 0.0

    @property
    def funnel(self) -> list[tuple[str, int]]:
        """Submissions → accepted → MQL → SQL → won (leads counted once each)."""
        return [
            ("Submissions", self.submissions),
            ("Accepted", self.accepted),
            (Stage.MQL, self.mql),
            (Stage.SQL, self.sql),
            ("Won", self.won),
        ]


def period(since: str | None, until: str | None, *, default_days: int = 30) -> tuple[date, date]:
    """The chosen dates (inclusive), defaulting to the last `default_days` days; bad input falls back."""
    today = utcnow().date()
    try:
        end = date.fromisoformat(until) if until else today
    except ValueError:
        end = today
    try:
        start = date.fromisoformat(since) if since else end - timedelta(days=default_days - 1)
    except ValueError:
        start = end - timedelta(days=default_days - 1)
    return (start, end) if start <= end else (end, start)


def _row(key: str, counts: rollups.Counts) -> Row:
    return Row(
        key,
        counts.submissions,
        counts.accepted,
        counts.held,
        counts.rejected,
        counts.mql,
        counts.sql,
        counts.won,
        {c: counts.category(c) for c in RATE_CATEGORIES},
    )


def _ranked(groups: dict[str, rollups.Counts]) -> list[Row]:
    """Busiest first (then by name, so equal ones keep one order)."""
    return [_row(k, v) for k, v in sorted(groups.items(), key=lambda item: (-item[1].submissions, item[0]))]


def overview(session: Session, start: date, end: date) -> dict[str, Any]:
    """Totals, per form, per utm source, per day, and the screening queue's size and age."""
    since, until = datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)
    groups = rollups.counts(session, by=("form_id", "utm_source"), start=since, end=until)
    per_day = rollups.counts(session, by=("day",), start=since, end=until)
    names = dict(session.execute(select(Form.id, Form.name)).all())
    total, by_form, by_source = rollups.Counts(), dict[str, rollups.Counts](), dict[str, rollups.Counts]()
    for (form_id, source), counts in groups.items():
        total += counts
        form = str(names.get(form_id, form_id))
        by_form[form] = by_form[form] + counts if form in by_form else counts
        source_key = source or "(none)"
        by_source[source_key] = by_source[source_key] + counts if source_key in by_source else counts
    daily = {day.isoformat(): value.submissions for (day,), value in per_day.items()}
    days = [(start + timedelta(days=i)) for i in range((end - start).days + 1)]
    # The queue is small whatever the table's size: held submissions, by (verdict, received_at).
    queue_size, oldest = session.execute(
        select(func.count(), func.min(Submission.received_at)).where(Submission.verdict == Verdict.HELD)
    ).one()
    return {
        "total": _row("All", total),
        "by_form": _ranked(by_form),
        "by_source": _ranked(by_source),
        "daily": [(d.isoformat(), daily.get(d.isoformat(), 0)) for d in days],
        "queue_size": int(queue_size or 0),
        "queue_oldest": oldest,
    }
