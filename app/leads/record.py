"""A lead's record: what one page (or one CSV row) says about a person, gathered from its tables.

Enough to answer "why is this an SQL, who owns it, has anyone called, what did sales say" at once: merged
properties and answers, both scores with their lines, stage history, submissions, deliveries, feedback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from app.leads.directory import SORTS, LeadFilters
from app.models import AuditEvent, Delivery, Lead, LeadFeedback, Owner, StageChange, Submission, utcnow
from app.reporting.export import iso_utc, write_csv
from screening.scoring import Score, engagement_at


def merged_answers(submissions: Iterable[Any]) -> dict[str, Any]:
    """Every question's latest non-empty answer, from submissions oldest first."""
    merged: dict[str, Any] = {}
    for submission in submissions:
        merged.update({key: value for key, value in (submission.answers or {}).items() if value not in (None, "")})
    return merged


def touch_sources(submissions: Sequence[Any]) -> tuple[str, str, str, str]:
    """(first source, first campaign, last source, last campaign): the utm values of the person's first and
    latest submission, from submissions oldest first."""
    if not submissions:
        return "", "", "", ""
    first, last = submissions[0], submissions[-1]
    return first.utm_source, first.utm_campaign, last.utm_source, last.utm_campaign


def engagement_now(lead: Any, now: datetime) -> Score:
    """Engagement decayed to `now` (Lead.engagement_score, for a lead object or a row of its columns)."""
    if not lead.score_breakdown:
        return Score(lead.engagement)
    return engagement_at(lead.score_breakdown, now)


@dataclass(frozen=True)
class LeadRecord:
    """Everything the lead page shows."""

    lead: Lead
    engagement: Score
    fit_lines: list[dict[str, Any]]
    answers: dict[str, Any]
    submissions: list[Submission]  # oldest first
    changes: list[StageChange]
    deliveries: list[Delivery]
    feedback: list[LeadFeedback]
    audit: list[AuditEvent]  # reviewer decisions on its submissions and other decisions about the lead

    @property
    def events(self) -> list[tuple[datetime, str, Any]]:
        """The timeline, newest first."""
        found: list[tuple[datetime, str, Any]] = [(s.received_at, "submission", s) for s in self.submissions]
        found += [(a.at, "audit", a) for a in self.audit]
        found += [(c.at, "stage", c) for c in self.changes]
        found += [(d.created_at, "delivery", d) for d in self.deliveries]
        found += [(f.at, "feedback", f) for f in self.feedback]
        found.sort(key=lambda event: event[0], reverse=True)
        return found


