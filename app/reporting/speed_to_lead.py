"""Speed to lead on the dashboard: median and 90th-percentile time from assignment to first touch, and
the share within the service level, per owner and per source (the utm source of the lead's first
submission), for the first touches in a period.

Reads only `first_touches` rows of the period, through the index on `touched_at` (one small row per
assigned lead sales has touched), never the leads or submissions, so a page view costs the touches of its
period whatever the size of the tables; PostgreSQL aggregates them itself and returns a row per group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from app.models import FirstTouch, Owner

UNASSIGNED = "(no owner)"
NO_SOURCE = "(none)"


def percentile(ordered: Sequence[float], share: float) -> float:
    """The `share` (0..1) percentile of sorted values, interpolated linearly between ranks (the median of
    [1, 2, 3, 4] is 2.5); 0 for no values."""
    if not ordered:
        return 0.0
    rank = share * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class TouchTimes:
    """One group's first touches: how many, median and 90th percentile (seconds), how many within the SLA."""

    key: str
    touches: int
    median_seconds: float
    p90_seconds: float
    within_sla: int

    @classmethod
    def of(cls, key: str, rows: list[tuple[int, bool]]) -> TouchTimes:
        """From (seconds, within SLA) pairs."""
        ordered = sorted(seconds for seconds, _ in rows)
        return cls(key, len(rows), percentile(ordered, 0.5), percentile(ordered, 0.9), sum(1 for _, ok in rows if ok))

    @property
    def within_share(self) -> float:
        """Share of touches within the service level, 0..1."""
        return self.within_sla / self.touches if self.touches else 0.0


def duration(seconds: float) -> str:
    """'45 min', '3.5 h', '2.1 d': how long, at a glance."""
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def speed_to_lead(session: Session, start: date, end: date) -> dict[str, Any]:
    """Touch times for the first touches from `start` to `end` (inclusive days, UTC): the total, per owner
    and per source, busiest group first. PostgreSQL computes the percentiles itself (one statement, a row
    per group); elsewhere the period's touches are read and counted here, with the same interpolation."""
    since, until = datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)
    period = (FirstTouch.touched_at >= since, FirstTouch.touched_at < until)
    if session.get_bind().dialect.name == "postgresql":
        total, by_owner_id, by_source = _aggregated(session, period)
    else:
        total, by_owner_id, by_source = _counted(session, period)
    names = dict(session.execute(select(Owner.id, Owner.name)).all()) if total.touches else {}
    owners = [
        replace(t, key=names.get(owner_id, UNASSIGNED) if owner_id is not None else UNASSIGNED)
        for owner_id, t in by_owner_id
    ]
    order = lambda rows: sorted(rows, key=lambda t: (-t.touches, t.key))  # noqa: E731
    return {"total": total, "by_owner": order(owners), "by_source": order(by_source)}


Groups = tuple[TouchTimes, list[tuple[int | None, TouchTimes]], list[TouchTimes]]


def _counted(session: Session, period: tuple[Any, ...]) -> Groups:
    """The period's touches read row by row (SQLite: no ordered-set aggregates)."""
    rows = session.execute(
        select(FirstTouch.owner_id, FirstTouch.source, FirstTouch.seconds, FirstTouch.within_sla).where(*period)
    ).all()
    by_owner: dict[int | None, list[tuple[int, bool]]] = {}
    by_source: dict[str, list[tuple[int, bool]]] = {}
    for owner_id, source, seconds, within in rows:
        by_owner.setdefault(owner_id, []).append((seconds, within))
        by_source.setdefault(source or NO_SOURCE, []).append((seconds, within))
    return (
        TouchTimes.of("all", [(seconds, within) for _, _, seconds, within in rows]),
        [(owner_id, TouchTimes.of("", found)) for owner_id, found in by_owner.items()],
        [TouchTimes.of(source, found) for source, found in by_source.items()],
    )


def _aggregated(session: Session, period: tuple[Any, ...]) -> Groups:
    """One GROUPING SETS statement: per owner, per source and overall, with percentile_cont (the same linear
    interpolation as `percentile`); `grouping()` tells a set's rows apart from a NULL owner."""
    seconds = FirstTouch.seconds
    statement = (
        select(
            func.grouping(FirstTouch.owner_id, FirstTouch.source),
            FirstTouch.owner_id,
            FirstTouch.source,
            func.count(),
            func.percentile_cont(0.5).within_group(seconds),
            func.percentile_cont(0.9).within_group(seconds),
            func.count().filter(FirstTouch.within_sla.is_(True)),
        )
        .where(*period)
        .group_by(func.grouping_sets(tuple_(FirstTouch.owner_id), tuple_(FirstTouch.source), tuple_()))
    )
    total = TouchTimes("all", 0, 0.0, 0.0, 0)
    by_owner: list[tuple[int | None, TouchTimes]] = []
    by_source: list[TouchTimes] = []
    for row in session.execute(statement):
        grouping, owner_id, source, count, median, p90, within = cast(tuple[Any, ...], row)
        times = TouchTimes("", int(count), float(median or 0), float(p90 or 0), int(within or 0))
        if grouping == 3:  # neither column grouped: everything
            total = replace(times, key="all")
        elif grouping == 1:  # owner grouped, source rolled up
            by_owner.append((owner_id, times))
        else:
            by_source.append(replace(times, key=source or NO_SOURCE))
    return total, by_owner, by_source


__all__ = ["TouchTimes", "duration", "percentile", "speed_to_lead"]
