"""Optional two-factor sign-in: TOTP codes (RFC 6238, pyotp) and ten one-time recovery codes.

Set-up is two steps so that nobody is locked out by a mistyped secret: `begin_setup` stores a new
secret (not yet required), the user adds it to an authenticator app, and `confirm_setup` switches
two-factor on only once a code from that app checks out; it returns the recovery codes, shown once
and kept as SHA-256 digests (they are random, 50 bits each: a slow hash adds nothing). A code is good
once: the time step of the last accepted code is kept, and neither it nor an earlier one is accepted
again. One step either side of now is accepted, for clocks that drift.

The secret itself is stored as given to the app (it must be, to compute codes); the database is
as sensitive as the password hashes beside it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

import pyotp
from sqlalchemy.orm import Session

from app.models import AuditEvent, User

ISSUER = "leadsieve"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper and typed back


class TwoFactorError(ValueError):
    """The code does not match, or two-factor is not in the state the step needs."""


def _audit(session: Session, *, actor: str, action: str, user: User) -> None:
    session.add(
        AuditEvent(actor=actor, action=action, subject_type="user", subject_id=user.id, details={"email": user.email})
    )


def _step(now: datetime) -> int:
    """The TOTP time step of a naive-UTC time (30-second steps since the epoch)."""
    return int(now.replace(tzinfo=UTC).timestamp()) // 30


def otpauth_uri(user: User) -> str:
    """The `otpauth://` URI authenticator apps read (as a QR code or pasted)."""
    if not user.totp_secret:
        raise TwoFactorError("no two-factor secret set up")
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def begin_setup(session: Session, *, user: User) -> str:
    """A fresh secret for the user to add to their app; required only once confirmed."""
    if user.totp_enabled:
        raise TwoFactorError("two-factor sign-in is already on")
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    session.flush()
    return user.totp_secret


def _code_digest(code: str) -> str:
    return hashlib.sha256(_plain_code(code).encode()).hexdigest()


def _plain_code(code: str) -> str:
    """Codes as typed: spaces and dashes do not count, nor does case."""
    return re.sub(r"[\s-]", "", code or "").lower()


def new_recovery_codes() -> list[str]:
    """Ten codes such as `k3m9p-x7d2q`."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def _totp_matches(user: User, code: str, now: datetime) -> bool:
    """A current code (±1 step) newer than the last one accepted; remembers its step."""
    plain = _plain_code(code)
    if not user.totp_secret or not re.fullmatch(r"\d{6}", plain):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = _step(now)
    for step in (current - 1, current, current + 1):
        if step > (user.totp_last_step or -1) and hmac.compare_digest(totp.generate_otp(step), plain):
            user.totp_last_step = step
            return True
    return False


def confirm_setup(session: Session, *, user: User, code: str, now: datetime, actor: str) -> list[str]:
    """Switch two-factor on with a first code from the app; returns the recovery codes (shown once)."""
    if user.totp_enabled or not user.totp_secret:
        raise TwoFactorError("start the set-up first")
    if not _totp_matches(user, code, now):
        raise TwoFactorError("That code does not match. Check the app's clock and try the next code.")
    codes = new_recovery_codes()
    user.totp_enabled = True
    user.recovery_codes = [_code_digest(c) for c in codes]
    _audit(session, actor=actor, action="user.two_factor_enabled", user=user)
    session.flush()
    return codes


def disable(session: Session, *, user: User, actor: str) -> None:
    """Switch two-factor off (the user with a code, or an admin for someone who lost their phone)."""
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    _audit(session, actor=actor, action="user.two_factor_disabled", user=user)
    session.flush()


def verify(session: Session, *, user: User, code: str, now: datetime) -> bool:
    """A sign-in's second step: a TOTP code, or a recovery code (used up, and audited)."""
    if not user.totp_enabled:
        return False
    if _totp_matches(user, code, now):
        session.flush()
        return True
    digest = _code_digest(code)
    remaining = list(user.recovery_codes or [])
    if not any(hmac.compare_digest(digest, kept) for kept in remaining):
        return False
    user.recovery_codes = [kept for kept in remaining if kept != digest]
    _audit(session, actor=user.email, action="user.recovery_code_used", user=user)
    session.flush()
    return True
