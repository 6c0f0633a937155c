"""A number that orders leads by engagement as decayed at any one moment, so a list can sort on an index.

Decayed engagement is sum(base_i * 2 ** (-(now - t_i) / h)) = 2 ** (-(now - EPOCH) / h) * sum(base_i *
2 ** ((t_i - EPOCH) / h)): the first factor is the same for every lead read at the same `now`, so the
order of two leads never changes as time passes and only the second factor needs storing. It is kept
as its base-2 logarithm (a fill years after EPOCH with a half-life of a day would overflow a float
otherwise). Engagement shown is rounded line by line (screening/scoring.py `decayed`), so two leads
within a point of each other may show the same number or, rarely, look one point out of order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Any fixed moment works; fills after it give keys >= 0.
EPOCH = datetime(2020, 1, 1)
# The key of a lead with no engagement: below every lead with some.
NO_ENGAGEMENT = -1.0e9


def engagement_key(
    stored: Mapping[str, Any] | None, *, fallback_points: int = 0, fallback_at: datetime | None = None
) -> float:
    """The order key of a stored breakdown (`ScoreCard.as_dict`): log2 of the engagement decayed to EPOCH.

    A breakdown without engagement lines, or lines without their base points and time (scored before
    those were kept), counts `fallback_points` earned at `fallback_at`."""
    stored = stored or {}
    half_life = float(stored.get("half_life_days") or 0)
    terms: list[tuple[int, datetime | None]] = []
    for line in stored.get("engagement") or ():
        base, at = line.get("base"), line.get("at")
        if base is None or not at:
            terms.append((int(line.get("points") or 0), fallback_at))
        else:
            terms.append((int(base), datetime.fromisoformat(at)))
    if not stored.get("engagement"):
        terms = [(fallback_points, fallback_at)]
    exponents = [
        math.log2(points) + (_days(at) / half_life if half_life and at is not None else 0.0)
        for points, at in terms
        if points > 0
    ]
    if not exponents:
        return NO_ENGAGEMENT
    top = max(exponents)
    return top + math.log2(sum(2.0 ** (e - top) for e in exponents))


def _days(at: datetime) -> float:
    return (at.replace(tzinfo=None) - EPOCH).total_seconds() / 86400
