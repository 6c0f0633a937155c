"""Signed form tokens: what a session cookie would carry, for forms embedded cross-site.

A token names the form and when it was issued. It tells screening how long the
visitor took to fill the form and whether the post is forged or stale. It never
blocks a submission on its own.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import BadSignature, TimestampSigner

SALT = "leadsieve.form-token"

VALID = "valid"
MISSING = "missing"
FORGED = "forged"
EXPIRED = "expired"
WRONG_FORM = "wrong_form"


def signing_keys(secret: str, fallbacks: Sequence[str] = ()) -> list[str]:
    """Keys in itsdangerous's order: former ones (SECRET_KEY_FALLBACKS, oldest first), then the current one,
    which alone signs; all of them verify, so rotating SECRET_KEY leaves issued tokens and links valid."""
    return [*fallbacks, secret]


class _Signer(TimestampSigner):
    """TimestampSigner whose clock can be set, so tests can mint old tokens."""

    def __init__(self, secret: str, *, fallbacks: Sequence[str] = (), issued_at: int | None = None) -> None:
        super().__init__(signing_keys(secret, fallbacks), salt=SALT)
        self._issued_at = issued_at

    def get_timestamp(self) -> int:
        return self._issued_at if self._issued_at is not None else int(time.time())


@functools.lru_cache(maxsize=16)
def _verifier(secret: str, fallbacks: tuple[str, ...]) -> _Signer:
    """Built once per key set: every captured post checks one token (a signer holds no per-call state)."""
    return _Signer(secret, fallbacks=fallbacks)


STATIC_SUFFIX = ":static"


@dataclass(frozen=True)
class TokenCheck:
    """Outcome of reading a token: status, seconds since issue, and whether it is a static copy's."""

    status: str
    age_seconds: float | None = None
    static: bool = False


def issue_token(secret: str, form_id: int, *, issued_at: int | None = None, static: bool = False) -> str:
    """A token for one form, stamped now (or at `issued_at`).

    Static tokens go into a pasted snippet and live long; their age says nothing
    about how long the visitor took, so no fill time is derived from them.
    """
    value = f"{form_id}{STATIC_SUFFIX if static else ''}"
    return _Signer(secret, issued_at=issued_at).sign(value).decode()


def read_token(
    secret: str,
    token: str | None,
    *,
    form_id: int,
    max_age: int,
    static_max_age: int | None = None,
    now: float | None = None,
    fallbacks: Sequence[str] = (),
) -> TokenCheck:
    """Check signature (current key or a fallback), age and form; never raises for bad input."""
    if not token:
        return TokenCheck(MISSING)
    now = time.time() if now is None else now
    signer = _verifier(secret, tuple(fallbacks))
    try:
        value, issued = signer.unsign(token, return_timestamp=True)
    except BadSignature:
        return TokenCheck(FORGED)
    text = value.decode()
    static = text.endswith(STATIC_SUFFIX)
    age = max(0.0, now - issued.timestamp())
    limit = (static_max_age or max_age) if static else max_age
    if age > limit:
        return TokenCheck(EXPIRED, None if static else age, static)
    if text.removesuffix(STATIC_SUFFIX) != str(form_id):
        return TokenCheck(WRONG_FORM, None if static else age, static)
    return TokenCheck(VALID, None if static else age, static)
