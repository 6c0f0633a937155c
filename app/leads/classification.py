"""The lead's journey: attach accepted submissions to one Lead per person, score, move stages forward.

`classify()` recomputes the lead from all its accepted, non-duplicate submissions (contact fields,
answers, form fills and findings alike), so running it twice (a retried job, an admin release)
gives the same lead and records no second stage change, and the score depends on the history, not
on which submission came last. The scoring itself is pure (screening/scoring.py); this module
loads the history, stores fit, engagement, breakdown and stage, and marks duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.leads.speed_to_lead import note_first_touch
from app.models import AuditEvent, Lead, LeadFeedback, ListEntry, StageChange, Submission, utcnow
from app.screening_context.learned_model import learn_from_feedback
from app.screening_context.lists import add_list_entry, remove_list_entry
from app.statuses import FeedbackOutcome, Stage, Verdict
from forms import FORM_KINDS
from screening.identity import lead_key
from screening.scoring import (
    Fill,
    FindingRef,
    ScoringRules,
    StageDecision,
    decide_stage,
    score_lead,
    stage_rank,
)

CONTACT = ("first_name", "last_name", "company", "job_title", "phone", "country")
# Audit actions by which a person let a held or rejected submission through: what held it is overruled.
APPROVALS = ("submission.approved", "submission.released")


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


def _lock(session: Session, lead: Lead) -> None:
    """Hold the lead's row until commit (PostgreSQL; SQLite's writer already holds the database), so two
    workers classifying one person's submissions at once run one after the other and the second sees
    the first: a double click is then one submission and a duplicate, never two forwarded ones."""
    session.execute(select(Lead.id).where(Lead.id == lead.id).with_for_update())
    session.refresh(lead)


def intent_of(submission: Submission) -> str:
    """The stage the submission's form kind asks for (a kind no longer known counts as a sign-up)."""
    kind = FORM_KINDS.get(submission.form.kind)
    return kind.INTENT if kind is not None else Stage.PROSPECT


def find_original(session: Session, *, submission: Submission, lead: Lead, window_seconds: int) -> Submission | None:
    """The same person's earlier-classified submission of the same form within the window, either side
    of this one's time (workers may take a double click's two posts in either order), if any."""
    if window_seconds <= 0:
        return None
    window = timedelta(seconds=window_seconds)
    return session.scalars(
        select(Submission)
        .where(
            Submission.lead_id == lead.id,
            Submission.id != submission.id,
            Submission.form_id == submission.form_id,
            Submission.verdict == Verdict.ACCEPTED,
            Submission.duplicate_of_id.is_(None),
            Submission.received_at >= submission.received_at - window,
            Submission.received_at <= submission.received_at + window,
        )
        .order_by(Submission.received_at, Submission.id)
        .limit(1)
    ).first()


def fill_of(submission: Submission, *, overruled: frozenset[str] = frozenset()) -> Fill:
    """The pure scoring view of one accepted submission."""
    return Fill(
        submission_id=submission.id,
        form=submission.form.slug,
        form_name=submission.form.name,
        kind=submission.form.kind,
        intent=intent_of(submission),
        at=submission.received_at,
        job_title=submission.job_title,
        company=submission.company,
        country=submission.country,
        answers=dict(submission.answers or {}),
        findings=tuple(FindingRef(f.code, f.category, f.evidence) for f in submission.findings),
        overruled=overruled,
        duplicate_of=submission.duplicate_of_id,
    )


def history_of(session: Session, lead: Lead) -> Sequence[Submission]:
    """The lead's accepted, non-duplicate submissions, oldest first, with their forms and findings."""
    return session.scalars(
        select(Submission)
        .where(
            Submission.lead_id == lead.id,
            Submission.verdict == Verdict.ACCEPTED,
            Submission.duplicate_of_id.is_(None),
        )
        .options(selectinload(Submission.form), selectinload(Submission.findings))
        .order_by(Submission.received_at, Submission.id)
    ).all()


def fills_of(session: Session, history: Sequence[Submission]) -> list[Fill]:
    """Fills for scoring: findings of the category that held a submission a person approved are overruled."""
    approved = set(
        session.scalars(
            select(AuditEvent.subject_id).where(
                AuditEvent.subject_type == "submission",
                AuditEvent.subject_id.in_([s.id for s in history]),
                AuditEvent.action.in_(APPROVALS),
            )
        )
    )
    return [
        fill_of(s, overruled=frozenset({s.reason_category}) if s.id in approved and s.reason_category else frozenset())
        for s in history
    ]


