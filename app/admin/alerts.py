"""The alerts page (open and recently resolved alerts, and where each was sent) and the navigation badge."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g, render_template

from app.admin.blueprint import bp
from app.alerts.service import notices_of, open_alert_count, open_alerts, recent_alerts
from app.db import get_session
from app.models import utcnow

# Resolved alerts stay on the page this long.
RECENT = timedelta(days=7)


@bp.context_processor
def _open_alert_badge() -> dict[str, Any]:
    """The count the navigation shows beside "Alerts" while any is open (signed-in pages only)."""
    if g.get("user") is None:
        return {"open_alert_count": 0}
    return {"open_alert_count": open_alert_count(get_session())}


@bp.get("/alerts")
def alerts() -> str:
    """Open alerts, most severe and oldest first, then those resolved in the last week, with their notices."""
    db = get_session()
    current, recent = open_alerts(db), recent_alerts(db, since=utcnow() - RECENT)
    return render_template(
        "admin/alerts.html",
        current=current,
        recent=recent,
        notices=notices_of(db, [alert.id for alert in [*current, *recent]]),
    )
