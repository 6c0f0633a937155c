"""Password-reset links: signed, expiring, and good once.

The token is signed with SECRET_KEY (former keys still verify) and carries the user's id and a
fingerprint of their current password hash. Setting a password changes the hash (a new salt, even
for the same password), so the link dies on use, and so does every other link issued before.
Only a digest of the hash travels: a token is readable by whoever holds it, and the hash itself
must not be.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, User

RESET_SALT = "leadsieve.password-reset"
# The "forgot password?" form e-mails one account at most this often: it must not become a way to
# flood someone's inbox.
EMAIL_EVERY = timedelta(minutes=5)


class ResetLinkError(ValueError):
    """The link is forged, expired, already used, or its user cannot sign in any more."""


def password_fingerprint(password_hash: str) -> str:
    """A digest of the password hash: changes whenever the password is set."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def reset_token(secret: str, user: User) -> str:
    """A token naming the user and their current password."""
    return URLSafeTimedSerializer(secret, salt=RESET_SALT).dumps(
        {"u": user.id, "p": password_fingerprint(user.password_hash)}
    )


def user_for_reset(session: Session, *, secret: str, token: str, max_age: int, fallbacks: Sequence[str] = ()) -> User:
    """The active user a reset token is for, if it is genuine, fresh and unused; ResetLinkError says
    which it is not (the page shows one message for all: the reason matters only in logs)."""
    try:
        data = URLSafeTimedSerializer([*fallbacks, secret], salt=RESET_SALT).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise ResetLinkError("expired") from exc
    except BadSignature as exc:
        raise ResetLinkError("forged") from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise ResetLinkError("forged")
    user = session.get(User, data["u"])
    if user is None or not user.active:
        raise ResetLinkError("no such active user")
    if data.get("p") != password_fingerprint(user.password_hash):
        raise ResetLinkError("already used (the password changed since)")
    return user


def issue_reset(session: Session, *, user: User, now: datetime, actor: str) -> bool:
    """Record that a reset link goes out to the user (audited); False, and nothing recorded, for an
    inactive user or when the form e-mailed them a link less than EMAIL_EVERY ago."""
    if not user.active:
        return False
    if actor != "cli":
        recent = session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.subject_type == "user",
                AuditEvent.subject_id == user.id,
                AuditEvent.action == "user.reset_link_sent",
                AuditEvent.at > now - EMAIL_EVERY,
            )
        )
        if recent is not None:
            return False
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action="user.reset_link_sent" if actor != "cli" else "user.reset_link_issued",
            subject_type="user",
            subject_id=user.id,
            details={"email": user.email},
        )
    )
    session.flush()
    return True
