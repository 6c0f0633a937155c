"""The lead's journey: attach accepted submissions to one Lead per person, score, move stages forward.

`classify()` recomputes the lead from all its accepted submissions (contact fields,
answers, form fills and risk findings alike), so running it twice (a retried job, an
admin release) gives the same lead and records no second stage change, and the score
depends on the history, not on which submission came last.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import AuditEvent, Finding, Lead, LeadFeedback, StageChange, Submission, utcnow
from app.statuses import FeedbackOutcome, Stage, Verdict
from forms import FORM_KINDS
from screening.identity import lead_key
from screening.scoring import ScoringRules, decide_stage, score_lead

CONTACT = ("first_name", "last_name", "company", "job_title", "phone", "country")


def get_or_create_lead(session: Session, email: str) -> Lead:
    """The lead for this address; two workers racing to create it end with one row."""
    key = lead_key(email)
    lead = session.scalars(select(Lead).where(Lead.email == key)).first()
    if lead is not None:
        return lead
    try:
        with session.begin_nested():
            lead = Lead(email=key, stage=Stage.PROSPECT)
            session.add(lead)
    except IntegrityError:
        lead = session.scalars(select(Lead).where(Lead.email == key)).one()
    return lead


def classify(session: Session, *, submission: Submission, rules: ScoringRules, actor: str = "classifier") -> Lead:
    """Attach an accepted submission to its lead; merge contact fields, score, and advance the stage."""
    lead = get_or_create_lead(session, submission.email)
    is_new = not session.scalars(select(StageChange.id).where(StageChange.lead_id == lead.id)).first()
    submission.lead_id = lead.id
    session.flush()
    history = session.scalars(
        select(Submission)
        .where(Submission.lead_id == lead.id, Submission.verdict == Verdict.ACCEPTED)
        .order_by(Submission.received_at, Submission.id)
    ).all()
    answers: dict[str, str] = {}
    for past in history:  # oldest first, so the newest non-empty value wins
        for name in CONTACT:
            if getattr(past, name):
                setattr(lead, name, getattr(past, name))
        answers.update({k: v for k, v in (past.answers or {}).items() if v})
    # Risk from every accepted submission, each code once: a free-mail or role-address penalty seen on an
    # earlier fill stays, so the score is a function of the lead's history and never depends on which fill
    # came last.
    risk_codes = session.scalars(
        select(Finding.code).where(Finding.submission_id.in_([past.id for past in history])).distinct()
    ).all()
    score = score_lead(
        form_kinds=[past.form.kind for past in history],
        job_title=lead.job_title,
        answers=answers,
        risk_codes=risk_codes,
        rules=rules,
    )
    lead.score = score.total
    intent = FORM_KINDS[submission.form.kind].INTENT
    decision = decide_stage(
        current=None if is_new else lead.stage,
        intent=intent,
        form_name=submission.form.name,
        score=score.total,
        rules=rules,
    )
    if decision.reason:
        session.add(
            StageChange(
                lead_id=lead.id,
                submission_id=submission.id,
                from_stage=None if is_new else lead.stage,
                to_stage=decision.stage,
                reason=decision.reason,
                actor=actor,
            )
        )
        lead.stage = decision.stage
    submission.stage = lead.stage
    lead.updated_at = utcnow()
    return lead


def record_feedback(session: Session, *, lead: Lead, outcome: str, note: str = "", source: str) -> LeadFeedback:
    """Store what sales said; `spam` puts the lead's domain forward for review."""
    if not FeedbackOutcome.has(outcome):
        raise ValueError(f"outcome must be one of {', '.join(FeedbackOutcome)}")
    feedback = LeadFeedback(lead_id=lead.id, outcome=outcome, note=note[:2000], source=source)
    session.add(feedback)
    lead.outcome, lead.outcome_at = outcome, utcnow()
    session.add(
        AuditEvent(
            actor=source,
            action="lead.feedback",
            subject_type="lead",
            subject_id=lead.id,
            details={"outcome": outcome, "note": note[:200]},
        )
    )
    if outcome == "spam":
        domain = lead.email.rpartition("@")[2]
        session.add(
            AuditEvent(
                actor=source,
                action="domain.review_suggested",
                subject_type="lead",
                subject_id=lead.id,
                details={"domain": domain, "why": "sales marked the lead as spam"},
            )
        )
    session.flush()
    return feedback