def classify(
    session: Session,
    *,
    submission: Submission,
    rules: ScoringRules,
    actor: str = "classifier",
    stage: str | None = None,
    note: str = "",
) -> Lead:
    """Attach an accepted submission to its lead; merge contact fields, score fit and engagement, and
    advance the stage. A repeat of the same form within `rules.duplicate_window_seconds` is linked to
    the first as its duplicate and changes nothing else.

    `stage` is a person's explicit choice (a reviewer approving "as MQL"): it is honoured over what
    the rules say, and automation leaves it until a later submission."""
    lead = get_or_create_lead(session, submission.email)
    _lock(session, lead)
    is_new = not session.scalars(select(StageChange.id).where(StageChange.lead_id == lead.id)).first()
    first_time = submission.lead_id != lead.id
    lead.last_activity_at = submission.received_at if is_new else max(lead.last_activity_at, submission.received_at)
    submission.lead_id = lead.id
    session.flush()
    if first_time and submission.duplicate_of_id is None:
        original = find_original(
            session, submission=submission, lead=lead, window_seconds=rules.duplicate_window_seconds
        )
        if original is not None:
            submission.duplicate_of_id = original.id
            session.add(
                AuditEvent(
                    actor=actor,
                    action="submission.duplicate",
                    subject_type="submission",
                    subject_id=submission.id,
                    details={"duplicate_of": original.id, "window_seconds": rules.duplicate_window_seconds},
                )
            )
    if submission.duplicate_of_id is not None and stage is None:
        submission.stage = lead.stage
        return lead

    history = history_of(session, lead)
    for past in history:  # oldest first, so the newest non-empty value wins
        for name in CONTACT:
            if getattr(past, name):
                setattr(lead, name, getattr(past, name))
    now = utcnow()
    card = score_lead(email=lead.email, fills=fills_of(session, history), now=now, rules=rules)
    lead.fit, lead.engagement, lead.score = card.fit.total, card.engagement.total, card.total
    lead.score_breakdown, lead.scored_at = card.as_dict(rules), now

    current = None if is_new else lead.stage
    if stage is not None:
        decision = _chosen(current, stage, actor=actor, note=note)
    elif lead.stage_set_at is not None and submission.received_at <= lead.stage_set_at:
        decision = StageDecision(lead.stage, None)  # a person's choice stands against what came before it
    else:
        this = fill_of(submission)
        decision = decide_stage(current=current, fill=this, fit=card.fit, engagement=card.engagement, rules=rules)
    if decision.changed:
        session.add(
            StageChange(
                lead_id=lead.id,
                submission_id=submission.id,
                from_stage=current,
                to_stage=decision.stage,
                reason=decision.reason or "",
                actor=actor,
            )
        )
        lead.stage = decision.stage
        lead.stage_set_by, lead.stage_set_at = (actor, now) if stage is not None else (None, None)
    elif stage is not None:
        lead.stage_set_by, lead.stage_set_at = actor, now  # confirmed as it is: pinned all the same
    if decision.reason:
        lead.stage_reason = decision.reason
    submission.stage = lead.stage
    lead.updated_at = now
    return lead


def _chosen(current: str | None, stage: str, *, actor: str, note: str) -> StageDecision:
    """A person's explicit stage: always honoured, recorded with who and why."""
    reason = f"set by reviewer {actor.removeprefix('reviewer ')}" + (f": {note}" if note else "")
    if current is None or stage != current:
        return StageDecision(stage, reason, changed=True)
    return StageDecision(stage, reason)


# What each outcome does to the stage. Forward outcomes move a lead along the funnel (or out of a side
# state) but never back down it; the others put it in a side state, which only a person does, with a reason.
FORWARD_OUTCOMES: dict[str, str] = {
    FeedbackOutcome.ACCEPTED: Stage.SAL,
    FeedbackOutcome.MEETING_HELD: Stage.OPPORTUNITY,
    FeedbackOutcome.WON: Stage.CUSTOMER,
    FeedbackOutcome.ALREADY_CUSTOMER: Stage.CUSTOMER,
}
SIDE_OUTCOMES: dict[str, str] = {
    FeedbackOutcome.NOT_A_FIT: Stage.DISQUALIFIED,
    FeedbackOutcome.SPAM: Stage.DISQUALIFIED,
    FeedbackOutcome.DUPLICATE: Stage.DISQUALIFIED,
    FeedbackOutcome.BAD_TIMING: Stage.RECYCLED,
    FeedbackOutcome.NO_BUDGET: Stage.RECYCLED,
    FeedbackOutcome.LOST: Stage.RECYCLED,
}
# Outcomes that say sales has talked to the person: the first one stops the speed-to-lead clock.
TOUCHES = frozenset(
    {FeedbackOutcome.CONTACTED, FeedbackOutcome.MEETING_HELD, FeedbackOutcome.WON, FeedbackOutcome.LOST}
)
LABELS: dict[str, str] = {
    FeedbackOutcome.ACCEPTED: "Accepted",
    FeedbackOutcome.CONTACTED: "Contacted",
    FeedbackOutcome.MEETING_HELD: "Meeting held",
    FeedbackOutcome.WON: "Won",
    FeedbackOutcome.LOST: "Lost",
    FeedbackOutcome.NOT_A_FIT: "Rejected: not a fit",
    FeedbackOutcome.BAD_TIMING: "Rejected: bad timing",
    FeedbackOutcome.NO_BUDGET: "Rejected: no budget",
    FeedbackOutcome.DUPLICATE: "Rejected: duplicate",
    FeedbackOutcome.ALREADY_CUSTOMER: "Rejected: already a customer",
    FeedbackOutcome.SPAM: "Spam",
}
SPAM_LIST = "spam_feedback_email"


