"""The leads list: one row per person, filtered and ordered in SQL, a keyset page at a time.

Each order (last activity, engagement as decayed now, fit) reads its page from an index on (order, id),
alone or after the stage, outcome or owner it is filtered by (app/models.py), from where the previous page
ended: never an OFFSET and never a count of every match, so a page costs about the same at any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import Lead, Submission

PAGE_SIZE = 50
# The orders a list can have, newest or highest first; the first is the default.
SORTS: dict[str, InstrumentedAttribute[Any]] = {
    "activity": Lead.last_activity_at,
    "engagement": Lead.engagement_key,
    "fit": Lead.fit,
}


# Speed to lead (app/leads/sla.py): where a lead's first-touch clock is. "open" is the SLA check's partial
# index (ix_leads_sla_open), "breached" starts from ix_leads_sla_breached_at.
SLA_STATES: dict[str, ColumnElement[bool]] = {
    "open": and_(Lead.sla_due_at.is_not(None), Lead.first_touch_at.is_(None), Lead.sla_breached_at.is_(None)),
    "breached": or_(Lead.sla_breached_at.is_not(None), Lead.first_touch_at > Lead.sla_due_at),
    "met": and_(Lead.sla_breached_at.is_(None), Lead.first_touch_at <= Lead.sla_due_at),
    "none": Lead.sla_due_at.is_(None),
}


@dataclass(frozen=True)
class LeadFilters:
    """What the list is narrowed to; empty strings filter nothing."""

    stage: str = ""
    outcome: str = ""  # a FeedbackOutcome, or "none": no feedback yet
    source: str = ""  # a utm_source any of the person's submissions came with
    owner: str = ""  # an owner's id, or "none": nobody owns it
    sla: str = ""  # a key of SLA_STATES

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on `leads` for these filters (an unknown owner or SLA state matches nothing)."""
        found: list[ColumnElement[bool]] = []
        if self.owner == "none":
            found.append(Lead.owner_id.is_(None))
        elif self.owner:
            found.append(Lead.owner_id == (int(self.owner) if self.owner.isdigit() else 0))
        if self.sla:
            found.append(SLA_STATES[self.sla] if self.sla in SLA_STATES else false())
        if self.stage:
            found.append(Lead.stage == self.stage)
        if self.outcome == "none":
            found.append(Lead.outcome.is_(None))
        elif self.outcome:
            found.append(Lead.outcome == self.outcome)
        if self.source:
            # Through ix_submissions_lead_id for each listed lead, or ix_submissions_utm_source_received_at
            # when the source is rare: the planner picks.
            found.append(exists().where(Submission.lead_id == Lead.id, Submission.utm_source == self.source))
        return found


@dataclass(frozen=True)
class Cursor:
    """A lead's place in one order: its value there, then its id."""

    value: Any
    id: int

    def encode(self) -> str:
        """For a link: "<value>_<id>", the value in ISO 8601 for a time."""
        value = self.value.isoformat() if isinstance(self.value, datetime) else repr(self.value)
        return f"{value}_{self.id}"

    @classmethod
    def decode(cls, text: str | None, sort: str) -> Cursor | None:
        """From a link for the order `sort`; anything malformed is no cursor (the first page)."""
        value, _, number = (text or "").rpartition("_")
        try:
            if sort == "activity":
                return cls(datetime.fromisoformat(value).replace(tzinfo=None), int(number))
            return cls(float(value) if sort == "engagement" else int(value), int(number))
        except ValueError:
            return None


@dataclass(frozen=True)
class Page:
    """One page of leads, with the cursors of the pages around it (None: there is none)."""

    rows: list[Lead]
    after: Cursor | None
    before: Cursor | None


def _beyond(column: Any, cursor: Cursor, *, descending: bool) -> ColumnElement[bool]:
    """Rows after `cursor` in (column, id) order; the column's comparison alone bounds the index range."""
    if descending:
        return and_(column <= cursor.value, or_(column < cursor.value, Lead.id < cursor.id))
    return and_(column >= cursor.value, or_(column > cursor.value, Lead.id > cursor.id))


def page(
    session: Session,
    *,
    filters: LeadFilters,
    sort: str = "activity",
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
    options: tuple[Any, ...] = (),
) -> Page:
    """The page after `after`, or the one before `before`, or the first, highest first by `sort`.

    Reads size + 1 rows: the extra one only says whether there is a further page."""
    column = SORTS.get(sort, Lead.last_activity_at)
    query: Select[Any] = select(Lead).where(*filters.conditions()).options(*options)

    def cursor(lead: Lead) -> Cursor:
        return Cursor(getattr(lead, column.key), lead.id)

    if before is not None and after is None:
        found = list(
            session.scalars(
                query.where(_beyond(column, before, descending=False))
                .order_by(column.asc(), Lead.id.asc())
                .limit(size + 1)
            )
        )
        rows = list(reversed(found[:size]))
        more = len(found) > size
        return Page(rows, cursor(rows[-1]) if rows else None, cursor(rows[0]) if rows and more else None)
    if after is not None:
        query = query.where(_beyond(column, after, descending=True))
    found = list(session.scalars(query.order_by(column.desc(), Lead.id.desc()).limit(size + 1)))
    rows = found[:size]
    return Page(
        rows,
        cursor(rows[-1]) if len(found) > size else None,
        cursor(rows[0]) if rows and after is not None else None,
    )
