"""Bearer tokens for integrations (a CRM workflow posting sales feedback), one per destination or integration.

Only the token's SHA-256 is stored; the token itself is shown once, when it is created. A token carries
one scope and is checked against it: a token made for something else is refused (403), not unknown (401).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, AuditEvent, utcnow

SCOPES = ("feedback",)
PREFIX = "lsk_"


class TokenError(ValueError):
    """A request's token is missing or unknown (`status` 401) or lacks the scope (403)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, *, name: str, scope: str, actor: str, destination_id: int | None = None
) -> tuple[ApiToken, str]:
    """A new token row and the token itself (shown once; only its hash is kept). Audited."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name[:200], scope=scope, token_hash=_digest(token), destination_id=destination_id, created_by=actor
    )
    session.add(row)
    session.flush()
    session.add(
        AuditEvent(
            actor=actor,
            action="api_token.created",
            subject_type="api_token",
            subject_id=row.id,
            details={"name": row.name, "scope": scope, "destination_id": destination_id},
        )
    )
    return row, token


def authenticate(session: Session, *, authorization: str | None, scope: str) -> ApiToken:
    """The live token named by an `Authorization: Bearer ...` header, if it has `scope`; else TokenError."""
    kind, _, token = (authorization or "").partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise TokenError("An API token is required (Authorization: Bearer <token>).", status=401)
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _digest(token.strip()), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        raise TokenError("This API token is not valid.", status=401)
    if row.scope != scope:
        raise TokenError(f"This API token is not allowed to post {scope}.", status=403)
    row.last_used_at = utcnow()
    return row


__all__ = ["SCOPES", "TokenError", "authenticate", "create_token"]
