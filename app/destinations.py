"""Destinations: create (checked against SSRF), list, remove, and send a test lead."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.delivery import ADAPTERS, DeliverySettings, DestinationSpec, check_destination, deliver
from app.delivery.email import parse_recipients
from app.models import AuditEvent, Delivery, Destination
from screening.scoring import STAGES

HTTP_KINDS = ("webhook", "slack", "salesforce", "hubspot")


class InvalidDestination(ValueError):
    """The destination cannot be saved as given; the message says why."""


def create_destination(session: Session, *, kind: str, target: str, name: str = "", stages: Sequence[str] = (),
                       forms: Sequence[str] = (), options: dict[str, Any] | None = None,
                       allowed_private: Sequence[str] = (), actor: str) -> Destination:
    """Validate and save; webhooks get a generated signing secret."""
    if kind not in ADAPTERS:
        raise InvalidDestination(f"kind must be one of {', '.join(sorted(ADAPTERS))}")
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise InvalidDestination(f"unknown stage(s) {', '.join(bad)}; use {', '.join(STAGES)}")
    if kind in HTTP_KINDS:
        try:
            check_destination(target, list(allowed_private))
        except ValueError as exc:  # UnsafeDestination and BadDestination are ValueErrors
            raise InvalidDestination(str(exc)) from exc
    else:
        try:
            parse_recipients(target)
        except ValueError as exc:  # EmailConfigError: empty list or an address that is not plain
            raise InvalidDestination(f"{exc}; give one or more addresses, comma-separated") from exc
    destination = Destination(
        name=name or f"{kind} {target}"[:200], kind=kind, target=target, options=dict(options or {}),
        secret=secrets.token_urlsafe(32) if kind == "webhook" else "", stages=list(stages), forms=list(forms),
    )
    session.add(destination)
    session.flush()
    session.add(AuditEvent(actor=actor, action="destination.created", subject_type="destination",
                           subject_id=destination.id, details={"kind": kind, "target": target}))
    session.commit()
    return destination


def list_destinations(session: Session) -> list[Destination]:
    """All destinations, oldest first."""
    return list(session.scalars(select(Destination).order_by(Destination.id)))


def remove_destination(session: Session, destination_id: int, *, actor: str) -> str:
    """Delete it, or deactivate it when deliveries refer to it (their log stays)."""
    destination = session.get(Destination, destination_id)
    if destination is None:
        raise InvalidDestination(f"no destination {destination_id}")
    used = session.scalars(select(Delivery.id).where(Delivery.destination_id == destination_id)).first()
    if used:
        destination.active = False
        outcome = "deactivated"
    else:
        session.delete(destination)
        outcome = "deleted"
    session.add(AuditEvent(actor=actor, action=f"destination.{outcome}", subject_type="destination",
                           subject_id=destination_id))
    session.commit()
    return outcome


SAMPLE = {
    "submission_id": 0, "lead_id": 0, "stage": "SQL", "stage_reason": "test lead from leadsieve",
    "email": "test.lead@example.com", "first_name": "Test", "last_name": "Lead", "company": "Example Corp",
    "job_title": "Head of Marketing", "phone": "+1 555 0100", "country": "US",
    "message": "This is a test lead sent by leadsieve to check this destination.", "answers": {},
    "form": {"slug": "test", "name": "Test", "kind": "demo"},
    "utm": {"source": "leadsieve", "medium": "test", "campaign": "", "term": "", "content": ""},
    "page_url": "", "received_at": "1970-01-01T00:00:00Z", "score": 0, "feedback_url": "",
}


def test_destination(destination: Destination, settings: DeliverySettings) -> Any:
    """Send the sample lead once, synchronously; returns the adapter's AttemptResult."""
    spec = DestinationSpec(kind=destination.kind, target=destination.target, secret=destination.secret,
                           options=dict(destination.options or {}))
    return deliver(spec, dict(SAMPLE), idempotency_key=f"test-{uuid.uuid4().hex}", settings=settings)
