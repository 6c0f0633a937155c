"""The admin blueprint object and its access rules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, g, redirect, request, session, url_for

from app.db import get_session
from app.models import User
from app.statuses import DeliveryStatus, Stage, SubmissionStatus, Verdict

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Endpoints reachable without signing in.
PUBLIC_ENDPOINTS = {"admin.login"}


@bp.context_processor
def _status_words() -> dict[str, Any]:
    """Templates compare against the same status words as the code (app/statuses.py)."""
    return {"Verdict": Verdict, "Stage": Stage, "DeliveryStatus": DeliveryStatus, "SubmissionStatus": SubmissionStatus}


@bp.before_request
def _require_login() -> Any:
    """Every admin page except login needs a signed-in, active user."""
    user_id = session.get("user_id")
    g.user = get_session().get(User, user_id) if user_id else None
    if g.user is not None and not g.user.active:
        g.user = None
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
