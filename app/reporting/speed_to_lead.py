"""Speed to lead on the dashboard: median and 90th-percentile time from assignment to first touch, and
the share within the service level, per owner and per source (the utm source of the lead's first
submission), for the first touches in a period.

Reads only `first_touches` rows of the period, through the index on `touched_at` (one small row per
assigned lead sales has touched), never the leads or submissions, so a page view costs the touches of its
period whatever the size of the tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
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
    and per source, busiest group first."""
    since, until = datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)
    rows = session.execute(
        select(FirstTouch.owner_id, FirstTouch.source, FirstTouch.seconds, FirstTouch.within_sla).where(
            FirstTouch.touched_at >= since, FirstTouch.touched_at < until
        )
    ).all()
    names = dict(session.execute(select(Owner.id, Owner.name)).all()) if rows else {}
    by_owner: dict[str, list[tuple[int, bool]]] = {}
    by_source: dict[str, list[tuple[int, bool]]] = {}
    for owner_id, source, seconds, within in rows:
        owner = names.get(owner_id, UNASSIGNED) if owner_id is not None else UNASSIGNED
        by_owner.setdefault(owner, []).append((seconds, within))
        by_source.setdefault(source or NO_SOURCE, []).append((seconds, within))

    def groups(found: dict[str, list[tuple[int, bool]]]) -> list[TouchTimes]:
        return sorted((TouchTimes.of(k, v) for k, v in found.items()), key=lambda t: (-t.touches, t.key))

    return {
        "total": TouchTimes.of("all", [(seconds, within) for _, _, seconds, within in rows]),
        "by_owner": groups(by_owner),
        "by_source": groups(by_source),
    }


__all__ = ["TouchTimes", "duration", "percentile", "speed_to_lead"]
