"""A webinar as an iCalendar file (RFC 5545): one VEVENT the visitor's calendar can add.

Written by hand, it is short: escaping of TEXT values (backslash, semicolon, comma, line breaks),
folding of lines longer than 75 octets (never inside a UTF-8 character), CRLF line ends, times
in UTC. `METHOD:PUBLISH` makes it an event to add, not a meeting request that asks the visitor's
calendar to send a reply. The UID is the form's, so adding it twice (from the e-mail and from the
thank-you page) updates one event instead of creating two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date

PRODID = "-//leadsieve//webinar invitation//EN"
DEFAULT_DURATION_MINUTES = 60
MAX_DURATION_MINUTES = 24 * 60
# What marketers wrote before start times had to be ISO 8601 ("2026-12-10 16:00 UTC") still reads.
_ZONE_WORD = re.compile(r"(?<=\d)\s*(?:UTC|GMT|Z)$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class StartTimeError(ValueError):
    """A webinar start that is not an ISO 8601 date and time."""


@dataclass(frozen=True)
class Webinar:
    """A webinar form's event: what the thank-you page, the e-mail and the .ics say."""

    title: str
    starts_at: datetime | None  # aware; None when the form has no (readable) start time
    duration_minutes: int = DEFAULT_DURATION_MINUTES
    join_url: str = ""

    @property
    def ends_at(self) -> datetime | None:
        """Start plus duration."""
        return self.starts_at + timedelta(minutes=self.duration_minutes) if self.starts_at else None


def _zone_named(value: str) -> tuple[str, Any]:
    """(the rest, the zone) when `value` ends in a time zone name (`Europe/Berlin`, `CET`), else (value, None)."""
    rest, _, name = value.rpartition(" ")
    if not rest or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*", name):
        return value, None
    try:
        return rest.strip(), ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return value, None


def parse_starts_at(text: str, *, default_zone: Any = UTC) -> datetime:
    """An aware datetime from ISO 8601 (`2026-12-10T16:00+01:00`, `…Z`, `2026-12-10 16:00 UTC`), or a date
    and time followed by a time zone name (`2027-03-04 17:00 Europe/Berlin`, `… CET`); a time with neither
    is in `default_zone` (a tzinfo). StartTimeError says what is wrong."""
    value = text.strip()
    if not value:
        raise StartTimeError("enter a date and time")
    zone: Any = UTC if _ZONE_WORD.search(value) else None
    value = _ZONE_WORD.sub("", value)
    if zone is None:
        value, zone = _zone_named(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise StartTimeError(
            "use ISO 8601, e.g. 2026-12-10T16:00+01:00, 2026-12-10 16:00 UTC or 2026-12-10 17:00 Europe/Berlin"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or default_zone)
    elif zone is not None:
        raise StartTimeError("give either an offset or a time zone, not both")
    return moment


def webinar_of(name: str, settings: dict[str, Any]) -> Webinar | None:
    """The webinar of a form's settings (None for a form without one); an unreadable start is None."""
    data = settings.get("webinar")
    if not isinstance(data, dict):
        return None
    try:
        starts_at: datetime | None = parse_starts_at(str(data.get("starts_at") or ""))
    except StartTimeError:
        starts_at = None
    try:
        duration = int(data.get("duration_minutes") or DEFAULT_DURATION_MINUTES)
    except (TypeError, ValueError):
        duration = DEFAULT_DURATION_MINUTES
    return Webinar(
        title=str(data.get("title") or "").strip() or name,
        starts_at=starts_at,
        duration_minutes=min(max(duration, 1), MAX_DURATION_MINUTES),
        join_url=str(data.get("join_url") or ""),
    )


def when_text(moment: datetime) -> str:
    """`Thursday 10 December 2026, 16:00 UTC` (or `UTC+01:00`): in the zone the marketer gave."""
    offset = moment.utcoffset() or timedelta(0)
    zone = "UTC"
    if offset:
        sign = "+" if offset > timedelta(0) else "-"
        minutes = abs(int(offset.total_seconds())) // 60
        zone = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M} {zone}"


def local_when_text(moment: datetime, language: str) -> str:
    """`when_text` as readers of `language` write a date (`Donnerstag, 10. Dezember 2026, 16:00 UTC`)."""
    text = when_text(moment)
    if language == "en":
        return text
    zone = text.rsplit(" ", 1)[1]
    return f"{format_date(moment.date(), format='full', locale=language)}, {moment:%H:%M} {zone}"


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as `\\n`,
    other control characters dropped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _CONTROL.sub("", value)


def uri_value(url: str) -> str:
    """A URI value: never escaped like TEXT, so anything that could end the line is percent-encoded."""
    return quote(url, safe="!#$%&'()*+,-./:;=?@[]_~")


def fold(line: str) -> str:
    """One content line folded at 75 octets (RFC 5545 3.1), continuation lines starting with a space."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # the leading space counts
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    """`20261210T160000Z`; a naive time is taken as UTC (the database's)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(webinar: Webinar, *, uid: str, now: datetime, description: str = "") -> bytes:
    """The .ics file for a webinar with a start time (ValueError without one)."""
    if webinar.starts_at is None or webinar.ends_at is None:
        raise ValueError("a webinar without a start time has no calendar entry")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(webinar.starts_at)}",
        f"DTEND:{_utc(webinar.ends_at)}",
        f"SUMMARY:{escape_text(webinar.title)}",
    ]
    if webinar.join_url:
        lines += [f"URL:{uri_value(webinar.join_url)}", f"LOCATION:{escape_text(webinar.join_url)}"]
    text = "\n\n".join(part for part in (description, f"Join: {webinar.join_url}" if webinar.join_url else "") if part)
    if text:
        lines.append(f"DESCRIPTION:{escape_text(text)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
