"""Reviewer decisions on screened submissions: approve, reject, release, change stage.

Every decision is an audit event. Approving (or releasing a rejected one) runs
the deferred classification and forwarding exactly once: the verdict changes
through a guarded UPDATE, so a double click or two reviewers cannot run it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.db import rowcount
from app.flows import accept
from app.models import AuditEvent, Finding, Lead, StageChange, Submission, utcnow
from app.screening_context.learned_model import learn
from app.screening_context.lists import add_list_entry, is_freemail, normalize_value
from app.statuses import Stage, SubmissionStatus, Verdict
from screening.learned import HAM, SPAM
from screening.model import SIDE_STAGES
from screening.scoring import stage_rank

REJECT_CATEGORIES = ("spam", "invalid", "competitor", "student", "job_seeker", "vendor", "duplicate", "other")


class ReviewError(ValueError):
    """A decision that cannot be applied as asked."""


@dataclass
class Approval:
    """What an approval changed: how many submissions, and the deliveries to enqueue after commit."""

    changed: int = 0
    deliveries: list[int] = field(default_factory=list)
    # Of `changed`, how many came out of the spam folder (released) rather than the queue (approved).
    released: int = 0


def approve(
    session: Session, *, submission_ids: Sequence[int], actor: str, note: str = "", stage: str | None = None
) -> Approval:
    """Accept held (or release rejected) submissions; a submission already decided is skipped, not counted."""
    if stage is not None and not Stage.has(stage):
        raise ReviewError(f"stage must be one of {', '.join(Stage)}")
    deliveries: list[int] = []
    changed_count = released = 0
    for submission_id in submission_ids:
        previous = session.scalar(select(Submission.verdict).where(Submission.id == submission_id))
        changed = rowcount(
            session.execute(
                update(Submission)
                .where(Submission.id == submission_id, Submission.verdict.in_((Verdict.HELD, Verdict.REJECTED)))
                .values(verdict=Verdict.ACCEPTED, dns_held_at=None)
            )
        )
        if changed != 1:
            continue
        changed_count += 1
        submission = session.get(Submission, submission_id)
        assert submission is not None
        session.refresh(submission)
        action = "submission.released" if previous == Verdict.REJECTED else "submission.approved"
        released += previous == Verdict.REJECTED
        session.add(
            AuditEvent(
                actor=actor,
                action=action,
                subject_type="submission",
                subject_id=submission_id,
                details={"from": previous, "note": note},
            )
        )
        learn(session, submission_id=submission_id, label=HAM, source=action, actor=actor)  # the learned spam model
        if submission.lead_id is None:
            # The reviewer's stage goes into classification, before routing: set afterwards, a demo request
            # already classified SQL (and routed as one) could never be approved "as MQL".
            deliveries += accept(session, submission=submission, actor=f"reviewer {actor}", stage=stage, note=note)
        elif stage is not None:
            set_stage(session, submission=submission, stage=stage, actor=actor, note=note)
    session.flush()
    return Approval(changed=changed_count, deliveries=deliveries, released=released)


def set_stage(session: Session, *, submission: Submission, stage: str, actor: str, note: str = "") -> None:
    """Move the submission's lead forward to `stage`, or to a side state (recycled, disqualified: a
    person's choice, never automation's), recording who and why; a funnel stage never moves back."""
    lead = session.get(Lead, submission.lead_id) if submission.lead_id else None
    if lead is None or stage == lead.stage:
        return
    if stage not in SIDE_STAGES and stage_rank(stage) <= stage_rank(lead.stage):
        return
    reason = f"set by reviewer {actor}" + (f": {note}" if note else "")
    session.add(
        StageChange(
            lead_id=lead.id,
            submission_id=submission.id,
            from_stage=lead.stage,
            to_stage=stage,
            reason=reason,
            actor=actor,
        )
    )
    lead.stage = submission.stage = stage
    lead.stage_reason, lead.stage_set_by, lead.stage_set_at = reason, actor, utcnow()


def reject(session: Session, *, submission_ids: Sequence[int], actor: str, category: str, note: str = "") -> int:
    """Reject held submissions with a category; returns how many changed."""
    if not category:
        raise ReviewError(f"Choose why they are rejected ({', '.join(REJECT_CATEGORIES)}): nothing was rejected.")
    if category not in REJECT_CATEGORIES:
        raise ReviewError(f"category must be one of {', '.join(REJECT_CATEGORIES)}")
    count = 0
    for submission_id in submission_ids:
        changed = rowcount(
            session.execute(
                update(Submission)
                .where(Submission.id == submission_id, Submission.verdict == Verdict.HELD)
                .values(verdict=Verdict.REJECTED, reason_category=category, dns_held_at=None)
            )
        )
        if changed == 1:
            count += 1
            session.add(
                AuditEvent(
                    actor=actor,
                    action="submission.rejected",
                    subject_type="submission",
                    subject_id=submission_id,
                    details={"category": category, "note": note},
                )
            )
            if category == "spam":  # teaches the learned spam model (app/screening_context/learned_model.py)
                learn(session, submission_id=submission_id, label=SPAM, source="submission.rejected", actor=actor)
    session.flush()
    return count


@dataclass
class Listed:
    """What "always allow / block this domain" put on a list."""

    domains: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


def list_senders(session: Session, *, submission_ids: Sequence[int], allow: bool, actor: str, note: str = "") -> Listed:
    """Allow or block the selected submissions' domains; for a free-mail domain, only the address.

    Allowlisting gmail.com would let every gmail address through; the reviewer meant this person.
    """
    prefix = "allowed" if allow else "blocked"
    listed = Listed()
    emails = sorted(
        {e.lower() for e in session.scalars(select(Submission.email).where(Submission.id.in_(submission_ids)))}
    )
    for email in emails:
        domain = email.rpartition("@")[2]
        if is_freemail(domain):
            value, kind, bucket = normalize_value(f"{prefix}_email", email), f"{prefix}_email", listed.emails
        else:
            value, kind, bucket = normalize_value(f"{prefix}_domain", domain), f"{prefix}_domain", listed.domains
        if value not in bucket:
            add_list_entry(session, kind=kind, value=value, actor=actor, note=note or "from the screening queue")
            bucket.append(value)
    return listed


def assign(session: Session, *, submission_ids: Sequence[int], user_id: int | None, actor: str) -> int:
    """Take held submissions (or give them back with `user_id=None`) so two reviewers do not work the
    same ones; returns how many changed. Audited."""
    changed = 0
    for submission_id in dict.fromkeys(submission_ids):
        if rowcount(
            session.execute(
                update(Submission)
                .where(Submission.id == submission_id, Submission.verdict == Verdict.HELD)
                .values(assigned_to_id=user_id)
            )
        ):
            changed += 1
            session.add(
                AuditEvent(
                    actor=actor,
                    action="submission.assigned" if user_id is not None else "submission.unassigned",
                    subject_type="submission",
                    subject_id=submission_id,
                    details={"user_id": user_id} if user_id is not None else {},
                )
            )
    session.flush()
    return changed


# Audit actions after which a submission's verdict is screening's again, not a reviewer's.
SCREENING_ACTIONS = ("screened", "submission.rescreen", "submission.dns_retry")


def decided_by_reviewer(session: Session, submission_id: int) -> bool:
    """Whether the submission's current rejection is a reviewer's decision (not screening's): automation
    must never undo it; only an explicit reopen may."""
    latest = session.scalar(
        select(AuditEvent.action)
        .where(
            AuditEvent.subject_type == "submission",
            AuditEvent.subject_id == submission_id,
            AuditEvent.action.in_(("submission.rejected", *SCREENING_ACTIONS)),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    return latest == "submission.rejected"


def reopen_for_screening(
    session: Session,
    *,
    submission_id: int,
    actor: str,
    action: str = "submission.rescreen",
    details: dict[str, object] | None = None,
    reopen_decision: bool = False,
) -> bool:
    """Put a held or rejected submission back to `received` (findings cleared, audited) so it is
    screened again with today's lists, rules and DNS. The caller commits, then enqueues it.

    A reviewer's rejection is left alone unless `reopen_decision` (an explicit act, audited as such)."""
    if not reopen_decision and decided_by_reviewer(session, submission_id):
        return False
    if reopen_decision:
        details = {**(details or {}), "reopened_decision": True}
    changed = rowcount(
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.verdict.in_((Verdict.HELD, Verdict.REJECTED)))
            .values(
                status=SubmissionStatus.RECEIVED,
                verdict=None,
                reason_category=None,
                score=None,
                screened_at=None,
                dns_held_at=None,
            )
        )
    )
    if not changed:
        return False
    session.execute(delete(Finding).where(Finding.submission_id == submission_id))
    session.add(
        AuditEvent(
            actor=actor, action=action, subject_type="submission", subject_id=submission_id, details=details or {}
        )
    )
    return True
