"""The admin blueprint object and its access rules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for

from app.accounts.sessions import SessionLimits, check_session
from app.db import get_session
from app.models import utcnow
from app.statuses import DeliveryStatus, Stage, SubmissionStatus, Verdict

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Endpoints reachable without signing in.
PUBLIC_ENDPOINTS = {"admin.login", "admin.login_code", "admin.forgot_password", "admin.reset_password"}
# The Flask session key of the server-side session's token (app/accounts/sessions.py).
SESSION_TOKEN = "sid"
ENDED = {
    "idle": "You were signed out after {idle} minutes without activity. Please sign in again.",
    "expired": "Your session reached its time limit. Please sign in again.",
    "signed out": "Your session has ended. Please sign in again.",
}


@bp.context_processor
def _status_words() -> dict[str, Any]:
    """Templates compare against the same status words as the code (app/statuses.py)."""
    return {
        "Verdict": Verdict,
        "Stage": Stage,
        "DeliveryStatus": DeliveryStatus,
        "SubmissionStatus": SubmissionStatus,
        "explain_screening": explain_screening,
    }


def explain_screening(submission: Any) -> str:
    """Screening's one-line why ("held: uncertain 60 ≥ 50"), from the stored findings and the policy
    configured now (screening.pipeline.explain: pure, so nothing extra is stored); '' before screening."""
    if submission.verdict is None:
        return ""
    from app.screening_context.builder import policy_from_config
    from screening.pipeline import explain

    if "screening_policy" not in g:
        g.screening_policy = policy_from_config(current_app.config)
    return str(explain(submission.findings, g.screening_policy))


def session_limits() -> SessionLimits:
    """ADMIN_SESSION_IDLE_MINUTES and ADMIN_SESSION_MAX_HOURS."""
    config = current_app.config
    return SessionLimits(
        idle=timedelta(minutes=config["ADMIN_SESSION_IDLE_MINUTES"]),
        max_age=timedelta(hours=config["ADMIN_SESSION_MAX_HOURS"]),
    )


@bp.before_request
def _require_login() -> Any:
    """Every admin page except sign-in needs a live server-side session of an active user."""
    g.user = None
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        db = get_session()
        check = check_session(db, token=token, now=utcnow(), limits=session_limits())
        if check.touched:
            db.commit()
        g.user = check.user
        if check.user is None:
            session.pop(SESSION_TOKEN, None)
            flash(ENDED[check.ended].format(idle=current_app.config["ADMIN_SESSION_IDLE_MINUTES"]), "error")
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
    return None


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Settings pages: admins yes, reviewers no."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None or g.user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    wrapped.admin_only = True  # type: ignore[attr-defined]  # lets tests find every settings route
    return wrapped
