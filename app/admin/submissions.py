"""Leads: the filterable list of screened submissions, CSV export, lead and submission detail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, stream_with_context, url_for
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from app import actions
from app.actions import replay_deliveries
from app.admin.blueprint import bp
from app.db import get_session, session_scope
from app.leads.review import REJECT_CATEGORIES, decided_by_reviewer
from app.models import (
    AuditEvent,
    Delivery,
    Form,
    Lead,
    LeadFeedback,
    StageChange,
    Submission,
)
from app.reporting.export import csv_lines, iso_utc
from app.statuses import DeliveryStatus, SubmissionStatus

PAGE_SIZE = 50
AUDIT_LABELS = {
    "submission.approved": "Approved",
    "submission.released": "Released from the spam folder",
    "submission.rejected": "Rejected",
    "submission.rescreen": "Sent to screening again",
    "domain.review_suggested": "Domain put forward for review",
}
FILTERS = ("q", "stage", "verdict", "category", "form", "utm_source", "utm_campaign", "since", "until")


def _filters() -> dict[str, str]:
    # NULs dropped: PostgreSQL raises on a NUL in a text parameter, and nothing stored contains one.
    values = {name: request.args.get(name, "").replace("\x00", "").strip()[:200] for name in FILTERS}
    return {name: value for name, value in values.items() if value}


def _date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own % and _ taken literally (escape character: \\)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(filters: dict[str, str]) -> Select[Any]:
    query = (
        select(Submission)
        .outerjoin(Lead, Lead.id == Submission.lead_id)
        .where(Submission.status != SubmissionStatus.RECEIVED)
    )
    if q := filters.get("q"):
        like = _like(q.lower())
        query = query.where(
            or_(
                func.lower(Submission.email).like(like, escape="\\"),
                func.lower(Submission.company).like(like, escape="\\"),
                func.lower(Submission.first_name + " " + Submission.last_name).like(like, escape="\\"),
            )
        )
    if stage := filters.get("stage"):
        query = query.where(Lead.stage == stage)
    if verdict := filters.get("verdict"):
        query = query.where(Submission.verdict == verdict)
    if category := filters.get("category"):
        query = query.where(Submission.reason_category == category)
    if form := filters.get("form"):
        query = query.join(Form, Form.id == Submission.form_id).where(Form.slug == form)
    for name in ("utm_source", "utm_campaign"):
        if filters.get(name):
            query = query.where(getattr(Submission, name) == filters[name])
    if (since := _date(filters.get("since", ""))) is not None:
        query = query.where(Submission.received_at >= since)
    if (until := _date(filters.get("until", ""))) is not None:
        query = query.where(Submission.received_at < until + timedelta(days=1))
    return query


@bp.get("/leads")
def leads() -> str:
    """Screened submissions with their lead's stage; filters and pagination run in SQL."""
    filters = _filters()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    db = get_session()
    query = _filtered(filters)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.scalars(
        query.options(selectinload(Submission.form), selectinload(Submission.lead))
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    forms = db.scalars(select(Form).order_by(Form.name)).all()
    return render_template(
        "admin/leads.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE, filters=filters, forms=forms
    )


CSV_HEADER = [
    "received_at",
    "email",
    "first_name",
    "last_name",
    "company",
    "job_title",
    "phone",
    "country",
    "form",
    "verdict",
    "category",
    "stage",
    "score",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "message",
]


def _csv_lines(query: Any) -> Iterator[str]:
    """The export, streamed in batches of 500 rows (one SELECT plus its eager loads each), with no row limit.
    Its own session: the request's is closed once the response starts."""
    statement = query.order_by(Submission.received_at.desc()).execution_options(yield_per=500)
    # On PostgreSQL yield_per is a server-side cursor: closed here even when the download is cut short.
    with session_scope() as session, session.scalars(statement) as rows:
        yield from csv_lines(
            CSV_HEADER,
            (
                [
                    iso_utc(s.received_at),
                    s.email,
                    s.first_name,
                    s.last_name,
                    s.company,
                    s.job_title,
                    s.phone,
                    s.country,
                    s.form.slug,
                    s.verdict or "",
                    s.reason_category or "",
                    s.lead.stage if s.lead else "",
                    s.lead.score if s.lead else "",
                    s.utm_source,
                    s.utm_medium,
                    s.utm_campaign,
                    s.message,
                ]
                for s in rows
            ),
        )


@bp.get("/leads.csv")
def leads_csv() -> Response:
    """The filtered list as CSV, safe to open in a spreadsheet."""
    query = _filtered(_filters()).options(selectinload(Submission.form), selectinload(Submission.lead))
    return Response(
        stream_with_context(_csv_lines(query)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=leadsieve-leads.csv"},
    )


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> str:
    """A lead's timeline: submissions and findings, stage changes, deliveries, sales feedback."""
    db = get_session()
    person = db.get(Lead, lead_id) or abort(404)
    submissions = db.scalars(
        select(Submission)
        .where(Submission.lead_id == lead_id)
        .options(selectinload(Submission.form), selectinload(Submission.findings))
    ).all()
    changes = db.scalars(select(StageChange).where(StageChange.lead_id == lead_id)).all()
    deliveries = db.scalars(
        select(Delivery)
        .join(Submission, Submission.id == Delivery.submission_id)
        .where(Submission.lead_id == lead_id)
        .options(selectinload(Delivery.destination), selectinload(Delivery.attempt_log))
    ).all()
    feedback = db.scalars(select(LeadFeedback).where(LeadFeedback.lead_id == lead_id)).all()
    # Reviewer decisions on its submissions, with their reasons (sales feedback has its own entry).
    audit = db.scalars(
        select(AuditEvent).where(
            or_(
                and_(AuditEvent.subject_type == "submission", AuditEvent.subject_id.in_([s.id for s in submissions])),
                and_(
                    AuditEvent.subject_type == "lead",
                    AuditEvent.subject_id == lead_id,
                    AuditEvent.action != "lead.feedback",
                ),
            )
        )
    ).all()
    events: list[tuple[datetime, str, Any]] = [(s.received_at, "submission", s) for s in submissions]
    events += [(a.at, "audit", a) for a in audit]
    events += [(c.at, "stage", c) for c in changes]
    events += [(d.created_at, "delivery", d) for d in deliveries]
    events += [(f.at, "feedback", f) for f in feedback]
    events.sort(key=lambda e: e[0], reverse=True)
    return render_template("admin/lead.html", lead=person, events=events, labels=AUDIT_LABELS)


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int) -> str:
    """One submission with its findings and decisions."""
    db = get_session()
    item = db.get(Submission, submission_id) or abort(404)
    audit = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "submission", AuditEvent.subject_id == submission_id)
        .order_by(AuditEvent.at)
    ).all()
    return render_template(
        "admin/submission.html",
        s=item,
        audit=audit,
        categories=REJECT_CATEGORIES,
        reviewer_decision=decided_by_reviewer(db, submission_id),
    )


@bp.post("/submissions/<int:submission_id>/rescreen")
def rescreen(submission_id: int) -> Any:
    """Screen a held or rejected submission again with today's lists and rules."""
    db = get_session()
    reopen = request.form.get("reopen_decision") == "1"
    if actions.rescreen(db, submission_ids=[submission_id], actor=g.user.email, reopen_decision=reopen):
        flash("Reviewer's decision reopened; queued for screening again." if reopen else "Queued for screening again.")
    else:
        flash("Only held or rejected submissions can be screened again.", "error")
    return redirect(url_for("admin.submission", submission_id=submission_id))


@bp.post("/deliveries/<int:delivery_id>/replay")
def replay_delivery(delivery_id: int) -> Any:
    """Send a dead or failed delivery again (same idempotency key)."""
    db = get_session()
    if replay_deliveries(db, delivery_ids=[delivery_id], actor=g.user.email):
        flash("Delivery queued again.")
    else:
        flash(f"Only {DeliveryStatus.DEAD} or {DeliveryStatus.FAILED} deliveries can be replayed.", "error")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/admin") else url_for("admin.leads"))
