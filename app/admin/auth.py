"""Sign in (password, then a code when two-factor is on), sign out, and forgotten passwords.

Throttling has two layers. Per client IP, whatever the account: Flask-Limiter's RATELIMIT_LOGIN.
Per (account, client): growing waits after LOGIN_FREE_FAILURES failures (app/accounts/throttle.py),
so a stranger failing on purpose slows down only themselves, never the real user elsewhere.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import TooManyRequests

from app.accounts.mail import MailError, MailSettings, reset_message, send_quietly
from app.accounts.reset import ResetLinkError, issue_reset, reset_token, user_for_reset
from app.accounts.sessions import end_session, start_session
from app.accounts.throttle import ThrottleRules, clear_failures, client_key, record_failure, retry_after
from app.accounts.two_factor import verify
from app.accounts.users import WeakPassword, authenticate, find_user, set_password, signed_in
from app.admin.blueprint import SESSION_TOKEN, bp, session_limits
from app.db import get_session, session_scope
from app.extensions import limiter
from app.models import User, utcnow
from forms.admin import ForgotPasswordForm, LoginForm, LogoutForm, NewPasswordForm, SignInCodeForm

log = logging.getLogger(__name__)

# The Flask session key of a password checked, waiting for its second factor.
PENDING = "pending_2fa"
PENDING_SECONDS = 300


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _client() -> str:
    return client_key(request.remote_addr)


def _rules() -> ThrottleRules:
    config = current_app.config
    return ThrottleRules(
        free=config["LOGIN_FREE_FAILURES"], base=config["LOGIN_DELAY_SECONDS"], cap=config["LOGIN_MAX_DELAY_SECONDS"]
    )


def _too_many(seconds: int) -> None:
    """429 with Retry-After, through the shared error page ("Too many sign-in attempts")."""
    raise TooManyRequests(response=Response(status=429, headers={"Retry-After": str(seconds)}))


def _safe_next(target: str) -> str:
    """Only admin pages on this site: never an open redirect."""
    return target if target.startswith("/admin") and not target.startswith("//") else url_for("admin.queue")


def _signed_in(user: User, target: str) -> Any:
    """Start a server-side session (a fresh cookie: no fixation) and tell the user about failures."""
    db, now = get_session(), utcnow()
    clear_failures(db, email=user.email, client=_client())
    failures = signed_in(db, user=user, now=now)
    token = start_session(db, user=user, now=now, limits=session_limits())
    db.commit()
    session.clear()
    session[SESSION_TOKEN] = token
    if failures:
        flash(
            f"{failures} failed sign-in attempt{'s' if failures != 1 else ''} since your last visit. "
            "If that was not you: each address guessing is slowed down on its own, and two-factor sign-in "
            "(My account) keeps a guessed password from being enough.",
            "error",
        )
    return redirect(_safe_next(target))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    """Sign in; the message never says whether the e-mail exists."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db, now, email = get_session(), utcnow(), form.email.data or ""
        wait = retry_after(db, email=email, client=_client(), now=now, rules=_rules())
        if wait:
            _too_many(wait)
        user = authenticate(db, email, form.password.data or "")
        if user is None:
            record_failure(db, email=email, client=_client(), now=now)
            db.commit()
            error = "E-mail or password is incorrect."
        elif user.totp_enabled:
            session.clear()
            session[PENDING] = {"user": user.id, "at": int(time.time()), "next": request.args.get("next", "")}
            return redirect(url_for("admin.login_code"))
        else:
            return _signed_in(user, request.args.get("next", ""))
    return render_template("admin/login.html", form=form, error=error), 401 if error else 200


