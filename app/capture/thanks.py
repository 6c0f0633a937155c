"""What the thank-you page (and the JSON answer, and the e-mail) promises and hands over.

- Thank-you links are signed: `/f/<slug>/thanks/<token>`, the token naming the form and the
  submission. The hosted form answers a post with a 303 to it, so a refresh shows the page again
  instead of posting again. The page never looks the submission up: whether it still exists
  (rejected ones are purged) must not show, so a visitor learns nothing of the verdict from it.
- Asset links are absolute on PUBLIC_BASE_URL: a relative `/static/…` on a page that embeds the
  form would point at the host site.
- An e-mail is promised only when one will be sent: the form sends visitor e-mails and an SMTP_URL
  (or the development outbox) is set. `sends_visitor_email` decides both the promise and the send.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.capture.tokens import signing_keys

SALT = "leadsieve.thanks"
# A thank-you link (and its calendar file) keeps working this long: refreshes, a later click on "Add to calendar".
THANKS_MAX_AGE = 90 * 24 * 3600
# Kinds whose pages promised an e-mail before the editor had a switch for it: on unless turned off.
EMAIL_BY_DEFAULT = ("download", "webinar")


@dataclass(frozen=True)
class ThanksRef:
    """What a genuine thank-you token names."""

    form_id: int
    submission_id: int


def _serializer(secret: str, fallbacks: Sequence[str] = ()) -> URLSafeTimedSerializer:
    return _cached_serializer(secret, tuple(fallbacks))


@functools.lru_cache(maxsize=16)
def _cached_serializer(secret: str, fallbacks: tuple[str, ...]) -> URLSafeTimedSerializer:
    """Built once per key set: every captured post signs one token (it holds no per-call state)."""
    return URLSafeTimedSerializer(signing_keys(secret, fallbacks), salt=SALT)


def thanks_token(secret: str, *, form_id: int, submission_id: int) -> str:
    """A signed token for one submission's thank-you page."""
    return str(_serializer(secret).dumps([form_id, submission_id]))


def read_thanks_token(
    secret: str, token: str, *, max_age: int = THANKS_MAX_AGE, fallbacks: Sequence[str] = ()
) -> ThanksRef | None:
    """The form and submission a token names, if it is genuine and fresh; None otherwise."""
    try:
        value = _serializer(secret, fallbacks).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        return None
    return ThanksRef(form_id=value[0], submission_id=value[1])


def absolute_url(url: str, base_url: str) -> str:
    """`url` made absolute on `base_url` (PUBLIC_BASE_URL); absolute http(s) URLs stay as they are."""
    if not url:
        return ""
    if urlsplit(url).scheme in ("http", "https"):
        return url
    return urljoin(base_url.rstrip("/") + "/", url)


def visitor_email_settings(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The form's visitor e-mail settings: enabled, subject, body (defaults filled in)."""
    stored = settings.get("visitor_email")
    data = stored if isinstance(stored, dict) else {}
    enabled = data.get("enabled")
    return {
        "enabled": bool(enabled) if enabled is not None else kind in EMAIL_BY_DEFAULT,
        "subject": str(data.get("subject") or ""),
        "body": str(data.get("body") or ""),
    }


def sends_visitor_email(kind: str, settings: dict[str, Any], *, smtp_url: str) -> bool:
    """Will an accepted submission of this form get an e-mail? The thank-you page promises one only then."""
    return bool(smtp_url) and visitor_email_settings(kind, settings)["enabled"]
