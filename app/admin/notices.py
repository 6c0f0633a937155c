"""Notices every admin page shows while something needs attention (today: DNS is unavailable)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app

from app.admin.blueprint import bp
from app.screening_context import dns_health


@bp.context_processor
def _dns_banner() -> dict[str, Any]:
    """Offline, every submission is held as `dns.unknown`: say so on every page, not only in evidence."""
    health = dns_health.read(current_app.extensions["leadsieve.redis"])
    if health is None or health.ok:
        return {"dns_down": None}
    since = datetime.fromtimestamp(health.since, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {"dns_down": {"since": since, "why": health.why}}
