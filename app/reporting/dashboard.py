"""Dashboard figures: the funnel and screening rates over a period, per form and per utm source.

Everything is one grouped SQL query per table (no per-row queries), so the page
stays fast with many thousands of submissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from app.models import Form, Lead, Submission, utcnow
from app.statuses import Stage, Verdict

RATE_CATEGORIES = ("spam", "competitor", "student", "invalid")


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


def _columns() -> list[Any]:
    reached_mql = Lead.stage.in_((Stage.MQL, Stage.SQL))
    accepted = Submission.verdict == Verdict.ACCEPTED
    return [
        func.count(Submission.id),
        func.sum(case((accepted, 1), else_=0)),
        func.sum(case((Submission.verdict == Verdict.HELD, 1), else_=0)),
        func.sum(case((Submission.verdict == Verdict.REJECTED, 1), else_=0)),
        func.count(distinct(case((accepted & reached_mql, Submission.lead_id)))),
        func.count(distinct(case((accepted & (Lead.stage == Stage.SQL), Submission.lead_id)))),
        func.count(distinct(case((accepted & (Lead.outcome == "won"), Submission.lead_id)))),
        # A released or approved submission no longer counts as spam, student...: the reviewer said otherwise.
        *[func.sum(case(((Submission.reason_category == c) & ~accepted, 1), else_=0)) for c in RATE_CATEGORIES],
    ]


def _rows(session: Session, start: date, end: date, group: Any | None) -> list[Row]:
    window = (
        Submission.received_at >= datetime.combine(start, time.min),
        Submission.received_at < datetime.combine(end + timedelta(days=1), time.min),
    )
    query = (
        select(*([group] if group is not None else []), *_columns())
        .select_from(Submission)
        .outerjoin(Lead, Lead.id == Submission.lead_id)
        .where(*window)
    )
    if group is not None:
        query = query.group_by(group).order_by(func.count(Submission.id).desc())
    rows = []
    for result_row in session.execute(query).all():
        values: list[Any] = list(result_row)
        key = str(values.pop(0) or "(none)") if group is not None else "All"
        counts = [int(v or 0) for v in values]
        categories = dict(zip(RATE_CATEGORIES, counts[7:], strict=True))
        submissions, accepted, held, rejected, mql, sql, won = counts[:7]
        rows.append(Row(key, submissions, accepted, held, rejected, mql, sql, won, categories))
    return rows


def overview(session: Session, start: date, end: date) -> dict[str, Any]:
    """Totals, per form, per utm source, per day, and the screening queue's size and age."""
    total = _rows(session, start, end, None)[0]
    by_form_id = _rows(session, start, end, Submission.form_id)
    names = dict(session.execute(select(Form.id, Form.name)).all())
    by_form = [
        Row(
            names.get(int(r.key), r.key) if r.key.isdigit() else r.key,
            r.submissions,
            r.accepted,
            r.held,
            r.rejected,
            r.mql,
            r.sql,
            r.won,
            r.categories,
        )
        for r in by_form_id
    ]
    day = func.date(Submission.received_at)
    daily = dict(
        (str(d), n)
        for d, n in session.execute(
            select(day, func.count())
            .where(
                Submission.received_at >= datetime.combine(start, time.min),
                Submission.received_at < datetime.combine(end + timedelta(days=1), time.min),
            )
            .group_by(day)
        ).all()
    )
    days = [(start + timedelta(days=i)) for i in range((end - start).days + 1)]
    queue_size, oldest = session.execute(
        select(func.count(), func.min(Submission.received_at)).where(Submission.verdict == Verdict.HELD)
    ).one()
    return {
        "total": total,
        "by_form": by_form,
        "by_source": _rows(session, start, end, Submission.utm_source),
        "daily": [(d.isoformat(), daily.get(d.isoformat(), 0)) for d in days],
        "queue_size": int(queue_size or 0),
        "queue_oldest": oldest,
    }
