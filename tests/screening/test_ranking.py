"""The engagement order key: sorting by it is sorting by engagement as decayed at any moment."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from screening.ranking import NO_ENGAGEMENT, engagement_key

T0 = datetime(2026, 1, 1)


def stored(fills: list[tuple[int, int]], half_life: float = 30.0) -> dict:
    """A breakdown (ScoreCard.as_dict shape) with one engagement line per (base points, day after T0)."""
    return {
        "fit": [],
        "engagement": [
            {"rule": "fill.download", "points": base, "base": base, "at": (T0 + timedelta(days=day)).isoformat()}
            for base, day in fills
        ],
        "half_life_days": half_life,
    }


def decayed_exactly(fills: list[tuple[int, int]], now: datetime, half_life: float) -> float:
    return sum(base * 0.5 ** ((now - (T0 + timedelta(days=day))).days / half_life) for base, day in fills)


fills = st.lists(st.tuples(st.integers(1, 50), st.integers(0, 3000)), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)  # a loaded machine must not fail it on time
@given(fills, fills, st.integers(3000, 6000))
def test_the_key_orders_leads_as_their_decayed_engagement_at_any_later_moment(a, b, day):
    now = T0 + timedelta(days=day)
    exact_a, exact_b = decayed_exactly(a, now, 30.0), decayed_exactly(b, now, 30.0)
    key_a, key_b = engagement_key(stored(a)), engagement_key(stored(b))
    if abs(exact_a - exact_b) > 1e-9 * max(exact_a, exact_b):
        assert (key_a > key_b) == (exact_a > exact_b)


def test_a_recent_small_fill_outranks_an_old_large_one():
    old_demo, new_download = stored([(25, 0)]), stored([(10, 200)])
    assert engagement_key(new_download) > engagement_key(old_demo)


def test_no_decay_orders_by_the_points():
    assert engagement_key(stored([(10, 0)], half_life=0)) > engagement_key(stored([(5, 900)], half_life=0))


def test_a_short_half_life_years_after_the_epoch_does_not_overflow():
    assert engagement_key(stored([(10, 2900)], half_life=1 / 24)) > 0


def test_nothing_is_below_everything():
    assert engagement_key({}) == NO_ENGAGEMENT
    assert engagement_key(stored([])) == NO_ENGAGEMENT
    assert engagement_key(None, fallback_points=0) == NO_ENGAGEMENT
    assert NO_ENGAGEMENT < engagement_key(stored([(1, 0)]))


def test_lines_scored_before_their_base_was_kept_count_their_points_at_the_fallback_time():
    legacy = {"engagement": [{"rule": "fill.demo", "points": 25}], "half_life_days": 30}
    assert engagement_key(legacy, fallback_at=T0) == engagement_key(stored([(25, 0)]))
    assert engagement_key({}, fallback_points=25, fallback_at=T0) > NO_ENGAGEMENT
