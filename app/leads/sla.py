"""Working-hours arithmetic for the speed-to-lead service level. Pure: no Flask, no database.

"First touch within 2 working hours" means hours inside the team's working days and hours, in its time
zone: an SQL arriving on Friday at 16:30 with a 9:00-17:00 Monday-Friday week is due on Monday at 10:30.
Times go in and come out as naive UTC (how the database stores them); the working day is laid out in
local time and converted to UTC for each day, so a daylight-saving change shortens or lengthens that
night, never a working hour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# A service level longer than this many calendar days is a configuration mistake, not a deadline.
HORIZON_DAYS = 366


class WorkingHoursError(ValueError):
    """Working days or hours that cannot be read; the message says which."""


@dataclass(frozen=True)
class WorkingHours:
    """The team's week: weekdays (0 = Monday), the day's start and end in minutes after local midnight
    (end may be 24:00), and the IANA time zone they are meant in."""

    days: frozenset[int]
    start_minute: int
    end_minute: int
    zone: str = "UTC"

    @classmethod
    def parse(cls, *, days: Iterable[str], hours: str, zone: str) -> WorkingHours:
        """From `["mon", ..., "fri"]`, `"09:00-17:00"` and a zone name (SLA_* settings)."""
        chosen = set()
        for name in days:
            key = name.strip().lower()[:3]
            if key not in DAY_NAMES:
                raise WorkingHoursError(f"not a weekday: {name!r} (use mon, tue, wed, thu, fri, sat, sun)")
            chosen.add(DAY_NAMES.index(key))
        if not chosen:
            raise WorkingHoursError("name at least one working day")
        match = HOURS.match(hours)
        if match is None:
            raise WorkingHoursError(f"working hours must look like 09:00-17:00, not {hours!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
            raise WorkingHoursError(f"working hours must start before they end, within one day: {hours!r}")
        return cls(days=frozenset(chosen), start_minute=start, end_minute=end, zone=zone)

    def windows(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working periods (naive UTC start, end) from the local day of `since` on, in order."""
        zone = ZoneInfo(self.zone)
        day = since.replace(tzinfo=UTC).astimezone(zone).date()
        for offset in range(HORIZON_DAYS + 1):
            current = day + timedelta(days=offset)
            if current.weekday() in self.days:
                yield self._utc(current, self.start_minute, zone), self._utc(current, self.end_minute, zone)

    @staticmethod
    def _utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
        local = datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minute)
        return local.astimezone(UTC).replace(tzinfo=None)


def add_working_time(start: datetime, duration: timedelta, hours: WorkingHours) -> datetime:
    """The moment `duration` of working time after `start` (naive UTC). Time before the day's start, after
    its end or on a day off does not count; a zero duration outside working hours is due when work starts."""
    remaining = duration
    for begin, end in hours.windows(start):
        begin = max(begin, start)
        if begin > end:
            continue
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    raise WorkingHoursError(f"no deadline within {HORIZON_DAYS} days: the service level is too long")


def working_time_between(start: datetime, end: datetime, hours: WorkingHours) -> timedelta:
    """Working time from `start` to `end` (naive UTC); zero when `end` is not after `start`."""
    total = timedelta(0)
    if end <= start:
        return total
    for begin, stop in hours.windows(start):
        if begin >= end:
            break
        overlap = min(stop, end) - max(begin, start)
        if overlap > timedelta(0):
            total += overlap
    return total


__all__ = ["WorkingHours", "WorkingHoursError", "add_working_time", "working_time_between"]
