"""Leads: the list of people (one row per lead), its CSV export, and one lead's record."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as WerkzeugResponse

from app.admin import listing
from app.admin.blueprint import bp
from app.admin.downloads import csv_download
from app.admin.submissions import AUDIT_LABELS
from app.db import get_session
from app.leads import directory
from app.leads.record import engagement_now, export_leads, lead_record
from app.models import Lead, Owner, utcnow
from app.statuses import FeedbackOutcome

FILTERS = ("stage", "outcome", "source", "owner", "sla", "sort")
# Filters of the list of submissions this page used to be: a link carrying one goes there.
SUBMISSION_FILTERS = ("q", "verdict", "category", "form", "utm_source", "utm_campaign", "since", "until")


def _filters() -> tuple[directory.LeadFilters, dict[str, str]]:
    """The list's filters from the query string, and the same as plain values for links."""
    # NULs dropped: PostgreSQL raises on a NUL in a text parameter, and nothing stored contains one.
    values = {name: request.args.get(name, "").replace("\x00", "").strip()[:200] for name in FILTERS}
    if values["sort"] not in directory.SORTS:
        values["sort"] = ""  # the default order; an unknown one is not carried into links
    kept = {name: value for name, value in values.items() if value}
    filters = directory.LeadFilters(
        stage=values["stage"],
        outcome=values["outcome"],
        source=values["source"],
        owner=values["owner"],
        sla=values["sla"],
    )
    return filters, kept


def _moved(endpoint: str) -> WerkzeugResponse | None:
    """A link from when this was the list of submissions (it has one of their filters): sent there."""
    if any(request.args.get(name) for name in SUBMISSION_FILTERS):
        return redirect(f"{url_for(endpoint)}?{request.query_string.decode()}", 301)
    return None


@bp.get("/leads")
def leads() -> Any:
    """One row per person, highest first by the chosen order, a keyset page at a time; no count."""
    if (moved := _moved("admin.submissions")) is not None:
        return moved
    filters, kept = _filters()
    sort = kept.get("sort", "activity")
    db = get_session()
    current = directory.page(
        db,
        filters=filters,
        sort=sort,
        after=directory.Cursor.decode(request.args.get("after"), sort),
        before=directory.Cursor.decode(request.args.get("before"), sort),
        options=(selectinload(Lead.owner),),
    )
    now = utcnow()
    number = listing.page_number(request.args)
    return render_template(
        "admin/leads.html",
        rows=[(lead, engagement_now(lead, now).total) for lead in current.rows],
        number=number,
        pages=None,
        links=listing.links(current, kept, number),
        filters=kept,
        sorts=list(directory.SORTS),
        outcomes=list(FeedbackOutcome),
        owners=db.scalars(select(Owner).order_by(Owner.name)).all(),
        sla_states=list(directory.SLA_STATES),
    )


@bp.get("/leads.csv")
def leads_csv() -> Response | WerkzeugResponse:
    """The filtered leads as CSV, in the list's order, safe to open in a spreadsheet."""
    if (moved := _moved("admin.submissions_csv")) is not None:
        return moved
    filters, kept = _filters()
    db = get_session()
    return csv_download(
        lambda out: export_leads(db, filters=filters, sort=kept.get("sort", "activity"), out=out), "leads"
    )


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> str:
    """A lead's record: properties, answers, both scores explained, stage history, submissions,
    deliveries, sales feedback, and the timeline of all of it."""
    record = lead_record(get_session(), lead_id) or abort(404)
    return render_template("admin/lead.html", lead=record.lead, record=record, labels=AUDIT_LABELS)