def lead_record(session: Session, lead_id: int, *, now: datetime | None = None) -> LeadRecord | None:
    """The record of one lead, or None when there is no such lead."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        return None
    submissions = list(
        session.scalars(
            select(Submission)
            .where(Submission.lead_id == lead_id)
            .order_by(Submission.received_at, Submission.id)
            .options(selectinload(Submission.form), selectinload(Submission.findings))
        )
    )
    deliveries = session.scalars(
        select(Delivery)
        .join(Submission, Submission.id == Delivery.submission_id)
        .where(Submission.lead_id == lead_id)
        .order_by(Delivery.id)
        .options(selectinload(Delivery.destination), selectinload(Delivery.attempt_log))
    ).all()
    feedback = session.scalars(
        select(LeadFeedback).where(LeadFeedback.lead_id == lead_id).order_by(LeadFeedback.at, LeadFeedback.id)
    ).all()
    # Sales feedback has its own entries; the rest of the lead's audit and its submissions' decisions show.
    audit = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(AuditEvent.subject_type == "submission", AuditEvent.subject_id.in_([s.id for s in submissions])),
                and_(
                    AuditEvent.subject_type == "lead",
                    AuditEvent.subject_id == lead_id,
                    AuditEvent.action != "lead.feedback",
                ),
            )
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return LeadRecord(
        lead=lead,
        engagement=engagement_now(lead, now or utcnow()),
        fit_lines=list((lead.score_breakdown or {}).get("fit") or []),
        answers=merged_answers(submissions),
        submissions=submissions,
        changes=list(lead.stage_changes),
        deliveries=list(deliveries),
        feedback=list(feedback),
        audit=list(audit),
    )


# --- CSV export ----------------------------------------------------------------------------------------

CSV_HEADER = [
    "lead_id",
    "email",
    "first_name",
    "last_name",
    "company",
    "job_title",
    "phone",
    "country",
    "stage",
    "stage_reason",
    "fit",
    "engagement",
    "score",
    "owner",
    "owner_email",
    "sla_due_at",
    "sla_breached_at",
    "outcome",
    "outcome_at",
    "sales_first_touch_at",
    "first_touch_source",
    "first_touch_campaign",
    "last_touch_source",
    "last_touch_campaign",
    "submissions",
    "answers",
    "created_at",
    "last_activity_at",
]
# Only what the file holds, as plain rows: no ORM objects.
CSV_COLUMNS = (
    Lead.id,
    Lead.email,
    Lead.first_name,
    Lead.last_name,
    Lead.company,
    Lead.job_title,
    Lead.phone,
    Lead.country,
    Lead.stage,
    Lead.stage_reason,
    Lead.fit,
    Lead.engagement,
    Lead.score_breakdown,
    Owner.name.label("owner"),
    Owner.email.label("owner_email"),
    Lead.sla_due_at,
    Lead.sla_breached_at,
    Lead.outcome,
    Lead.outcome_at,
    Lead.first_touch_at,
    Lead.created_at,
    Lead.last_activity_at,
)
EXPORT_BATCH = 2000


def _histories(session: Session, lead_ids: list[int]) -> dict[int, list[Any]]:
    """The submissions of these leads (the columns the export needs), oldest first, by lead."""
    found: dict[int, list[Any]] = {lead_id: [] for lead_id in lead_ids}
    rows = session.execute(
        select(Submission.lead_id, Submission.answers, Submission.utm_source, Submission.utm_campaign)
        .where(Submission.lead_id.in_(lead_ids))
        .order_by(Submission.received_at, Submission.id)
    )
    for row in rows:
        found[row.lead_id].append(row)
    return found


def _rows(session: Session, batch: Sequence[Any], now: datetime) -> list[list[Any]]:
    histories = _histories(session, [row.id for row in batch])
    out = []
    for row in batch:
        history = histories[row.id]
        engagement = engagement_now(row, now).total
        answers = merged_answers(history)
        out.append(
            [
                row.id,
                row.email,
                row.first_name,
                row.last_name,
                row.company,
                row.job_title,
                row.phone,
                row.country,
                row.stage,
                row.stage_reason,
                row.fit,
                engagement,
                row.fit + engagement,
                row.owner or "",
                row.owner_email or "",
                iso_utc(row.sla_due_at),
                iso_utc(row.sla_breached_at),
                row.outcome or "",
                iso_utc(row.outcome_at),
                iso_utc(row.first_touch_at),
                *touch_sources(history),
                len(history),
                json.dumps(answers, sort_keys=True, ensure_ascii=False) if answers else "",
                iso_utc(row.created_at),
                iso_utc(row.last_activity_at),
            ]
        )
    return out


def export_leads(
    session: Session, *, filters: LeadFilters, sort: str, out: IO[str], now: datetime | None = None
) -> int:
    """Write the filtered leads as CSV to `out`, in the list's order; returns the rows written.

    EXPORT_BATCH leads at a time (a server-side cursor on PostgreSQL), each batch's submissions in one
    more query; every text cell made safe for spreadsheets, every time in ISO 8601 with its zone."""
    column = SORTS.get(sort, Lead.last_activity_at)
    query = (
        select(*CSV_COLUMNS)
        .outerjoin(Owner, Owner.id == Lead.owner_id)
        .where(*filters.conditions())
        .order_by(column.desc(), Lead.id.desc())
        .execution_options(yield_per=EXPORT_BATCH)
    )
    moment = now or utcnow()
    with session.connection().execute(query) as result:
        batches: Iterator[list[list[Any]]] = (_rows(session, batch, moment) for batch in result.partitions())
        return write_csv(out, CSV_HEADER, batches, first=str)
