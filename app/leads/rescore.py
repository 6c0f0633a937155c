"""What new scoring rules do to the leads that already exist: a preview that writes nothing, and the
re-score run that applies them in batches. Both plan each lead with `plan_rescore`
(screening/qualification.py), so the preview's counts are what saving then does.

What a re-score does (docs/leads-and-scoring.md, "Changing the rules"):

- every lead's fit, engagement and breakdown are recomputed under the new rules (erased leads aside:
  their submissions were blanked, their scores stay for the funnel);
- a stage moves only forward: the stage the rules give the lead's fills, replayed in order, if it is
  higher (a stage change whose actor is the re-score and whose reason names the rules' version);
- a stage the rules would now *lower* is left as it is and recorded as a suggestion
  (`lead.rescore_suggested` in the audit log) for a person to act on;
- a stage a person set (`stage_set_by`), the side states (recycled, disqualified) and the stages only
  sales' feedback reaches (SAL, opportunity, customer) are never changed.

A promotion is not forwarded: a rule change must not page sales with a flood of old leads; a
destination that wants them takes them with "Send existing leads".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.leads.classification import fills_of
from app.models import AuditEvent, Lead, RescoreRun, ScoringRuleSet, StageChange, Submission, utcnow
from app.statuses import RescoreStatus, Verdict
from screening.qualification import PINNED, PROMOTE, SUGGEST, RescorePlan, plan_rescore, rules_from_stored
from screening.scoring import Fill, ScoringRules

BATCH = 200
SAMPLE = 12
SUGGESTED = "lead.rescore_suggested"


# Erased leads keep their stage and scores for the funnel; their blanked submissions would score nothing.
_LIVE = Lead.erased_at.is_(None)


def count_leads(session: Session) -> int:
    """Leads a re-score looks at (erased ones are left alone)."""
    return session.scalar(select(func.count()).select_from(Lead).where(_LIVE)) or 0


def _batches(session: Session, *, after_id: int = 0, lock: bool = False) -> Iterator[Sequence[Lead]]:
    """Live leads in id order, `BATCH` at a time (locked until commit when `lock`, as classify does)."""
    while True:
        query = select(Lead).where(_LIVE, Lead.id > after_id).order_by(Lead.id).limit(BATCH)
        leads = session.scalars(query.with_for_update() if lock else query).all()
        if not leads:
            return
        yield leads
        if len(leads) < BATCH:
            return
        after_id = leads[-1].id


def _fills(session: Session, leads: Sequence[Lead]) -> dict[int, list[Fill]]:
    """Each lead's accepted, non-duplicate fills, oldest first, in two statements for the whole batch."""
    submissions = session.scalars(
        select(Submission)
        .where(
            Submission.lead_id.in_([lead.id for lead in leads]),
            Submission.verdict == Verdict.ACCEPTED,
            Submission.duplicate_of_id.is_(None),
        )
        .options(selectinload(Submission.form), selectinload(Submission.findings))
        .order_by(Submission.received_at, Submission.id)
    ).all()
    by_lead: dict[int, list[Fill]] = {lead.id: [] for lead in leads}
    for submission, fill in zip(submissions, fills_of(session, submissions), strict=True):
        by_lead[submission.lead_id or 0].append(fill)
    return by_lead


def _plans(
    session: Session, leads: Sequence[Lead], *, rules: ScoringRules, now: datetime
) -> list[tuple[Lead, RescorePlan]]:
    fills = _fills(session, leads)
    return [
        (
            lead,
            plan_rescore(
                email=lead.email,
                current=lead.stage,
                set_by_person=lead.stage_set_by is not None,
                fills=fills[lead.id],
                now=now,
                rules=rules,
            ),
        )
        for lead in leads
    ]


@dataclass(frozen=True)
class Example:
    """One lead in the preview's sample."""

    lead_id: int
    email: str
    action: str
    current: str
    target: str
    reason: str
    fit: tuple[int, int]
    engagement: tuple[int, int]


@dataclass
class Preview:
    """What saving `rules` would do now, computed without writing: promotions and suggestions by
    (from, to), leads whose scores change, pinned leads, and a sample of each kind of move."""

    leads: int = 0
    promotions: Counter[tuple[str, str]] = field(default_factory=Counter)
    suggestions: Counter[tuple[str, str]] = field(default_factory=Counter)
    rescored: int = 0
    pinned: int = 0
    sample: list[Example] = field(default_factory=list)

    @property
    def promoted(self) -> int:
        """Leads whose stage would move forward."""
        return sum(self.promotions.values())

    @property
    def suggested(self) -> int:
        """Leads the rules would move back: recorded as suggestions, not moved."""
        return sum(self.suggestions.values())


