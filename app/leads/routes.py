"""`/feedback/<token>` (a page with the outcomes), `POST /api/feedback/<token>` (JSON, the link's token) and
`POST /api/leads/feedback` (JSON for CRMs, a bearer token scoped to feedback).

The signed link token is the credential for the first two: it names one lead and expires, so they need
no login and no session cookie; a link may be used again, and every use is recorded. The CRM endpoint
names the lead by id or e-mail and authenticates with an API token (`leadsieve tokens create`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from app.actions import record_sales_feedback
from app.db import get_session
from app.forwarding.routing import FeedbackTokenError, read_feedback_token
from app.leads.api_tokens import TokenError, authenticate
from app.leads.classification import LABELS, FeedbackError
from app.models import Lead
from app.statuses import FeedbackOutcome
from screening.identity import lead_key

bp = Blueprint("feedback", __name__)


def _lead(token: str) -> tuple[Lead | None, str | None]:
    config = current_app.config
    try:
        lead_id = read_feedback_token(
            config["SECRET_KEY"],
            token,
            max_age=config["FEEDBACK_LINK_MAX_AGE"],
            fallbacks=config.get("SECRET_KEY_FALLBACKS", ()),
        )
    except FeedbackTokenError as exc:
        return None, str(exc)
    lead = get_session().get(Lead, lead_id)
    if lead is None:
        abort(404)
    return lead, None


def _revisit(value: object) -> date | None:
    """An ISO date (YYYY-MM-DD) or nothing; FeedbackError for anything else."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise FeedbackError("revisit_on must be a date like 2027-03-01") from exc


def _outcome_error(message: str | None = None) -> Any:
    return jsonify(
        {"error": "Bad Request", "fields": {"outcome": [message or f"Must be one of {', '.join(FeedbackOutcome)}."]}}
    ), 400


@bp.route("/feedback/<token>", methods=["GET", "POST"])
def page(token: str) -> Any:
    """Show the lead and the outcome buttons; record the one clicked (each use of the link is recorded)."""
    lead, error = _lead(token)
    if lead is None:
        return render_template("feedback/page.html", error=error, lead=None, labels=LABELS), 403
    saved = None
    if request.method == "POST":
        outcome = request.form.get("outcome", "")
        try:
            if not FeedbackOutcome.has(outcome):
                raise FeedbackError("Choose one of the outcomes.")
            revisit = _revisit(request.form.get("revisit_on")) if outcome in RECYCLING else None
            saved = record_sales_feedback(
                get_session(),
                lead=lead,
                outcome=outcome,
                note=request.form.get("note", "")[:2000],
                source="feedback link",
                revisit_on=revisit,
            )
        except FeedbackError as exc:
            return render_template("feedback/page.html", lead=lead, labels=LABELS, error=str(exc)), 400
    return render_template("feedback/page.html", lead=lead, labels=LABELS, saved=saved, error=None)


# Outcomes that recycle a lead and so may carry a revisit date.
RECYCLING = (FeedbackOutcome.BAD_TIMING, FeedbackOutcome.NO_BUDGET, FeedbackOutcome.LOST)


def _record_json(lead: Lead, data: dict[str, Any], *, source: str) -> Any:
    """Record a JSON outcome for `lead`; 400 names the field at fault."""
    outcome = data.get("outcome")
    if outcome == "rejected":  # {"outcome": "rejected", "reason": "bad_timing"} is the same as "bad_timing"
        outcome = data.get("reason")
    if not FeedbackOutcome.has(outcome):
        return _outcome_error()
    note = str(data["note"]) if isinstance(data.get("note"), str) else ""
    try:
        feedback = record_sales_feedback(
            get_session(),
            lead=lead,
            outcome=str(outcome),
            note=note,
            source=source,
            revisit_on=_revisit(data.get("revisit_on")),
        )
    except FeedbackError as exc:
        return jsonify({"error": "Bad Request", "message": str(exc)}), 400
    return feedback


@bp.post("/api/feedback/<token>")
def api(token: str) -> Any:
    """JSON: {"outcome": "<one of FeedbackOutcome>", "note": "...", "revisit_on": "YYYY-MM-DD"}."""
    lead, error = _lead(token)
    if lead is None:
        return jsonify({"error": "Forbidden", "message": error}), 403
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _outcome_error()
    feedback = _record_json(lead, data, source="feedback api")
    if isinstance(feedback, tuple):
        return feedback
    return jsonify({"lead_id": lead.id, "outcome": feedback.outcome}), 200


@bp.post("/api/leads/feedback")
def crm_api() -> Any:
    """JSON for CRM workflows: {"lead_id": 12 | "email": "...", "outcome": ..., "note", "revisit_on"},
    with `Authorization: Bearer <token>` scoped to feedback."""
    session = get_session()
    try:
        token = authenticate(session, authorization=request.headers.get("Authorization"), scope="feedback")
    except TokenError as exc:
        name = "Unauthorized" if exc.status == 401 else "Forbidden"
        return jsonify({"error": name, "message": str(exc)}), exc.status
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _outcome_error()
    lead = None
    if isinstance(data.get("lead_id"), int):
        lead = session.get(Lead, data["lead_id"])
    elif isinstance(data.get("email"), str) and "@" in data["email"]:
        lead = session.scalars(select(Lead).where(Lead.email == lead_key(data["email"]))).first()
    else:
        return jsonify({"error": "Bad Request", "fields": {"lead_id": ["Give lead_id or email."]}}), 400
    if lead is None:
        return jsonify({"error": "Not Found", "message": "No lead with that id or e-mail."}), 404
    feedback = _record_json(lead, data, source=f"api token {token.name}"[:64])
    if isinstance(feedback, tuple):
        return feedback
    return jsonify({"lead_id": lead.id, "outcome": feedback.outcome, "stage": lead.stage}), 200
