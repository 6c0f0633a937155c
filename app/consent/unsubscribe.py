"""Unsubscribe: every e-mail to a visitor carries a signed one-click link (RFC 8058) that withdraws the
person's marketing consent, records it on the lead (audited) and tells the destinations that have the
person with a `lead.updated` event.

The token names the lead and never expires (a link in an old e-mail must still work); it is signed, so
nobody can unsubscribe someone else by guessing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.forwarding.routing import build_payload, envelope, wants
from app.models import AuditEvent, Delivery, Destination, Lead, Submission, utcnow
from app.statuses import DeliveryStatus, EventType, Verdict

SALT = "leadsieve.unsubscribe"
# Deliveries that never reached their destination: a destination that only has these does not have the person.
NEVER_SENT = (DeliveryStatus.AWAITING_OPT_IN, DeliveryStatus.WITHHELD, "erased")


def unsubscribe_token(secret: str, lead_id: int) -> str:
    """The signed part of an unsubscribe link."""
    return str(URLSafeSerializer(secret, salt=SALT).dumps({"lead": lead_id}))


def read_unsubscribe_token(secret: str, token: str, *, fallbacks: Sequence[str] = ()) -> int | None:
    """The lead an unsubscribe link names, if it is genuine; None otherwise."""
    try:
        data = URLSafeSerializer([*fallbacks, secret], salt=SALT).loads(token)
    except BadSignature:
        return None
    value = data.get("lead") if isinstance(data, dict) else None
    return value if type(value) is int else None


def withdraw(session: Session, lead_id: int, *, feedback_url: str, actor: str = "visitor") -> list[int] | None:
    """Record the withdrawal once and create the `lead.updated` deliveries; their ids (enqueue after
    commit), [] when already unsubscribed, None when there is no such (or an erased) lead. Flushes."""
    lead = session.get(Lead, lead_id)
    if lead is None or lead.erased_at is not None:
        return None
    if lead.unsubscribed_at is not None:
        return []
    now = lead.unsubscribed_at = utcnow()
    # Held marketing deliveries of this person will never go: the consent they waited for is withdrawn.
    session.execute(
        update(Delivery)
        .where(
            Delivery.status == DeliveryStatus.AWAITING_OPT_IN,
            Delivery.submission_id.in_(select(Submission.id).where(Submission.lead_id == lead.id)),
        )
        .values(status=DeliveryStatus.WITHHELD, last_error="marketing consent withdrawn")
    )
    session.add(
        AuditEvent(
            actor=actor,
            action="consent.withdrawn",
            subject_type="lead",
            subject_id=lead.id,
            details={"consent": "marketing", "via": "unsubscribe link"},
        )
    )
    session.flush()
    return _tell_destinations(session, lead, feedback_url=feedback_url, key=f"consent:withdrawn:{now.isoformat()}")


def _tell_destinations(session: Session, lead: Lead, *, feedback_url: str, key: str) -> list[int]:
    """One `lead.updated` delivery to each active destination that has had the person and takes the event."""
    latest = session.scalar(
        select(Submission)
        .where(Submission.lead_id == lead.id, Submission.verdict == Verdict.ACCEPTED)
        .order_by(Submission.id.desc())
        .limit(1)
    )
    if latest is None:
        return []
    had = select(Delivery.destination_id).where(
        Delivery.submission_id.in_(select(Submission.id).where(Submission.lead_id == lead.id)),
        Delivery.status.not_in(NEVER_SENT),
    )
    destinations = session.scalars(
        select(Destination).where(Destination.active.is_(True), Destination.id.in_(had)).order_by(Destination.id)
    ).all()
    session.refresh(lead, ["stage_changes"])
    payload = envelope(
        EventType.UPDATED, build_payload(latest, lead, feedback_url=feedback_url), key=f"lead:{lead.id}:{key}"
    )
    created = []
    for destination in destinations:
        if not wants(destination, EventType.UPDATED):
            continue
        delivery = Delivery(
            submission_id=latest.id,
            destination_id=destination.id,
            idempotency_key=uuid.uuid4().hex,
            event_key=key[:64],
            payload=payload,
            status=DeliveryStatus.PENDING,
        )
        session.add(delivery)
        created.append(delivery)
    session.flush()
    return [d.id for d in created]


def language_of(session: Session, lead_id: int) -> str:
    """The language of the person's latest form ("" if unknown)."""
    language = session.scalar(
        select(Submission.language).where(Submission.lead_id == lead_id).order_by(Submission.id.desc()).limit(1)
    )
    return language or ""
