"""`/feedback/<token>` (a page with four buttons) and `POST /api/feedback/<token>` (JSON).

The signed token is the credential: it names one lead and expires, so these
routes need no login and no session cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from app.db import get_session
from app.forwarding.routing import FeedbackTokenError, read_feedback_token
from app.leads.classification import record_feedback
from app.models import Lead
from app.statuses import FeedbackOutcome

bp = Blueprint("feedback", __name__)

LABELS = {"won": "Won", "lost": "Lost", "not_a_fit": "Not a fit", "spam": "Spam"}


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


@bp.route("/feedback/<token>", methods=["GET", "POST"])
def page(token: str) -> Any:
    """Show the lead and the outcome buttons; record the one clicked."""
    lead, error = _lead(token)
    if lead is None:
        return render_template("feedback/page.html", error=error, lead=None, labels=LABELS), 403
    saved = None
    if request.method == "POST":
        outcome = request.form.get("outcome", "")
        if not FeedbackOutcome.has(outcome):
            return render_template(
                "feedback/page.html", lead=lead, labels=LABELS, error="Choose one of the outcomes."
            ), 400
        saved = record_feedback(
            get_session(), lead=lead, outcome=outcome, note=request.form.get("note", "")[:2000], source="feedback link"
        )
        get_session().commit()
    return render_template("feedback/page.html", lead=lead, labels=LABELS, saved=saved, error=None)


@bp.post("/api/feedback/<token>")
def api(token: str) -> Any:
    """JSON: {"outcome": "won"|"lost"|"not_a_fit"|"spam", "note": "..."}."""
    lead, error = _lead(token)
    if lead is None:
        return jsonify({"error": "Forbidden", "message": error}), 403
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not FeedbackOutcome.has(data.get("outcome")):
        return jsonify(
            {"error": "Bad Request", "fields": {"outcome": [f"Must be one of {', '.join(FeedbackOutcome)}."]}}
        ), 400
    note = str(data["note"]) if isinstance(data.get("note"), str) else ""
    feedback = record_feedback(get_session(), lead=lead, outcome=data["outcome"], note=note, source="feedback api")
    get_session().commit()
    return jsonify({"lead_id": lead.id, "outcome": feedback.outcome}), 200
