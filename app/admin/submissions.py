"""Submissions: the filterable list of screened submissions, its CSV export, and one submission's page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import IO, Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app import actions
from app.actions import replay_deliveries
from app.admin import listing
from app.admin.blueprint import bp
from app.admin.downloads import csv_download
from app.db import get_session
from app.leads.review import REJECT_CATEGORIES, decided_by_reviewer
from app.models import AuditEvent, Form, Lead, Submission
from app.reporting.export import FORMULA_STARTS, write_flagged_csv
from app.statuses import DeliveryStatus, SubmissionStatus

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


def _conditions(session: Session, filters: dict[str, str]) -> list[Any]:
    """SQL conditions for the filters, each one an index can answer in `received_at` order (app/models.py);
    `stage` is the lead's, so the query must join `leads`."""
    found: list[Any] = [Submission.status != SubmissionStatus.RECEIVED, *listing.search(session, filters.get("q", ""))]
    if stage := filters.get("stage"):
        found.append(Lead.stage == stage)
    if verdict := filters.get("verdict"):
        found.append(Submission.verdict == verdict)
    if category := filters.get("category"):
        found.append(Submission.reason_category == category)
    if form := filters.get("form"):
        found.append(Submission.form_id == listing.form_id(session, form))
    for name in ("utm_source", "utm_campaign"):
        if filters.get(name):
            found.append(getattr(Submission, name) == filters[name])
    if (since := _date(filters.get("since", ""))) is not None:
        found.append(Submission.received_at >= since)
    if (until := _date(filters.get("until", ""))) is not None:
        found.append(Submission.received_at < until + timedelta(days=1))
    return found


def _filtered(session: Session, filters: dict[str, str]) -> Select[Any]:
    return select(Submission).outerjoin(Lead, Lead.id == Submission.lead_id).where(*_conditions(session, filters))


@bp.get("/submissions")
def submissions() -> str:
    """Screened submissions with their lead's stage, a keyset page at a time; no count of every match (it
    would read them all), only of a list that fits on one page."""
    filters = _filters()
    db = get_session()
    query = _filtered(db, filters)
    after, before = listing.cursors(request.args)
    current = listing.page(
        db,
        query.options(selectinload(Submission.form), selectinload(Submission.lead)),
        descending=True,
        after=after,
        before=before,
    )
    number = listing.page_number(request.args)
    links = listing.links(current, filters, number)
    forms = db.scalars(select(Form).order_by(Form.name)).all()
    return render_template(
        "admin/submissions.html",
        rows=current.rows,
        total=None if links else len(current.rows),  # counted only when it is all on this page
        number=number,
        pages=None if links else 1,
        page_size=listing.PAGE_SIZE,
        links=links,
        filters=filters,
        forms=forms,
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
    "answers",
]
# Only what the file holds, as plain rows: no ORM objects, no eager loads.
CSV_COLUMNS = (
    Submission.received_at,
    Submission.email,
    Submission.first_name,
    Submission.last_name,
    Submission.company,
    Submission.job_title,
    Submission.phone,
    Submission.country,
    Form.slug,
    Submission.verdict,
    Submission.reason_category,
    Lead.stage,
    Lead.score,
    Submission.utm_source,
    Submission.utm_medium,
    Submission.utm_campaign,
    Submission.message,
    # The form fields' answers as one JSON object (it starts with "{", so never a formula); empty when none.
    func.nullif(cast(Submission.answers, Text), "{}"),
)
# Whether any text cell of a row could be a formula: after its spaces, it starts with a trigger character.
# Computed by the database (the same in PostgreSQL and SQLite), so only those rows are checked cell by cell.
MAYBE_FORMULA = or_(
    *(
        func.substr(func.ltrim(column, " "), 1, 1).in_(sorted(FORMULA_STARTS))
        for column in CSV_COLUMNS
        if column is not Submission.received_at and column is not Lead.score
    )
)
EXPORT_BATCH = 5000


def export_submissions(session: Session, filters: dict[str, str], out: IO[str]) -> int:
    """Write the filtered submissions as CSV to `out`, newest first; returns the rows written.

    Core rows of the needed columns (no ORM objects, which were a third of the time), EXPORT_BATCH at a
    time from a server-side cursor on PostgreSQL, written one batch per writerows(). PostgreSQL plans it
    for all rows (hash joins and one sort), not for the first few as it does a cursor by default."""
    query = (
        select(*CSV_COLUMNS, MAYBE_FORMULA)
        .select_from(Submission)
        .join(Form, Form.id == Submission.form_id)
        .outerjoin(Lead, Lead.id == Submission.lead_id)
        .where(*_conditions(session, filters))
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .execution_options(yield_per=EXPORT_BATCH)
    )
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")  # until the request's commit
    with connection.execute(query) as result:
        return write_flagged_csv(out, CSV_HEADER, result.partitions())


@bp.get("/submissions.csv")
def submissions_csv() -> Response:
    """The filtered list as CSV, safe to open in a spreadsheet, written whole before it is sent."""
    filters = _filters()
    return csv_download(lambda out: export_submissions(get_session(), filters, out), "submissions")


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