class FeedbackError(ValueError):
    """An outcome or revisit date that cannot be recorded; the message says why."""


def feedback_stage(current: str, outcome: str) -> str | None:
    """The stage `outcome` moves a lead at `current` to, or None for no change."""
    if outcome in SIDE_OUTCOMES:
        target = SIDE_OUTCOMES[outcome]
    elif outcome in FORWARD_OUTCOMES:
        target = FORWARD_OUTCOMES[outcome]
        if stage_rank(current) >= stage_rank(target):
            return None  # already there or further on: a late "accepted" does not undo a won deal
    else:
        return None
    return target if target != current else None


def record_feedback(
    session: Session,
    *,
    lead: Lead,
    outcome: str,
    note: str = "",
    source: str,
    revisit_on: date | None = None,
) -> LeadFeedback:
    """Store what sales said and act on it: the stage it implies (audited, with the outcome as reason),
    the first touch, a recycled lead's revisit date; `spam` holds the person's next submissions and
    puts the domain forward for review, a later other outcome lifts the hold. Every use is recorded."""
    if not FeedbackOutcome.has(outcome):
        raise FeedbackError(f"outcome must be one of {', '.join(FeedbackOutcome)}")
    if revisit_on is not None and SIDE_OUTCOMES.get(outcome) != Stage.RECYCLED:
        raise FeedbackError("a revisit date goes with a recycling outcome (bad_timing, no_budget, lost)")
    now = utcnow()
    note = note[:2000]
    before = lead.stage
    stage = feedback_stage(before, outcome)
    reason = f"sales feedback via {source}: {LABELS[outcome]}" + (f": {note[:200]}" if note else "")
    if stage is not None:
        session.add(
            StageChange(
                lead_id=lead.id, submission_id=None, from_stage=before, to_stage=stage, reason=reason, actor=source
            )
        )
        lead.stage = stage
    if stage is not None or outcome in SIDE_OUTCOMES:
        lead.stage_reason = reason
        # A person's decision: automation leaves it against anything received before it.
        lead.stage_set_by, lead.stage_set_at = source, now
    if SIDE_OUTCOMES.get(outcome) == Stage.RECYCLED:
        lead.revisit_on = revisit_on
    if outcome in TOUCHES and lead.first_touch_at is None:
        lead.first_touch_at = now
        note_first_touch(session, lead=lead, at=now)
    feedback = LeadFeedback(
        lead_id=lead.id, outcome=outcome, note=note, source=source, stage=stage, revisit_on=revisit_on, at=now
    )
    session.add(feedback)
    lead.outcome, lead.outcome_at, lead.last_activity_at = outcome, now, now
    session.add(
        AuditEvent(
            actor=source,
            action="lead.feedback",
            subject_type="lead",
            subject_id=lead.id,
            details={
                "outcome": outcome,
                "note": note[:200],
                "from_stage": before,
                "to_stage": stage,
                "revisit_on": revisit_on.isoformat() if revisit_on else None,
            },
        )
    )
    _spam_hold(session, lead=lead, spam=outcome == FeedbackOutcome.SPAM, actor=source)
    learn_from_feedback(session, lead=lead, outcome=outcome, actor=source)  # spam teaches spam, the rest ham
    session.flush()
    return feedback


def _spam_hold(session: Session, *, lead: Lead, spam: bool, actor: str) -> None:
    """Spam: the person's next submissions are held (a list screening reads) and the domain is put
    forward for review. Any other outcome later lifts the hold sales put on."""
    entry = session.scalars(select(ListEntry).where(ListEntry.kind == SPAM_LIST, ListEntry.value == lead.email)).first()
    if spam:
        if entry is None:
            add_list_entry(session, kind=SPAM_LIST, value=lead.email, actor=actor, note=f"lead {lead.id}")
        session.add(
            AuditEvent(
                actor=actor,
                action="domain.review_suggested",
                subject_type="lead",
                subject_id=lead.id,
                details={"domain": lead.email.rpartition("@")[2], "why": "sales marked the lead as spam"},
            )
        )
    elif entry is not None:
        remove_list_entry(session, entry_id=entry.id, actor=actor, note="sales reported another outcome")


__all__ = [
    "FeedbackError",
    "classify",
    "feedback_stage",
    "find_original",
    "get_or_create_lead",
    "record_feedback",
    "stage_rank",
]
