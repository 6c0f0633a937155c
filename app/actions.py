"""User actions that end in queued work, each one call: run the services, commit, then enqueue.

Services take a session and plain values and only flush; the caller owns the transaction. These
actions are the callers that views, CLI commands and the sweeper share, so the order "commit,
then enqueue" (a job must never run before the rows it reads exist) is written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.capture import visitor_email
from app.forwarding.backfill import send_existing
from app.forwarding.deliveries import replay
from app.forwarding.events import feedback_event, stage_event
from app.forwarding.routing import feedback_token
from app.leads import revisit
from app.leads.classification import LABELS, record_feedback
from app.leads.review import Approval, approve, reopen_for_screening
from app.models import Delivery, Destination, Form, Lead, LeadFeedback, Submission
from app.runtime.queues import enqueue_delivery, enqueue_screening, enqueue_visitor_email, is_sales_request


def approve_and_forward(
    session: Session, *, submission_ids: Iterable[int], actor: str, note: str = "", stage: str | None = None
) -> Approval:
    """Approve held (or release rejected) submissions, commit, then send their new deliveries and the
    confirmation e-mails their forms promised the visitors (held ones get theirs only now)."""
    ids = list(submission_ids)
    result = approve(session, submission_ids=ids, actor=actor, note=note, stage=stage)
    emails = visitor_email.waiting(session, ids)
    session.commit()
    for delivery_id in result.deliveries:
        enqueue_delivery(delivery_id, 0)
    for submission_id in emails:
        enqueue_visitor_email(submission_id)
    return result


def rescreen(
    session: Session,
    *,
    submission_ids: Iterable[int],
    actor: str,
    action: str = "submission.rescreen",
    details: Mapping[str, object] | None = None,
    details_by_id: Mapping[int, Mapping[str, object]] | None = None,
    reopen_decision: bool = False,
) -> list[int]:
    """Put held or rejected submissions back through screening (audited); returns those reopened.

    `details` go into every audit event, `details_by_id` into one submission's (e.g. which retry)."""
    reopened = [
        submission_id
        for submission_id in dict.fromkeys(submission_ids)
        if reopen_for_screening(
            session,
            submission_id=submission_id,
            actor=actor,
            action=action,
            details={**(details or {}), **(details_by_id or {}).get(submission_id, {})},
            reopen_decision=reopen_decision,
        )
    ]
    kinds = dict(
        session.execute(
            select(Submission.id, Form.kind)
            .join(Form, Form.id == Submission.form_id)
            .where(Submission.id.in_(reopened))
        ).all()
    )
    session.commit()
    for submission_id in reopened:
        enqueue_screening(submission_id, sales=is_sales_request(kinds.get(submission_id)))
    return reopened


def replay_deliveries(session: Session, *, delivery_ids: Iterable[int], actor: str) -> list[int]:
    """Send dead or failed deliveries again with a fresh retry schedule; returns those replayed."""
    reset = replay(session, list(delivery_ids), actor=actor)
    attempts = dict(session.execute(select(Delivery.id, Delivery.attempts).where(Delivery.id.in_(reset))).all())
    session.commit()
    for delivery_id in reset:
        enqueue_delivery(delivery_id, attempts.get(delivery_id, 0))
    return reset


def send_existing_leads(session: Session, *, destination: Destination, actor: str) -> list[int]:
    """Send the leads that existed before this destination (or its rule) to it, once each; returns the
    deliveries queued."""
    created = send_existing(session, destination=destination, actor=actor, feedback_url_for=feedback_url_for)
    session.commit()
    for delivery_id in created:
        enqueue_delivery(delivery_id, 0)
    return created


def feedback_url_for(lead_id: int) -> str:
    """The signed feedback link of a lead, as destinations receive it."""
    config = current_app.config
    return f"{config['PUBLIC_BASE_URL']}/feedback/{feedback_token(config['SECRET_KEY'], lead_id)}"


def record_sales_feedback(
    session: Session, *, lead: Lead, outcome: str, note: str = "", source: str, revisit_on: date | None = None
) -> LeadFeedback:
    """Record what sales reported (the link or the API), commit, then send the `lead.feedback` event to
    the destinations that chose it. FeedbackError (nothing recorded) for an outcome that cannot be."""
    before = lead.stage
    feedback = record_feedback(session, lead=lead, outcome=outcome, note=note, source=source, revisit_on=revisit_on)
    created = feedback_event(
        session,
        lead=lead,
        feedback=feedback,
        before=before,
        label=LABELS[outcome],
        feedback_url=feedback_url_for(lead.id),
    )
    ids = [d.id for d in created]
    session.commit()
    for delivery_id in ids:
        enqueue_delivery(delivery_id, 0)
    return feedback


def revisit_due_leads(session: Session, *, today: date | None = None) -> int:
    """The sweeper's turn: recycled leads whose revisit date has come (today in ADMIN_TIME_ZONE) go back
    to nurture, committed, then `lead.stage_changed` goes to the destinations routing their new stage.
    Returns how many leads moved."""
    if today is None:
        today = datetime.now(UTC).astimezone(ZoneInfo(current_app.config["ADMIN_TIME_ZONE"])).date()
    leads = revisit.due(session, today=today)
    ids = [
        delivery.id
        for lead in leads
        for delivery in stage_event(
            session, lead=lead, change=revisit.revisit(session, lead=lead), feedback_url=feedback_url_for(lead.id)
        )
    ]
    session.commit()
    for delivery_id in ids:
        enqueue_delivery(delivery_id, 0)
    return len(leads)
