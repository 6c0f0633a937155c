"""Events about a lead that no new submission carries: sales feedback (`lead.feedback`) and a stage
change made later (a recycled lead's revisit date reached, `lead.stage_changed`).

A fill's events are routed with its submission (app/forwarding/routing.py). These are deliveries too,
filed under the lead's latest accepted submission with an `event_key` of their own ("feedback:12",
"stage:34"), so each is sent once per destination, retried, replayed, shown on the lead's page and
erased with the person like any other delivery; the event id is derived from the same key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.forwarding.routing import add_deliveries, build_payload, envelope, matching_destinations
from app.models import Delivery, Lead, LeadFeedback, StageChange, Submission
from app.statuses import EventType, Verdict


def latest_submission(session: Session, lead: Lead) -> Submission | None:
    """The lead's newest accepted submission not erased: the one its later events are filed under."""
    return session.scalars(
        select(Submission)
        .where(Submission.lead_id == lead.id, Submission.verdict == Verdict.ACCEPTED, Submission.erased_at.is_(None))
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(1)
    ).first()


def file_event(
    session: Session,
    *,
    lead: Lead,
    event: str,
    key: str,
    stages: Iterable[str],
    extra: dict[str, Any],
    feedback_url: str,
) -> list[Delivery]:
    """One pending delivery of `event` per active destination that chose it and whose rule covers one of
    `stages` and the lead's latest form; none twice for the same key. Returns the new ones (enqueue them
    after commit). A lead with no accepted submission left (all erased) has nobody to tell."""
    submission = latest_submission(session, lead)
    if submission is None:
        return []
    chosen = {
        d.id: d
        for stage in dict.fromkeys(stages)
        for d in matching_destinations(session, stage=stage, form_slug=submission.form.slug, event=event)
    }
    if not chosen:
        return []
    sent = set(
        session.scalars(
            select(Delivery.destination_id).where(Delivery.submission_id == submission.id, Delivery.event_key == key)
        )
    )
    payload = envelope(event, {**build_payload(submission, lead, feedback_url=feedback_url), **extra}, key=key)
    return add_deliveries(
        session, submission_id=submission.id, destination_ids=sorted(set(chosen) - sent), payload=payload, event_key=key
    )


def feedback_event(
    session: Session, *, lead: Lead, feedback: LeadFeedback, before: str, label: str, feedback_url: str
) -> list[Delivery]:
    """`lead.feedback` for what sales just reported, to destinations that chose it and route the lead's
    stage before the outcome (the hand-off they received) or after it (recycled and disqualified leads:
    marketing destinations)."""
    details = {
        "outcome": feedback.outcome,
        "label": label,
        "note": feedback.note,
        "source": feedback.source,
        "from_stage": before,
        "to_stage": feedback.stage,
        "revisit_on": feedback.revisit_on.isoformat() if feedback.revisit_on else None,
        "at": feedback.at.isoformat() + "Z",
    }
    return file_event(
        session,
        lead=lead,
        event=EventType.FEEDBACK,
        key=f"feedback:{feedback.id}",
        stages=(before, lead.stage),
        extra={"feedback": details},
        feedback_url=feedback_url,
    )


def stage_event(session: Session, *, lead: Lead, change: StageChange, feedback_url: str) -> list[Delivery]:
    """`lead.stage_changed` for a change no submission made, to destinations that route the new stage."""
    return file_event(
        session,
        lead=lead,
        event=EventType.STAGE_CHANGED,
        key=f"stage:{change.id}",
        stages=(change.to_stage,),
        extra={"stage_change": {"from_stage": change.from_stage, "to_stage": change.to_stage, "reason": change.reason}},
        feedback_url=feedback_url,
    )


__all__ = ["feedback_event", "file_event", "latest_submission", "stage_event"]
