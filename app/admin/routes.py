"""Admin views. Every view except login requires a signed-in user."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.db import get_session
from app.models import Form, Submission, User, utcnow
from app.users import authenticate
from forms.admin import LoginForm, LogoutForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Redirect anonymous visitors to the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("admin.login", next=request.path))
        return view(*args, **kwargs)

    wrapped.login_required = True  # type: ignore[attr-defined]
    return wrapped


@bp.before_app_request
def _load_user() -> None:
    user_id = session.get("user_id")
    g.user = get_session().get(User, user_id) if user_id else None
    if g.user is not None and not g.user.active:
        g.user = None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in; the message never says whether the e-mail exists."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        user = authenticate(db, form.email.data or "", form.password.data or "")
        if user is not None:
            session.clear()
            session["user_id"] = user.id
            user.last_login_at = utcnow()
            db.commit()
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/admin") else url_for("admin.index"))
        error = "E-mail or password is incorrect."
    return render_template("admin/login.html", form=form, error=error), 401 if error else 200


@bp.post("/logout")
@login_required
def logout() -> Any:
    """Sign out (POST with CSRF token)."""
    if LogoutForm().validate_on_submit():
        session.clear()
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def index() -> str:
    """Latest submissions with their status and verdict."""
    db = get_session()
    submissions = db.scalars(
        select(Submission).options(selectinload(Submission.form), selectinload(Submission.findings))
        .order_by(Submission.id.desc()).limit(50)
    ).all()
    counts = dict(db.execute(select(Submission.status, func.count()).group_by(Submission.status)).all())
    forms = db.scalars(select(Form).order_by(Form.id)).all()
    return render_template("admin/index.html", submissions=submissions, counts=counts, forms=forms,
                           logout_form=LogoutForm())
