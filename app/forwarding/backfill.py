"""Sending leads that existed before a destination was added (or its rule widened) to that destination.

Routing only looks at new submissions; a team that adds its CRM later wants the leads it already has.
Each lead goes once, with its latest accepted submission that matches the destination's rule, and
never to a destination that already received that person.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.consent import opt_in
from app.forwarding.routing import build_payload, is_marketing
from app.models import AuditEvent, Delivery, Destination, Form, Lead, Submission
from app.statuses import DeliveryStatus, Verdict


def _candidates(destination: Destination) -> Select[tuple[int, int]]:
    """(lead id, submission id): each lead's latest accepted submission matching the rule, not yet sent there."""
    latest = (
        select(func.max(Submission.id))
        .join(Form, Form.id == Submission.form_id)
        .where(Submission.lead_id == Lead.id, Submission.verdict == Verdict.ACCEPTED, Submission.erased_at.is_(None))
    )
    if destination.forms:
        latest = latest.where(Form.slug.in_(destination.forms))
    sent = aliased(Submission)
    already = exists(
        select(Delivery.id)
        .join(sent, sent.id == Delivery.submission_id)
        .where(sent.lead_id == Lead.id, Delivery.destination_id == destination.id)
    )
    query = select(Lead.id, latest.scalar_subquery().label("submission_id")).where(~already)
    if destination.stages:
        query = query.where(Lead.stage.in_(destination.stages))
    return query


def count_existing(session: Session, *, destination: Destination) -> int:
    """How many leads a backfill would send now (shown before anyone confirms)."""
    rows = _candidates(destination).subquery()
    return session.scalar(select(func.count()).select_from(rows).where(rows.c.submission_id.is_not(None))) or 0


def send_existing(
    session: Session, *, destination: Destination, actor: str, feedback_url_for: Callable[[int], str]
) -> list[int]:
    """Create one pending Delivery per matching lead (audited); returns their ids to enqueue after commit."""
    created: list[Delivery] = []
    rows: list[Any] = list(session.execute(_candidates(destination)).all())
    for lead_id, submission_id in rows:
        if submission_id is None:
            continue
        submission, lead = session.get(Submission, submission_id), session.get(Lead, lead_id)
        assert submission is not None and lead is not None
        if is_marketing(destination) and not opt_in.may_market(session, submission, lead):
            continue  # unconfirmed or withdrawn marketing consent (app/consent/opt_in.py)
        delivery = Delivery(
            submission_id=submission.id,
            destination_id=destination.id,
            idempotency_key=uuid.uuid4().hex,
            payload=build_payload(submission, lead, feedback_url=feedback_url_for(lead.id)),
            status=DeliveryStatus.PENDING,
        )
        session.add(delivery)
        created.append(delivery)
    session.add(
        AuditEvent(
            actor=actor,
            action="destination.backfilled",
            subject_type="destination",
            subject_id=destination.id,
            details={"leads": len(created)},
        )
    )
    session.flush()
    return [d.id for d in created]
