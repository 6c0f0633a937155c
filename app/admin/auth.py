"""Sign in and out, throttled per IP and per account."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for

from app.accounts.users import authenticate
from app.admin.blueprint import bp
from app.db import get_session
from app.extensions import limiter
from app.models import utcnow
from forms.admin import LoginForm, LogoutForm


def _login_account() -> str:
    return (request.form.get("email") or "").strip().lower() or "-"


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_account, scope="login-account")
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
            safe = target.startswith("/admin") and not target.startswith("//")
            return redirect(target if safe else url_for("admin.queue"))
        error = "E-mail or password is incorrect."
    return render_template("admin/login.html", form=form, error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> Any:
    """Sign out (POST with CSRF token)."""
    if LogoutForm().validate_on_submit():
        session.clear()
    return redirect(url_for("admin.login"))
