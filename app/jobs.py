"""RQ job functions. They take ids, run inside the worker's app context, and are idempotent."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import update

import screening
from app.db import session_scope
from app.models import RECEIVED, SCREENED, AuditEvent, Finding, Submission, utcnow
from forms import FORM_KINDS

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
        session.commit()
        return result.verdict
