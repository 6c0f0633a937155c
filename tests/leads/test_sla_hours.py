"""Working-hours arithmetic (app/leads/sla.py): pure, no app."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.leads.sla import WorkingHours, WorkingHoursError, add_working_time, working_time_between

WEEK = WorkingHours.parse(days=["mon", "tue", "wed", "thu", "fri"], hours="09:00-17:00", zone="UTC")
BERLIN = WorkingHours.parse(days=["mon", "tue", "wed", "thu", "fri"], hours="09:00-17:00", zone="Europe/Berlin")
TWO = timedelta(hours=2)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (datetime(2026, 12, 2, 10, 0), datetime(2026, 12, 2, 12, 0)),  # Wednesday morning: same day
        (datetime(2026, 12, 2, 16, 30), datetime(2026, 12, 3, 10, 30)),  # half an hour today, 1.5 tomorrow
        (datetime(2026, 12, 4, 16, 30), datetime(2026, 12, 7, 10, 30)),  # Friday afternoon: Monday
        (datetime(2026, 12, 5, 11, 0), datetime(2026, 12, 7, 11, 0)),  # Saturday: Monday from 9:00
        (datetime(2026, 12, 2, 6, 0), datetime(2026, 12, 2, 11, 0)),  # before work: from 9:00
        (datetime(2026, 12, 2, 20, 0), datetime(2026, 12, 3, 11, 0)),  # after work: tomorrow
        (datetime(2026, 12, 2, 15, 0), datetime(2026, 12, 2, 17, 0)),  # exactly at the day's end
    ],
    ids=["same-day", "overnight", "weekend", "on-saturday", "before-work", "after-work", "at-close"],
)
def test_two_working_hours_in_a_utc_week(start, due):
    assert add_working_time(start, TWO, WEEK) == due
    assert working_time_between(start, due, WEEK) == TWO


def test_local_hours_in_winter_and_summer():
    # 9:00 in Berlin is 8:00 UTC in winter and 7:00 UTC in summer.
    assert add_working_time(datetime(2026, 12, 2, 5, 0), TWO, BERLIN) == datetime(2026, 12, 2, 10, 0)
    assert add_working_time(datetime(2026, 7, 1, 5, 0), TWO, BERLIN) == datetime(2026, 7, 1, 9, 0)


def test_a_daylight_saving_change_overnight_costs_no_working_hour():
    # Sunday 29 March 2026 clocks go forward in Berlin; Friday 16:00 local (15:00 UTC) + 2 h:
    # one hour Friday, one Monday from 9:00 local, which is 7:00 UTC after the change.
    assert add_working_time(datetime(2026, 3, 27, 15, 0), TWO, BERLIN) == datetime(2026, 3, 30, 8, 0)


def test_zero_outside_hours_is_due_when_work_starts():
    assert add_working_time(datetime(2026, 12, 5, 11, 0), timedelta(0), WEEK) == datetime(2026, 12, 7, 9, 0)
    assert add_working_time(datetime(2026, 12, 2, 11, 0), timedelta(0), WEEK) == datetime(2026, 12, 2, 11, 0)


def test_round_the_clock():
    always = WorkingHours.parse(days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], hours="00:00-24:00", zone="UTC")
    start = datetime(2026, 12, 5, 23, 30)
    assert add_working_time(start, TWO, always) == start + TWO
    assert working_time_between(start, start + timedelta(days=3), always) == timedelta(days=3)


def test_time_between_counts_only_working_time():
    friday_noon, monday_noon = datetime(2026, 12, 4, 12, 0), datetime(2026, 12, 7, 12, 0)
    assert working_time_between(friday_noon, monday_noon, WEEK) == timedelta(hours=8)
    assert working_time_between(monday_noon, friday_noon, WEEK) == timedelta(0)


def test_a_service_level_beyond_a_year_is_refused():
    with pytest.raises(WorkingHoursError, match="too long"):
        add_working_time(datetime(2026, 12, 2), timedelta(days=400), WEEK)


@pytest.mark.parametrize(
    ("days", "hours", "message"),
    [
        (["mon", "funday"], "09:00-17:00", "not a weekday"),
        ([], "09:00-17:00", "at least one"),
        (["mon"], "9-17", "look like"),
        (["mon"], "17:00-09:00", "start before"),
        (["mon"], "09:00-24:30", "start before"),
        (["mon"], "09:75-17:00", "start before"),
    ],
    ids=["bad-day", "no-day", "bad-shape", "backwards", "past-midnight", "bad-minute"],
)
def test_unreadable_working_hours(days, hours, message):
    with pytest.raises(WorkingHoursError, match=message):
        WorkingHours.parse(days=days, hours=hours, zone="UTC")
