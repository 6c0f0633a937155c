"""Admin users: creation, roles, activation, passwords (Werkzeug scrypt) and sign-in checks.

Every change is an audit event naming who did it (an admin's e-mail, `cli`, `reset-link`) and to
whom. A change of password or role, and deactivation, end the user's sessions at once
(app/accounts/sessions.py). Nobody can demote or deactivate the last active admin: the team would
be locked out of its own settings with no way back but the command line.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.sessions import end_all_sessions
from app.models import AuditEvent, User, utcnow


class Role(StrEnum):
    """What a user may do: admins everything, reviewers the queue, leads and dashboard."""

    ADMIN = "admin"
    REVIEWER = "reviewer"


MIN_PASSWORD_LENGTH = 12
# Deliberately plain: admins type these; no display names, no quoting.
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s.]{2,63}")

# Compared against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    """A user change that cannot be made; the message says why, for the admin or the command line."""


class UnknownUser(AccountError):
    """No user with that id or e-mail."""


class UserExists(AccountError):
    """A user with that e-mail already exists."""


class LastAdmin(AccountError):
    """The change would leave no active admin."""


class WeakPassword(AccountError):
    """Shorter than MIN_PASSWORD_LENGTH."""


def normal_email(email: str) -> str:
    """Accounts are stored trimmed and in lower case."""
    return (email or "").strip().lower()


def find_user(session: Session, email: str) -> User | None:
    """The user with this e-mail (case-insensitive)."""
    return session.scalars(select(User).where(User.email == normal_email(email))).first()


def get_user(session: Session, user_id: int) -> User:
    """The user with this id; UnknownUser if there is none."""
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser(f"no user {user_id}")
    return user


def user_by_email(session: Session, email: str) -> User:
    """The user with this e-mail; UnknownUser if there is none."""
    user = find_user(session, email)
    if user is None:
        raise UnknownUser(f"no user with the e-mail {normal_email(email)!r}")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by e-mail."""
    return list(session.scalars(select(User).order_by(User.email)))


def _audit(session: Session, *, actor: str, action: str, user: User, **details: Any) -> None:
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            subject_type="user",
            subject_id=user.id,
            details={"email": user.email, **details},
        )
    )


def check_password(password: str) -> str:
    """The password if it is long enough; WeakPassword says the rule."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at least {MIN_PASSWORD_LENGTH} characters for the password.")
    return password


def create_user(
    session: Session, *, email: str, role: str, actor: str, password: str | None = None
) -> tuple[User, str]:
    """A new active user; returns it and its password (generated when not given)."""
    email = normal_email(email)
    if not EMAIL.fullmatch(email) or len(email) > 320:
        raise AccountError(f"not an e-mail address: {email[:100]!r}")
    if find_user(session, email) is not None:
        raise UserExists(f"{email} already has an account")
    password = check_password(password) if password is not None else secrets.token_urlsafe(12)
    user = User(email=email, role=Role(role), password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    _audit(session, actor=actor, action="user.created", user=user, role=user.role)
    session.flush()
    return user, password


def set_password(
    session: Session, *, user: User, password: str, actor: str, via: str = "", now: datetime | None = None
) -> int:
    """A new password; every session of the user ends (a reset link in the wrong hands, or a stolen
    session, stops working). Returns how many sessions ended."""
    user.password_hash = generate_password_hash(check_password(password))
    ended = end_all_sessions(session, user_id=user.id, now=now or utcnow())
    extra = {"via": via} if via else {}
    _audit(session, actor=actor, action="user.password_reset", user=user, sessions_ended=ended, **extra)
    session.flush()
    return ended


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)) or 0


def _keep_an_admin(session: Session, user: User) -> None:
    if user.active and user.role == Role.ADMIN and _active_admins(session) <= 1:
        raise LastAdmin(f"{user.email} is the last active admin; make someone else an admin first")


def set_role(session: Session, *, user: User, role: str, actor: str, now: datetime | None = None) -> bool:
    """Change the role (sessions end, so the new role applies at once); False if it was already so."""
    role = Role(role)
    if user.role == role:
        return False
    if role != Role.ADMIN:
        _keep_an_admin(session, user)
    before, user.role = user.role, role
    ended = end_all_sessions(session, user_id=user.id, now=now or utcnow())
    _audit(session, actor=actor, action="user.role_changed", user=user, before=before, after=role, sessions_ended=ended)
    session.flush()
    return True


def set_active(session: Session, *, user: User, active: bool, actor: str, now: datetime | None = None) -> bool:
    """Deactivate (sessions end; sign-in refused) or reactivate; False if it was already so."""
    if user.active == active:
        return False
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    ended = end_all_sessions(session, user_id=user.id, now=now or utcnow())
    _audit(
        session,
        actor=actor,
        action="user.reactivated" if active else "user.deactivated",
        user=user,
        sessions_ended=ended,
    )
    session.flush()
    return True


def sign_out_everywhere(session: Session, *, user: User, actor: str, now: datetime | None = None) -> int:
    """End every session of the user (a lost laptop); returns how many were live."""
    ended = end_all_sessions(session, user_id=user.id, now=now or utcnow())
    _audit(session, actor=actor, action="user.signed_out_everywhere", user=user, sessions_ended=ended)
    session.flush()
    return ended


@dataclass(frozen=True)
class SetUser:
    """What `set_user` did: the password is the one set (None when it was left alone)."""

    user: User
    password: str | None
    created: bool
    role_changed: bool


def set_user(
    session: Session,
    *,
    email: str,
    password: str | None = None,
    role: str | None = None,
    actor: str = "cli",
) -> tuple[User, str | None, bool]:
    """`create-admin`: create the user (an admin unless `role` says otherwise), or change an existing
    one: a given `role` is applied, and the password is set when given, or generated when neither is.
    Returns (user, password set or None, created)."""
    done = apply_user(session, email=email, password=password, role=role, actor=actor)
    return done.user, done.password, done.created


def apply_user(
    session: Session, *, email: str, password: str | None = None, role: str | None = None, actor: str = "cli"
) -> SetUser:
    """`set_user` with what changed spelled out (the command line reports it)."""
    user = find_user(session, email)
    if user is None:
        user, password = create_user(session, email=email, role=role or Role.ADMIN, password=password, actor=actor)
        return SetUser(user, password, created=True, role_changed=False)
    role_changed = set_role(session, user=user, role=role, actor=actor) if role is not None else False
    if password is None and role is None:
        password = secrets.token_urlsafe(12)
    if password is not None:
        set_password(session, user=user, password=password, actor=actor)
    return SetUser(user, password, created=False, role_changed=role_changed)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user if the password matches, else None."""
    user = find_user(session, email)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def signed_in(session: Session, *, user: User, now: datetime) -> int:
    """Record a sign-in; returns the failed attempts since the last one (to tell the user), now reset."""
    failures, user.failed_sign_ins, user.last_login_at = user.failed_sign_ins, 0, now
    session.flush()
    return failures
