"""The loop reported: per form and per utm source, how far the leads a period brought got, what sales said
of them, and how fast sales touched the SQLs handed off in it. The point is that marketing learns which
forms and sources send leads sales rejects, and why.

The funnel comes from the rollups (app/reporting/rollups.py): submissions → accepted → new leads, and of
those (each counted once, on its first accepted submission) the ones that ever reached MQL, ever reached
SQL, that sales accepted (accepted, a meeting or a win), and won; sales' rejections per reason. Reading it
costs a few rows per day of the period whatever the table sizes.

Time to first touch is measured from each lead's first hand-off (its first change to SQL) made in the
period to the first contact sales reported, grouped by the form and source of the submission that made it
an SQL. Only the hand-offs are read (an index on stage changes by stage and time), a few per cent of the
submissions.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from app.leads.classification import LABELS
from app.models import Form, Lead, StageChange, Submission
from app.reporting import rollups
from app.statuses import Stage

NO_SOURCE = "(none)"
# Steps of the funnel: (label, measure, the measure its rate is taken of).
STEPS = (
    ("Submissions", "submissions", ""),
    ("Accepted", "accepted", "submissions"),
    ("Leads", "leads", "accepted"),
    ("MQL", "reached_mql", "leads"),
    ("SQL", "reached_sql", "reached_mql"),
    ("Accepted by sales (SAL)", "sales_accepted", "reached_sql"),
    ("Won", "sales_won", "sales_accepted"),
)
REASONS = tuple((str(reason), LABELS[reason].removeprefix("Rejected: ").lower()) for reason in rollups.REASONS)


@dataclass(frozen=True)
class Group:
    """One form or source: its funnel, sales' rejections and the first-touch times of its hand-offs."""

    key: str
    counts: rollups.Counts
    touches: tuple[int, ...] = ()  # seconds from hand-off to first touch, of the touched hand-offs
    untouched: int = 0  # hand-offs nobody has reported contact for yet

    def steps(self) -> list[tuple[str, int, float | None]]:
        """(label, count, share of the step before it or None for the first)."""
        rows = []
        for label, measure, of in STEPS:
            value = getattr(self.counts, measure)
            base = getattr(self.counts, of) if of else 0
            rows.append((label, value, (value / base if base else 0.0) if of else None))
        return rows

    def reasons(self) -> list[tuple[str, int]]:
        """Sales' rejections of these leads by reason (a lead rejected twice for one reason counts once)."""
        return [(label, getattr(self.counts, f"rejected_{key}")) for key, label in REASONS]

    @property
    def rejection_rate(self) -> float:
        """Share of the leads handed to sales that sales rejected (any reason)."""
        return self.counts.sales_rejected / self.counts.reached_sql if self.counts.reached_sql else 0.0

    @property
    def median_touch(self) -> float | None:
        """Median seconds from hand-off to first touch, or None when no hand-off was touched."""
        return statistics.median(self.touches) if self.touches else None


@dataclass
class Report:
    """The loop for a period, by form and by source, busiest first."""

    start: date
    end: date
    total: Group
    by_form: list[Group] = field(default_factory=list)
    by_source: list[Group] = field(default_factory=list)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's first and (exclusive) last moment, UTC midnights."""
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


def hand_offs(session: Session, since: datetime, until: datetime) -> Iterator[tuple[int, str, int | None]]:
    """(form id, utm source, seconds to first touch or None) for each lead's first hand-off to sales made
    in [since, until). A hand-off touched before it happened (a lead qualifying again after sales
    talked to it) has no time of its own and is left out."""
    earlier = aliased(StageChange)
    rows: Any = session.execute(
        select(Submission.form_id, Submission.utm_source, StageChange.at, Lead.first_touch_at)
        .select_from(StageChange)
        .join(Submission, Submission.id == StageChange.submission_id)
        .join(Lead, Lead.id == StageChange.lead_id)
        .where(
            StageChange.to_stage == Stage.SQL,
            StageChange.at >= since,
            StageChange.at < until,
            ~exists().where(
                earlier.lead_id == StageChange.lead_id, earlier.to_stage == Stage.SQL, earlier.id < StageChange.id
            ),
        )
    )
    for form_id, source, at, touched in rows:
        if touched is None:
            yield form_id, source or "", None
        elif touched >= at:
            yield form_id, source or "", int((touched - at).total_seconds())


def _grouped(
    counts: dict[tuple[Any, ...], rollups.Counts],
    touches: list[tuple[int, str, int | None]],
    key: Callable[[int, str], str],
) -> list[Group]:
    """Groups by `key(form id, source)`, busiest first (then by name)."""
    found: dict[str, rollups.Counts] = {}
    for (form_id, source), value in counts.items():
        k = key(form_id, source)
        found[k] = found[k] + value if k in found else value
    seconds: dict[str, list[int]] = {}
    waiting: dict[str, int] = {}
    for form_id, source, touch in touches:
        k = key(form_id, source)
        found.setdefault(k, rollups.Counts())
        if touch is None:
            waiting[k] = waiting.get(k, 0) + 1
        else:
            seconds.setdefault(k, []).append(touch)
    ranked = sorted(found.items(), key=lambda item: (-item[1].submissions, item[0]))
    return [Group(k, v, tuple(sorted(seconds.get(k, []))), waiting.get(k, 0)) for k, v in ranked]


def report(session: Session, start: date, end: date) -> Report:
    """The loop for the days start..end (inclusive, UTC)."""
    since, until = bounds(start, end)
    counts = rollups.counts(session, by=("form_id", "utm_source"), start=since, end=until)
    touches = list(hand_offs(session, since, until))
    names = dict(session.execute(select(Form.id, Form.name)).all())
    total = _grouped(counts, touches, lambda _form, _source: "All")
    return Report(
        start=start,
        end=end,
        total=total[0] if total else Group("All", rollups.Counts()),
        by_form=_grouped(counts, touches, lambda form_id, _source: str(names.get(form_id, form_id))),
        by_source=_grouped(counts, touches, lambda _form, source: source or NO_SOURCE),
    )


def duration(seconds: float | None) -> str:
    """A time to first touch as people say it: 45 s, 12 min, 3.5 h, 2.1 d; an em dash for none."""
    if seconds is None:
        return "\u2014"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


CSV_HEADER = [
    "group",
    "name",
    *(label for label, _, _ in STEPS),
    "sales rejected",
    *(f"rejected: {label}" for _, label in REASONS),
    "median seconds to first touch",
    "hand-offs touched",
    "hand-offs not touched",
]


def csv_rows(data: Report) -> Iterable[list[Any]]:
    """The report as rows under CSV_HEADER: the total, then each form, then each source."""
    for kind, groups in (("total", [data.total]), ("form", data.by_form), ("source", data.by_source)):
        for g in groups:
            median = g.median_touch
            yield [
                kind,
                g.key,
                *(count for _, count, _ in g.steps()),
                g.counts.sales_rejected,
                *(count for _, count in g.reasons()),
                "" if median is None else round(median),
                len(g.touches),
                g.untouched,
            ]


__all__ = ["CSV_HEADER", "Group", "Report", "csv_rows", "duration", "hand_offs", "report"]