def _pending_user() -> User | None:
    """The user whose password was just checked, if that was less than five minutes ago."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = get_session().get(User, pending.get("user"))
    return user if user is not None and user.active and user.totp_enabled else None


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_code() -> Any:
    """The second step of a two-factor sign-in: a code from the app, or a recovery code."""
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        return redirect(url_for("admin.login"))
    form = SignInCodeForm()
    error = None
    if form.validate_on_submit():
        db, now = get_session(), utcnow()
        wait = retry_after(db, email=user.email, client=_client(), now=now, rules=_rules())
        if wait:
            _too_many(wait)
        if verify(db, user=user, code=form.code.data or "", now=now):
            return _signed_in(user, session.pop(PENDING, {}).get("next", ""))
        record_failure(db, email=user.email, client=_client(), now=now)
        db.commit()
        error = "That code is not valid. Use the current one from your app, or a recovery code."
    return render_template("admin/login_code.html", form=form, error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> Any:
    """Sign out (POST with CSRF token): the session ends on the server, so a copied cookie opens nothing."""
    if LogoutForm().validate_on_submit():
        token = session.get(SESSION_TOKEN)
        if isinstance(token, str):
            db = get_session()
            end_session(db, token=token, now=utcnow())
            db.commit()
        session.clear()
    return redirect(url_for("admin.login"))


# --- Forgotten passwords ------------------------------------------------------------------------------


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link on PUBLIC_BASE_URL: never on the Host header a request claims (a forged Host
    would otherwise send the reset link to the forger's site)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def reset_link(user: User) -> str:
    """A password-reset link for the user (signed, expiring, good once)."""
    return public_url("admin.reset_password", token=reset_token(current_app.config["SECRET_KEY"], user))


def mail_settings() -> MailSettings:
    config = current_app.config
    return MailSettings(
        smtp_url=config["SMTP_URL"], sender=config["SMTP_FROM"], timeout=config["DELIVERY_TIMEOUT_SECONDS"]
    )


def send_reset_email(user: User, link: str) -> None:
    """E-mail the link once this request's answer has gone (the time taken must not tell anything)."""
    try:
        msg = reset_message(
            to=user.email,
            sender=current_app.config["SMTP_FROM"],
            link=link,
            minutes=current_app.config["PASSWORD_RESET_LINK_MAX_AGE"] // 60,
        )
    except MailError as exc:
        log.warning("password-reset e-mail for user %s not built: %s", user.id, exc)
        return
    settings = mail_settings()

    @after_this_request
    def _send_after(response: Response) -> Response:
        response.call_on_close(lambda: send_quietly(msg, settings))
        return response


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password() -> Any:
    """Ask for a reset link by e-mail. The answer is the same, and takes the same time, whether or not
    the address has an account: the look-up and the e-mail happen after the answer has gone."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        app, email = current_app._get_current_object(), form.email.data or ""  # type: ignore[attr-defined]

        @after_this_request
        def _after(response: Response) -> Response:
            response.call_on_close(lambda: _reset_by_email(app, email))
            return response

        return render_template("admin/forgot.html", form=None)
    return render_template("admin/forgot.html", form=form), 400 if form.errors else 200


def _reset_by_email(app: Flask, email: str) -> None:
    """Look the address up and, for an active account not e-mailed in the last minutes, send a link."""
    with app.app_context():
        try:
            with session_scope() as db:
                user = find_user(db, email)
                if user is None or not issue_reset(db, user=user, now=utcnow(), actor="forgot-password form"):
                    return
                link = reset_link(user)
                db.commit()
                msg = reset_message(
                    to=user.email,
                    sender=app.config["SMTP_FROM"],
                    link=link,
                    minutes=app.config["PASSWORD_RESET_LINK_MAX_AGE"] // 60,
                )
        except (SQLAlchemyError, MailError) as exc:
            log.warning("password-reset e-mail not sent: %s: %s", type(exc).__name__, exc)
            return
        send_quietly(msg, mail_settings())


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str) -> Any:
    """Set a new password from a reset link; every session of the user ends."""
    db, config = get_session(), current_app.config
    try:
        user = user_for_reset(
            db,
            secret=config["SECRET_KEY"],
            token=token,
            max_age=config["PASSWORD_RESET_LINK_MAX_AGE"],
            fallbacks=config.get("SECRET_KEY_FALLBACKS", ()),
        )
    except ResetLinkError as exc:
        log.info("password-reset link refused: %s", exc)
        return render_template("admin/reset.html", form=None), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            set_password(db, user=user, password=form.password.data or "", actor=user.email, via="reset link")
        except WeakPassword as exc:
            form.password.errors = [str(exc)]
        else:
            db.commit()
            session.clear()
            flash("Your new password is set and every session was signed out. Sign in with it now.", "ok")
            return redirect(url_for("admin.login"))
    return render_template("admin/reset.html", form=form, email=user.email), 400 if form.errors else 200
