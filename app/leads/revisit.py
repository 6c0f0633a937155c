"""A recycled lead's revisit date: on that day it goes back to marketing's nurture.

Sales recycles a lead for bad timing, no budget or a lost deal, perhaps with a date to look again
(app/leads/classification.py record_feedback). When the date arrives the lead is moved back to the stage
it had before it reached sales, MQL (or prospect if it never was one), with a reason naming the date and
why it was recycled; destinations that route that stage hear `lead.stage_changed`. It is not handed to
sales again: a new sales request that qualifies makes it an SQL as any MQL's would. The move carries
sales' decision out, so it is recorded as theirs (the date), never as automation moving a lead back.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Lead, StageChange, utcnow
from app.statuses import Stage
from screening.scoring import stage_rank

ACTOR = "revisit date"
# Leads moved in one sweep turn at most; the rest wait for the next turn.
BATCH = 200


def due(session: Session, *, today: date, limit: int = BATCH) -> list[Lead]:
    """Recycled leads whose revisit date is today or past, oldest date first (a partial index on
    `revisit_on` keeps this a short read however many leads there are)."""
    return list(
        session.scalars(
            select(Lead)
            .where(
                Lead.revisit_on.is_not(None),
                Lead.revisit_on <= today,
                Lead.stage == Stage.RECYCLED,
                Lead.erased_at.is_(None),
            )
            .order_by(Lead.revisit_on, Lead.id)
            .limit(limit)
        )
    )


def stage_before_recycling(session: Session, lead: Lead) -> str:
    """MQL for a lead that had been an MQL or further before it was recycled, else prospect."""
    before = session.scalar(
        select(StageChange.from_stage)
        .where(StageChange.lead_id == lead.id, StageChange.to_stage == Stage.RECYCLED)
        .order_by(StageChange.id.desc())
        .limit(1)
    )
    return Stage.MQL if stage_rank(before) >= stage_rank(Stage.MQL) else Stage.PROSPECT


def revisit(session: Session, *, lead: Lead) -> StageChange:
    """Move one due lead back to nurture (audited); its revisit date is used up. Flushes only."""
    now = utcnow()
    target = stage_before_recycling(session, lead)
    day = lead.revisit_on.isoformat() if lead.revisit_on else ""
    reason = f"revisit date {day} reached: back to nurture" + (
        f" (recycled: {lead.stage_reason[:200]})" if lead.stage_reason else ""
    )
    change = StageChange(
        lead_id=lead.id, submission_id=None, from_stage=lead.stage, to_stage=target, reason=reason, actor=ACTOR
    )
    session.add(change)
    session.add(
        AuditEvent(
            actor=ACTOR,
            action="lead.revisited",
            subject_type="lead",
            subject_id=lead.id,
            details={"revisit_on": day, "from_stage": lead.stage, "to_stage": target},
        )
    )
    lead.stage, lead.stage_reason, lead.revisit_on = target, reason, None
    lead.stage_set_by, lead.stage_set_at = ACTOR, now
    session.flush()
    return change


__all__ = ["ACTOR", "due", "revisit", "stage_before_recycling"]
