"""Signed form tokens: what a session cookie would carry, for forms embedded cross-site.

A token names the form and when it was issued. It tells screening how long the
visitor took to fill the form and whether the post is forged or stale. It never
blocks a submission on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

SALT = "leadsieve.form-token"

VALID = "valid"
MISSING = "missing"
FORGED = "forged"
EXPIRED = "expired"
WRONG_FORM = "wrong_form"


class _Signer(TimestampSigner):
    """TimestampSigner whose clock can be set, so tests can mint old tokens."""

    def __init__(self, secret: str, *, issued_at: int | None = None) -> None:
        super().__init__(secret, salt=SALT)
        self._issued_at = issued_at

    def get_timestamp(self) -> int:
        return self._issued_at if self._issued_at is not None else int(time.time())


@dataclass(frozen=True)
class TokenCheck:
    """Outcome of reading a token: status and, when known, the seconds since issue."""

    status: str
    age_seconds: float | None = None


def issue_token(secret: str, form_id: int, *, issued_at: int | None = None) -> str:
    """A token for one form, stamped now (or at `issued_at`)."""
    return _Signer(secret, issued_at=issued_at).sign(str(form_id)).decode()


def read_token(secret: str, token: str | None, *, form_id: int, max_age: int, now: float | None = None) -> TokenCheck:
    """Check signature, age and form; never raises for bad input."""
    if not token:
        return TokenCheck(MISSING)
    now = time.time() if now is None else now
    signer = _Signer(secret)
    try:
        value, issued = signer.unsign(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        age = now - exc.date_signed.timestamp() if exc.date_signed else None
        return TokenCheck(EXPIRED, age)
    except BadSignature:
        return TokenCheck(FORGED)
    age = max(0.0, now - issued.timestamp())
    if value.decode() != str(form_id):
        return TokenCheck(WRONG_FORM, age)
    return TokenCheck(VALID, age)
