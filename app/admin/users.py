"""Users (admins only): list, create, change role, deactivate or reactivate, sign out everywhere.
My account (everyone): sign out everywhere, two-factor sign-in.

Every change is audited by app/accounts/users.py with the acting admin's e-mail. A change of role,
deactivation and "sign out everywhere" end the user's sessions at once, the acting admin's own
included when they act on themselves.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for

from app.accounts.reset import issue_reset
from app.accounts.sessions import end_all_sessions, live_sessions
from app.accounts.two_factor import TwoFactorError, begin_setup, confirm_setup, disable, otpauth_uri, verify
from app.accounts.users import (
    AccountError,
    Role,
    create_user,
    get_user,
    list_users,
    set_active,
    set_role,
    sign_out_everywhere,
)
from app.admin.auth import reset_link, send_reset_email
from app.admin.blueprint import admin_only, bp, session_limits
from app.db import get_session
from app.models import utcnow
from forms.admin import ConfirmForm, NewUserForm, TotpCodeForm, UserActiveForm, UserRoleForm


def _page(form: NewUserForm | None = None, invite: tuple[str, str] | None = None, status: int = 200) -> Any:
    db = get_session()
    return render_template(
        "admin/users.html",
        rows=list_users(db),
        live=live_sessions(db, now=utcnow(), limits=session_limits()),
        form=form or NewUserForm(formdata=None),
        action=ConfirmForm(formdata=None),
        roles=list(Role),
        invite=invite,
    ), status


@bp.get("/users")
@admin_only
def users() -> Any:
    """Every user: e-mail, role, active, last sign-in, live sessions."""
    return _page()


@bp.post("/users")
@admin_only
def user_create() -> Any:
    """Create a user; they get a link to set their password (e-mailed, and shown here once)."""
    form = NewUserForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    db = get_session()
    try:
        user, _ = create_user(db, email=form.email.data or "", role=form.role.data or Role.REVIEWER, actor=g.user.email)
    except AccountError as exc:
        form.email.errors = [str(exc)]
        return _page(form, status=400)
    issue_reset(db, user=user, now=utcnow(), actor=g.user.email)
    link = reset_link(user)
    db.commit()
    send_reset_email(user, link)
    flash(f"Created {user.role} {user.email}; a link to set their password was e-mailed to them.", "ok")
    return _page(invite=(user.email, link))


def _done(message: str) -> Any:
    flash(message, "ok")
    return redirect(url_for("admin.users"))


def _refused(exc: AccountError) -> Any:
    flash(str(exc), "error")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/role")
@admin_only
def user_role(user_id: int) -> Any:
    """Change a role; the user's sessions end so it applies at once."""
    form = UserRoleForm()
    if not form.validate_on_submit():
        return _refused(AccountError("Choose admin or reviewer."))
    db = get_session()
    try:
        user = get_user(db, user_id)
        changed = set_role(db, user=user, role=form.role.data or "", actor=g.user.email)
    except AccountError as exc:
        return _refused(exc)
    db.commit()
    return _done(
        f"{user.email} is now {user.role}; their sessions ended." if changed else f"{user.email} is {user.role}."
    )


@bp.post("/users/<int:user_id>/active")
@admin_only
def user_active(user_id: int) -> Any:
    """Deactivate (sign-in refused, sessions end) or reactivate a user."""
    form = UserActiveForm()
    if not form.validate_on_submit():
        return _refused(AccountError("Say whether to deactivate or reactivate."))
    db = get_session()
    try:
        user = get_user(db, user_id)
        set_active(db, user=user, active=form.active.data == "1", actor=g.user.email)
    except AccountError as exc:
        return _refused(exc)
    db.commit()
    return _done(f"{user.email} is {'active again' if user.active else 'deactivated; their sessions ended'}.")


@bp.post("/users/<int:user_id>/sign-out")
@admin_only
def user_sign_out(user_id: int) -> Any:
    """End every session of a user (a lost laptop, someone leaving)."""
    if not ConfirmForm().validate_on_submit():
        return _refused(AccountError("The form expired; try again."))
    db = get_session()
    try:
        user = get_user(db, user_id)
        ended = sign_out_everywhere(db, user=user, actor=g.user.email)
    except AccountError as exc:
        return _refused(exc)
    db.commit()
    return _done(f"{user.email} was signed out everywhere ({ended} session{'s' if ended != 1 else ''} ended).")


@bp.post("/users/<int:user_id>/two-factor-off")
@admin_only
def user_two_factor_off(user_id: int) -> Any:
    """Switch off someone's two-factor sign-in (a lost phone and no recovery codes)."""
    if not ConfirmForm().validate_on_submit():
        return _refused(AccountError("The form expired; try again."))
    db = get_session()
    try:
        user = get_user(db, user_id)
    except AccountError as exc:
        return _refused(exc)
    disable(db, user=user, actor=g.user.email)
    end_all_sessions(db, user_id=user.id, now=utcnow())
    db.commit()
    return _done(f"Two-factor sign-in is off for {user.email}; they sign in with their password alone.")


# --- My account -----------------------------------------------------------------------------------------


def _account(codes: list[str] | None = None, error: str = "", status: int = 200) -> Any:
    user = g.user
    setting_up = user.totp_secret is not None and not user.totp_enabled
    return render_template(
        "admin/account.html",
        user=user,
        action=ConfirmForm(formdata=None),
        code_form=TotpCodeForm(formdata=None),
        secret=user.totp_secret if setting_up else None,
        uri=otpauth_uri(user) if setting_up else None,
        codes=codes,
        remaining=len(user.recovery_codes or []),
        error=error,
    ), status


@bp.get("/account")
def account() -> Any:
    """The signed-in user's own account."""
    return _account()


@bp.post("/account/sign-out")
def account_sign_out() -> Any:
    """Sign myself out everywhere, this browser included."""
    if ConfirmForm().validate_on_submit():
        db = get_session()
        sign_out_everywhere(db, user=g.user, actor=g.user.email)
        db.commit()
    return redirect(url_for("admin.login"))


@bp.post("/account/two-factor")
def account_two_factor() -> Any:
    """Start two-factor set-up: a new secret to add to an authenticator app (not required yet)."""
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("admin.account"))
    db = get_session()
    try:
        begin_setup(db, user=g.user)
    except TwoFactorError as exc:
        return _account(error=str(exc), status=400)
    db.commit()
    return redirect(url_for("admin.account"))


@bp.post("/account/two-factor/confirm")
def account_two_factor_confirm() -> Any:
    """Switch two-factor on with a first code; the recovery codes are shown this once."""
    form = TotpCodeForm()
    if not form.validate_on_submit():
        return _account(error="Enter the code your app shows.", status=400)
    db = get_session()
    try:
        codes = confirm_setup(db, user=g.user, code=form.code.data or "", now=utcnow(), actor=g.user.email)
    except TwoFactorError as exc:
        return _account(error=str(exc), status=400)
    db.commit()
    return _account(codes=codes)


@bp.post("/account/two-factor/off")
def account_two_factor_off() -> Any:
    """Switch two-factor off; it takes a current code (or a recovery code), not just a session."""
    form = TotpCodeForm()
    db = get_session()
    if not form.validate_on_submit() or not verify(db, user=g.user, code=form.code.data or "", now=utcnow()):
        db.rollback()
        return _account(error="That code is not valid; two-factor sign-in stays on.", status=400)
    disable(db, user=g.user, actor=g.user.email)
    db.commit()
    flash("Two-factor sign-in is off.", "ok")
    return redirect(url_for("admin.account"))