def preview(session: Session, *, rules: ScoringRules, now: datetime | None = None) -> Preview:
    """Plan every live lead under `rules` and count; nothing is written."""
    now = now or utcnow()
    result = Preview()
    for leads in _batches(session):
        for lead, plan in _plans(session, leads, rules=rules, now=now):
            result.leads += 1
            if (plan.card.fit.total, plan.card.engagement.total) != (lead.fit, lead.engagement_score(now).total):
                result.rescored += 1
            if plan.action == PINNED:
                result.pinned += 1
            elif plan.action in (PROMOTE, SUGGEST):
                moves = result.promotions if plan.action == PROMOTE else result.suggestions
                moves[(plan.current, plan.target)] += 1
                if len(result.sample) < SAMPLE:
                    result.sample.append(
                        Example(
                            lead_id=lead.id,
                            email=lead.email,
                            action=plan.action,
                            current=plan.current,
                            target=plan.target,
                            reason=plan.reason,
                            fit=(lead.fit, plan.card.fit.total),
                            engagement=(lead.engagement_score(now).total, plan.card.engagement.total),
                        )
                    )
    return result


def start_run(session: Session, *, rule_set: ScoringRuleSet, actor: str) -> RescoreRun:
    """A queued run for `rule_set` over every live lead; the caller commits, then queues the job."""
    run = RescoreRun(rule_set_id=rule_set.id, status=RescoreStatus.QUEUED, total=count_leads(session), created_by=actor)
    session.add(run)
    session.flush()
    return run


def latest_run(session: Session) -> RescoreRun | None:
    """The newest run, for the page's progress."""
    return session.scalars(select(RescoreRun).order_by(RescoreRun.id.desc()).limit(1)).first()


def _newest_rule_set_id(session: Session) -> int | None:
    return session.scalar(select(func.max(ScoringRuleSet.id)))


def rescore_batch(session: Session, *, run_id: int, now: datetime | None = None) -> bool:
    """Apply the run's rules to the next batch of leads (rows locked until the caller commits); True
    while there is more to do. A finished run does nothing; a run whose rules were replaced meanwhile
    stops as superseded (the newer run covers every lead)."""
    run = session.scalars(select(RescoreRun).where(RescoreRun.id == run_id).with_for_update()).first()
    if run is None or run.status in (RescoreStatus.DONE, RescoreStatus.SUPERSEDED):
        return False
    if _newest_rule_set_id(session) != run.rule_set_id:
        run.status, run.finished_at = RescoreStatus.SUPERSEDED, utcnow()
        return False
    rule_set = session.get(ScoringRuleSet, run.rule_set_id)
    assert rule_set is not None  # the run cascades with its rule set
    rules = rules_from_stored(rule_set.rules)
    now = now or utcnow()
    run.status = RescoreStatus.RUNNING
    leads = next(_batches(session, after_id=run.last_lead_id, lock=True), [])
    suggested_before = _suggested(session, leads, rule_set.id)
    actor = f"rescore v{rule_set.id}"
    for lead, plan in _plans(session, leads, rules=rules, now=now):
        _apply(session, lead, plan, now=now, rules=rules, actor=actor, rule_set=rule_set)
        if plan.action == PROMOTE:
            run.promoted += 1
        elif plan.action == SUGGEST and lead.id not in suggested_before:
            session.add(
                AuditEvent(
                    actor=actor,
                    action=SUGGESTED,
                    subject_type="lead",
                    subject_id=lead.id,
                    details={"rule_set": rule_set.id, "from": plan.current, "to": plan.target, "reason": plan.reason},
                )
            )
            run.suggested += 1
    run.done += len(leads)
    run.total = max(run.total, run.done)
    if leads:
        run.last_lead_id = leads[-1].id
    more = len(leads) == BATCH
    if not more:
        run.status, run.finished_at = RescoreStatus.DONE, utcnow()
    session.flush()
    return more


def _suggested(session: Session, leads: Sequence[Lead], rule_set_id: int) -> set[int]:
    """Leads already given a suggestion under this rule set (a re-run records none twice)."""
    if not leads:
        return set()
    rows = session.execute(
        select(AuditEvent.subject_id, AuditEvent.details).where(
            AuditEvent.action == SUGGESTED,
            AuditEvent.subject_type == "lead",
            AuditEvent.subject_id.in_([lead.id for lead in leads]),
        )
    ).all()
    found: set[int] = set()
    for subject, details in rows:
        if isinstance(subject, int) and isinstance(details, dict) and details.get("rule_set") == rule_set_id:
            found.add(subject)
    return found


def _apply(
    session: Session,
    lead: Lead,
    plan: RescorePlan,
    *,
    now: datetime,
    rules: ScoringRules,
    actor: str,
    rule_set: ScoringRuleSet,
) -> None:
    """Store the new scores; move the stage only on a promotion, with a reason naming the rules."""
    card = plan.card
    lead.fit, lead.engagement, lead.score = card.fit.total, card.engagement.total, card.total
    lead.score_breakdown, lead.scored_at = card.as_dict(rules), now
    if plan.action != PROMOTE:
        return
    reason = f"re-scored under the rules {rule_set.created_by} saved (v{rule_set.id}): {plan.reason}"
    session.add(
        StageChange(
            lead_id=lead.id, submission_id=None, from_stage=lead.stage, to_stage=plan.target, reason=reason, actor=actor
        )
    )
    lead.stage, lead.stage_reason = plan.target, reason


__all__ = [
    "BATCH",
    "Preview",
    "count_leads",
    "latest_run",
    "preview",
    "rescore_batch",
    "start_run",
]
