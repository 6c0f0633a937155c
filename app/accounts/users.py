"""Admin users: creation and password checks (Werkzeug scrypt)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import AuditEvent, User

# Compared against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def find_user(session: Session, email: str) -> User | None:
    """The user with this e-mail (case-insensitive)."""
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def set_user(
    session: Session, *, email: str, password: str | None = None, role: str = "admin", actor: str = "cli"
) -> tuple[User, str, bool]:
    """Create the user or reset their password; returns (user, password, created)."""
    password = password or secrets.token_urlsafe(12)
    user = find_user(session, email)
    created = user is None
    if user is None:
        user = User(email=email.strip().lower(), role=role, password_hash="")
        session.add(user)
    user.password_hash = generate_password_hash(password)
    session.flush()
    session.add(
        AuditEvent(
            actor=actor,
            action="user.created" if created else "user.password_reset",
            subject_type="user",
            subject_id=user.id,
            details={"email": user.email},
        )
    )
    session.flush()
    return user, password, created


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user if the password matches, else None."""
    user = find_user(session, email)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None
