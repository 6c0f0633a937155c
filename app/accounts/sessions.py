"""Server-side admin sessions: the signed cookie carries a random token, the database its SHA-256.

A signed cookie alone cannot be taken back: a copy made before logout or a password change kept
working for the cookie's whole life. With a row per sign-in, logout revokes that row; a new
password, a new role or deactivation revokes all of the user's rows; and every admin request checks
its row, so an ended session is refused at once on every web process. The row also carries the idle
and absolute time-outs. `last_seen_at` is written at most once a minute, so a busy admin costs one
small UPDATE a minute, not one per request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.models import User, UserSession

# How stale `last_seen_at` may get before a request writes it again.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    """The idle and absolute time-outs (ADMIN_SESSION_IDLE_MINUTES, ADMIN_SESSION_MAX_HOURS)."""

    idle: timedelta
    max_age: timedelta


def token_id(token: str) -> str:
    """The row id of a cookie token: its SHA-256, so a copy of the table opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, user: User, now: datetime, limits: SessionLimits) -> str:
    """A new session for `user`; returns the token for the cookie. Sessions past the absolute
    time-out (everyone's) are deleted on the way: they can never be valid again."""
    session.execute(delete(UserSession).where(UserSession.created_at < now - limits.max_age))
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=token_id(token), user_id=user.id, created_at=now, last_seen_at=now))
    session.flush()
    return token


@dataclass(frozen=True)
class SessionCheck:
    """The signed-in user, or None with the reason (for the sign-in page); `touched`: commit needed."""

    user: User | None
    ended: str = ""
    touched: bool = False


def check_session(session: Session, *, token: str, now: datetime, limits: SessionLimits) -> SessionCheck:
    """The user a cookie token signs in, if its session is live: not revoked, not idle too long, not
    too old, and the user active. One SELECT; an UPDATE of `last_seen_at` at most once a minute."""
    row = session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id).where(UserSession.id == token_id(token))
    ).first()
    if row is None:
        return SessionCheck(None, ended="signed out")
    user_session, user = row
    if user_session.revoked_at is not None or not user.active:
        return SessionCheck(None, ended="signed out")
    if now - user_session.created_at > limits.max_age:
        return SessionCheck(None, ended="expired")
    if now - user_session.last_seen_at > limits.idle:
        return SessionCheck(None, ended="idle")
    if now - user_session.last_seen_at < TOUCH_EVERY:
        return SessionCheck(user)
    user_session.last_seen_at = now
    session.flush()
    return SessionCheck(user, touched=True)


def end_session(session: Session, *, token: str, now: datetime) -> None:
    """Revoke one session (logout): its cookie, wherever copied, opens nothing any more."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == token_id(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_all_sessions(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke every live session of a user; returns how many were live."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(session: Session, *, now: datetime, limits: SessionLimits) -> dict[int, int]:
    """Live sessions per user id (for the users page)."""
    rows = session.execute(
        select(UserSession.user_id, func.count())
        .where(
            UserSession.revoked_at.is_(None),
            UserSession.created_at >= now - limits.max_age,
            UserSession.last_seen_at >= now - limits.idle,
        )
        .group_by(UserSession.user_id)
    ).all()
    return {user_id: count for user_id, count in rows}
