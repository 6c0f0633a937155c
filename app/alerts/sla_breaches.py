"""The speed-to-lead check: SQLs nobody touched in time, one `lead.sla_breached` event per breach.

Run by the alert turn (app/alerts/runner.py). Each overdue SQL is marked breached once (`sla_breached_at`,
set only where it is still empty, so a second runner at the same moment marks nothing) and one event is
queued per destination marked for alerts, through the alert notices' send-and-retry path; the notice's
idempotency key names the lead and its assignment, so the same breach is never sent twice. Services
flush; the caller commits.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.alerts.service import alert_destinations
from app.db import rowcount
from app.leads.owners import owner_payload
from app.models import AlertNotice, Lead
from app.statuses import DeliveryStatus, Stage

SLA_BREACHED = "lead.sla_breached"
# Leads still waiting for sales' first contact; a lead sales disqualified, recycled or moved on is not chased.
WAITING_STAGES = (Stage.SQL, Stage.SAL)
# Breaches marked per turn at most; the rest are found by the next turn.
BATCH = 200
EVENT_NAMESPACE = uuid.UUID("0b8f5f0e-7c1a-4f43-9a55-6a1c3c2f9e41")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def breach_payload(lead: Lead, *, now: datetime, admin_url: str) -> dict[str, Any]:
    """The `lead.sla_breached` event: the lead, its owner and deadline; `alert` carries the headline and
    details the e-mail and Slack adapters show (app/forwarding/adapters/alert_text.py)."""
    owned = owner_payload(lead)
    who = owned["owner"]["name"] if owned["owner"] else "nobody (no owner)"
    name = " ".join(part for part in (lead.first_name, lead.last_name) if part) or f"lead {lead.id}"
    summary = f"SQL not touched in time: {name}" + (f" ({lead.company})" if lead.company else "") + f", owner {who}"
    return {
        "type": SLA_BREACHED,
        "id": "evt_" + uuid.uuid5(EVENT_NAMESPACE, f"{lead.id}:{_iso(lead.assigned_at)}").hex,
        "timestamp": now.replace(tzinfo=UTC, microsecond=0).isoformat().replace("+00:00", "Z"),
        "lead_id": lead.id,
        "stage": lead.stage,
        **owned,
        "alert": {
            "key": f"sla:{lead.id}",
            "kind": SLA_BREACHED,
            "severity": "warning",
            "summary": summary,
            "opened_at": _iso(now),
            "details": {"owner": who, "assigned_at": _iso(lead.assigned_at), "due_at": _iso(lead.sla_due_at)},
        },
        "admin_url": f"{admin_url}/leads/{lead.id}",
    }


def _key(lead: Lead, destination_id: int) -> str:
    """One breach of one assignment, for one destination."""
    started = int(lead.assigned_at.replace(tzinfo=UTC).timestamp()) if lead.assigned_at else 0
    return f"sla-{lead.id}-{started}-{destination_id}"


def queue_sla_breaches(session: Session, *, now: datetime, admin_url: str) -> list[AlertNotice]:
    """Mark every SQL whose first touch is overdue as breached and queue its event for each per-alert
    destination; returns the notices. A lead is marked (and told about) once."""
    overdue = session.scalars(
        select(Lead)
        .where(
            Lead.sla_due_at.is_not(None),
            Lead.first_touch_at.is_(None),
            Lead.sla_breached_at.is_(None),
            Lead.sla_due_at <= now,
            Lead.stage.in_(WAITING_STAGES),
        )
        .order_by(Lead.sla_due_at, Lead.id)
        .limit(BATCH)
    ).all()
    destinations = alert_destinations(session, digest=False) if overdue else []
    notices: list[AlertNotice] = []
    for lead in overdue:
        marked = session.execute(
            update(Lead).where(Lead.id == lead.id, Lead.sla_breached_at.is_(None)).values(sla_breached_at=now)
        )
        if rowcount(marked) != 1:
            continue  # another runner marked it just now and queued its events
        lead.sla_breached_at = now
        payload = breach_payload(lead, now=now, admin_url=admin_url)
        for destination in destinations:
            notices.append(
                AlertNotice(
                    destination_id=destination.id,
                    alert_id=None,
                    event=SLA_BREACHED,
                    idempotency_key=_key(lead, destination.id),
                    payload=payload,
                    status=DeliveryStatus.PENDING,
                )
            )
    session.add_all(notices)
    session.flush()
    return notices


__all__ = ["SLA_BREACHED", "breach_payload", "queue_sla_breaches"]
