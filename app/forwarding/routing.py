"""Routing: which destinations get an accepted lead, and the payload each receives.

One Delivery row per (submission, destination), guarded by a unique constraint,
so routing twice never sends twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.consent.payload import consents_payload
from app.forwarding.attribution import attribution_payload
from app.forwarding.field_mapping import field_payload
from app.leads.owners import owner_payload
from app.models import Delivery, Destination, Lead, StageChange, Submission, utcnow
from app.statuses import DeliveryStatus, EventType, Stage
from screening.model import SIDE_STAGES

# The events a destination with no `events` of its own receives: chat and e-mail alerts only when a lead
# is new or moves stage (an SQL alert is a promotion, not every fill); the others every event of a fill.
# `lead.feedback` is never a default: receivers written before it would take it for a new lead.
ALERT_KINDS = frozenset({"slack", "email"})
ALERT_EVENTS = frozenset({EventType.CREATED, EventType.STAGE_CHANGED})
FILL_EVENTS = frozenset({EventType.CREATED, EventType.STAGE_CHANGED, EventType.UPDATED})
# Event ids are derived, not random: routing the same submission again names the same event.
EVENT_NAMESPACE = uuid.UUID("6f1c1d4e-3a57-4c8e-9d38-2f4f3b6f0c12")

FEEDBACK_SALT = "leadsieve.feedback"


class FeedbackTokenError(ValueError):
    """A feedback link that is forged or too old."""


def feedback_token(secret: str, lead_id: int) -> str:
    """A signed, URL-safe token naming one lead."""
    return URLSafeTimedSerializer(secret, salt=FEEDBACK_SALT).dumps({"lead": lead_id})


def read_feedback_token(secret: str, token: str, *, max_age: int, fallbacks: Sequence[str] = ()) -> int:
    """The lead id in a feedback token signed with `secret` or one of `fallbacks` (links already sent
    survive a SECRET_KEY rotation); FeedbackTokenError says forged or expired."""
    try:
        data = URLSafeTimedSerializer([*fallbacks, secret], salt=FEEDBACK_SALT).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise FeedbackTokenError("This feedback link has expired.") from exc
    except BadSignature as exc:
        raise FeedbackTokenError("This feedback link is not valid.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("lead"), int):
        raise FeedbackTokenError("This feedback link is not valid.")
    return data["lead"]


def scores(lead: Lead, *, now: datetime | None = None) -> dict[str, Any]:
    """Fit, engagement (decayed to `now`), their sum and the breakdown of both, as destinations get them.
    A lead scored before breakdowns were kept reports its stored numbers and no lines."""
    stored = lead.score_breakdown or {}
    if not stored:
        return {"fit": lead.fit, "engagement": lead.engagement, "score": lead.score, "score_breakdown": {}}
    engagement = lead.engagement_score(now)
    return {
        "fit": lead.fit,
        "engagement": engagement.total,
        "score": lead.fit + engagement.total,
        "score_breakdown": {
            "fit": list(stored.get("fit") or []),
            "engagement": [line.as_dict() for line in engagement.lines],
        },
    }


def build_payload(submission: Submission, lead: Lead, *, feedback_url: str) -> dict[str, Any]:
    """What every destination is told about a lead (fixed at routing time): `score` is fit + engagement,
    `score_breakdown` lists each rule with its points, evidence and submission, `stage_reason` says why
    the lead is at its stage (e.g. "asked for sales, not qualified: free-mail address, no budget")."""
    last_change = lead.stage_changes[-1] if lead.stage_changes else None
    return {
        "submission_id": submission.id,
        "lead_id": lead.id,
        "stage": lead.stage,
        "stage_reason": lead.stage_reason or (last_change.reason if last_change else ""),
        "email": submission.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company,
        "job_title": lead.job_title,
        "phone": lead.phone,
        "country": lead.country,
        "message": submission.message,
        **field_payload(submission),  # answers by webhook key, crm_fields by HubSpot/Salesforce name
        "form": {"slug": submission.form.slug, "name": submission.form.name, "kind": submission.form.kind},
        "utm": {
            "source": submission.utm_source,
            "medium": submission.utm_medium,
            "campaign": submission.utm_campaign,
            "term": submission.utm_term,
            "content": submission.utm_content,
        },
        "page_url": submission.page_url,
        "received_at": submission.received_at.isoformat() + "Z",
        **attribution_payload(submission),  # utm_*, referrer, page_url, click ids, hutk, ip_address
        **scores(lead),
        **owner_payload(lead),
        "consents": consents_payload(submission, lead),
        "feedback_url": feedback_url,
    }


def event_of(lead: Lead, submission: Submission) -> str:
    """What this submission did to its lead: created it, moved its stage, or only updated it."""
    mine = [c for c in lead.stage_changes if c.submission_id == submission.id]
    if any(c.from_stage is None for c in mine):
        return EventType.CREATED
    return EventType.STAGE_CHANGED if mine else EventType.UPDATED


def envelope(event: str, data: dict[str, Any], *, key: str) -> dict[str, Any]:
    """The typed event: `type`, a stable `id`, `timestamp` and `data`; the lead's fields stay at the top
    level too, for receivers written before events (documented in docs/forwarding.md)."""
    return {
        **data,
        "type": event,
        "id": "evt_" + uuid.uuid5(EVENT_NAMESPACE, f"{key}:{event}").hex,
        "timestamp": utcnow().replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def default_events(kind: str) -> frozenset[str]:
    """The events a destination of this kind receives when its rule names none."""
    return ALERT_EVENTS if kind in ALERT_KINDS else FILL_EVENTS


def wants(destination: Destination, event: str) -> bool:
    """Whether a destination's rule takes this event type (empty: its kind's default)."""
    return event in (destination.events or default_events(destination.kind))


def is_marketing(destination: Destination) -> bool:
    """A destination for marketing: its stages are chosen and none of them is SQL."""
    return bool(destination.stages) and Stage.SQL not in destination.stages


def matching_destinations(
    session: Session, *, stage: str, form_slug: str, event: str | None = None
) -> list[Destination]:
    """Active destinations whose routing rule covers this stage, form and event. A recycled or disqualified
    lead's fills go to marketing destinations only (they are not handed to sales again)."""
    destinations = session.scalars(select(Destination).where(Destination.active.is_(True)).order_by(Destination.id))
    chosen = []
    for d in destinations:
        if d.forms and form_slug not in d.forms:
            continue
        if event is not None and not wants(d, event):
            continue
        if stage in SIDE_STAGES:
            if is_marketing(d):
                chosen.append(d)
        elif not d.stages or stage in d.stages:
            chosen.append(d)
    return chosen


