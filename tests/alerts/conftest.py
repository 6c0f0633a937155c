"""Fixtures for alert tests: destinations on the root conftest's HTTP and SMTP receivers, rows to alert on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.models import Delivery, Destination, Form, Submission, utcnow
from app.statuses import DeliveryStatus, SubmissionStatus
from tests.receivers import SmtpReceiver


@pytest.fixture
def settings(settings: dict[str, Any], smtp_receiver: SmtpReceiver) -> dict[str, Any]:
    """Loopback destinations allowed, mail to the receiver, retries without waiting, alerts resolved at once."""
    settings.update(
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
        SMTP_URL=smtp_receiver.url,
        SMTP_FROM="alerts@leadsieve.test",
        DELIVERY_BACKOFF=[0, 0, 0],
        DELIVERY_TIMEOUT_SECONDS=2.0,
        ALERT_RESOLVE_AFTER_MINUTES=0.0,
        PUBLIC_BASE_URL="https://leads.example.com",
    )
    return settings


def add_destination(session: Any, *, target: str, kind: str = "webhook", **fields: Any) -> Destination:
    """A destination row (committed)."""
    destination = Destination(name=fields.pop("name", f"{kind} {target}"), kind=kind, target=target, **fields)
    session.add(destination)
    session.commit()
    return destination


def add_submission(
    session: Any, *, slug: str = "newsletter", received_at: datetime | None = None, **fields: Any
) -> Submission:
    """A submission row (committed), screened when given a verdict."""
    form = session.scalars(select(Form).where(Form.slug == slug)).one()
    if fields.get("verdict"):
        fields.setdefault("status", SubmissionStatus.SCREENED)
    submission = Submission(
        form_id=form.id, email=fields.pop("email", "li@initech.com"), received_at=received_at or utcnow(), **fields
    )
    session.add(submission)
    session.commit()
    return submission


def add_dead_delivery(session: Any, destination: Destination, *, status: str = DeliveryStatus.DEAD) -> Delivery:
    """A delivery of a new submission to `destination`, in `status` (dead unless told)."""
    submission = add_submission(session, verdict="accepted")
    delivery = Delivery(
        submission_id=submission.id,
        destination_id=destination.id,
        idempotency_key=f"key-{submission.id}-{destination.id}",
        status=status,
        attempts=4,
        last_error="HTTP 503 Service Unavailable",
    )
    session.add(delivery)
    session.commit()
    return delivery
