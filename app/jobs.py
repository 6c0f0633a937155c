"""RQ job functions. They take ids, run inside the worker's app context, and are idempotent."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

import screening
from app.db import session_scope
from app.deliveries import claim, record_attempt
from app.leads import classify
from app.models import RECEIVED, SCREENED, AuditEvent, Finding, Submission, utcnow
from app.queue import enqueue_delivery
from app.routing import feedback_token, route
from forms import FORM_KINDS
from screening import ACCEPTED
from screening.scoring import ScoringRules

if TYPE_CHECKING:
    from app.delivery import DeliverySettings

log = logging.getLogger(__name__)


def candidate_for(submission: Submission) -> screening.Candidate:
    """The screening view of a stored submission."""
    kind = submission.form.kind
    return screening.Candidate(
        email=submission.email, first_name=submission.first_name, last_name=submission.last_name,
        company=submission.company, job_title=submission.job_title, phone=submission.phone,
        country=submission.country, message=submission.message, ip=submission.ip,
        form_kind=kind, form_intent=FORM_KINDS[kind].INTENT if kind in FORM_KINDS else "",
        signals=dict(submission.signals or {}),
    )


def screening_context() -> screening.Context:
    """The context the worker built at start-up (lists, resolver, policy), or the defaults."""
    return current_app.extensions.get("leadsieve.screening_context") or screening.Context()


def screen_submission(submission_id: int) -> str:
    """Screen one received submission and store findings and verdict exactly once.

    The final UPDATE is guarded by `status = received`: if another worker got
    there first, this run's findings are rolled back and nothing changes.
    """
    with session_scope() as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            log.warning("screen_submission: submission %s does not exist", submission_id)
            return "missing"
        if submission.status != RECEIVED:
            return "already screened"
        result = screening.screen(candidate_for(submission), screening_context())
        claimed = session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status == RECEIVED)
            .values(status=SCREENED, verdict=result.verdict, reason_category=result.category,
                    score=result.score, screened_at=utcnow())
        ).rowcount
        if claimed != 1:
            session.rollback()
            return "already screened"
        session.add_all(
            Finding(submission_id=submission_id, code=f.code, category=f.category, weight=f.weight,
                    evidence=f.evidence)
            for f in result.findings
        )
        session.add(AuditEvent(actor="screening", action="screened", subject_type="submission",
                               subject_id=submission_id,
                               details={"verdict": result.verdict, "category": result.category,
                                        "score": result.score}))
        deliveries = []
        if result.verdict == ACCEPTED:
            session.refresh(submission)
            deliveries = accept(session, submission=submission, actor="classifier")
        session.commit()
    for delivery_id in deliveries:
        enqueue_delivery(delivery_id, 0)
    return result.verdict


def scoring_rules() -> ScoringRules:
    """Scoring rules from configuration."""
    config = current_app.config
    return ScoringRules.from_mapping({**config["SCORING_RULES"], "sql_threshold": config["SCORE_SQL_THRESHOLD"]})


def accept(session: Session, *, submission: Submission, actor: str) -> list[int]:
    """Classify an accepted submission and route it; returns the ids of new deliveries (enqueue after commit)."""
    lead = classify(session, submission=submission, rules=scoring_rules(), actor=actor)
    session.flush()
    config = current_app.config
    token = feedback_token(config["SECRET_KEY"], lead.id)
    deliveries = route(session, submission=submission, lead=lead,
                       feedback_url=f"{config['PUBLIC_BASE_URL']}/feedback/{token}")
    return [d.id for d in deliveries]


def delivery_settings() -> DeliverySettings:
    """Adapter settings from configuration."""
    from app.delivery import DeliverySettings

    config = current_app.config
    return DeliverySettings(timeout=config["DELIVERY_TIMEOUT_SECONDS"],
                            allowed_private_destinations=tuple(config["ALLOWED_PRIVATE_DESTINATIONS"]),
                            smtp_url=config["SMTP_URL"], smtp_from=config["SMTP_FROM"],
                            user_agent="leadsieve/0.1")


def deliver(delivery_id: int) -> str:
    """Send one delivery once; on a retryable failure schedule the next try, else dead-letter it."""
    from app.delivery import DestinationSpec
    from app.delivery import deliver as send

    with session_scope() as session:
        delivery = claim(session, delivery_id)
        if delivery is None:
            return "not due"
        destination = delivery.destination
        spec = DestinationSpec(kind=destination.kind, target=destination.target, secret=destination.secret,
                               options=dict(destination.options or {}))
        result = send(spec, delivery.payload, idempotency_key=delivery.idempotency_key,
                      settings=delivery_settings())
        delay = record_attempt(session, delivery, result, backoff=current_app.config["DELIVERY_BACKOFF"])
        status, attempts = delivery.status, delivery.attempts
    if delay is not None:
        enqueue_delivery(delivery_id, attempts, delay=delay)
    return status