def route(session: Session, *, submission: Submission, lead: Lead, feedback_url: str) -> list[Delivery]:
    """Create the missing Delivery rows for this submission (one event each); returns the new ones."""
    session.flush()
    session.refresh(lead, ["stage_changes"])
    existing = set(
        session.scalars(
            select(Delivery.destination_id).where(Delivery.submission_id == submission.id, Delivery.event_key == "")
        )
    )
    event = event_of(lead, submission)
    payload = envelope(
        event, build_payload(submission, lead, feedback_url=feedback_url), key=f"submission:{submission.id}"
    )
    chosen = matching_destinations(session, stage=lead.stage, form_slug=submission.form.slug, event=event)
    return add_deliveries(
        session,
        submission_id=submission.id,
        destination_ids=[d.id for d in chosen if d.id not in existing],
        payload=payload,
    )


def add_deliveries(
    session: Session,
    *,
    submission_id: int,
    destination_ids: Sequence[int],
    payload: dict[str, Any],
    event_key: str = "",
) -> list[Delivery]:
    """One pending delivery of `payload` per destination, filed under the submission with `event_key`
    ("" for its routing; later events about the lead have keys of their own)."""
    created = [
        Delivery(
            submission_id=submission_id,
            destination_id=destination_id,
            event_key=event_key,
            idempotency_key=uuid.uuid4().hex,
            payload=payload,
            status=DeliveryStatus.PENDING,
        )
        for destination_id in destination_ids
    ]
    session.add_all(created)
    session.flush()
    return created


__all__ = [
    "StageChange",
    "add_deliveries",
    "build_payload",
    "envelope",
    "event_of",
    "matching_destinations",
    "feedback_token",
    "read_feedback_token",
    "route",
]
