"""How admin pages show values: times in the admin's time zone (ADMIN_TIME_ZONE), stored as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from app.admin.blueprint import bp


@bp.app_template_filter("local_time")
def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A stored (naive UTC) time in ADMIN_TIME_ZONE, with the zone named so no one guesses."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config.get("ADMIN_TIME_ZONE") or "UTC")
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime(fmt)
