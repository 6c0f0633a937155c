"""Speed to lead: an assigned SQL's first touch, kept apart so the dashboard reads only touches.

The clock itself is on the lead (`assigned_at`, `sla_due_at`: app/leads/owners.py); the breach check is
app/alerts/sla_breaches.py. Services flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import FirstTouch, Lead, Submission


def note_first_touch(session: Session, *, lead: Lead, at: datetime) -> None:
    """Keep an assigned lead's first touch for the dashboard (once per lead): owner, the utm source of its
    first submission, the seconds from assignment, and whether it was within the service level."""
    if lead.assigned_at is None or session.get(FirstTouch, lead.id) is not None:
        return
    source = session.scalars(
        select(Submission.utm_source).where(Submission.lead_id == lead.id).order_by(Submission.id).limit(1)
    ).first()
    session.add(
        FirstTouch(
            lead_id=lead.id,
            owner_id=lead.owner_id,
            source=source or "",
            assigned_at=lead.assigned_at,
            touched_at=at,
            seconds=max(0, int((at - lead.assigned_at).total_seconds())),
            within_sla=lead.sla_due_at is None or at <= lead.sla_due_at,
        )
    )
    session.flush()


__all__ = ["note_first_touch"]
