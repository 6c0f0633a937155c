"""What a submission stores about each consent box it showed: pure functions, no Flask, no database.

Two kinds, separate choices under GDPR: `contact` (be contacted about this request; a form may require
it) and `marketing` (receive marketing; never pre-ticked, never required, confirmed by e-mail before any
marketing destination gets the person). Each record keeps the exact text shown, its version (the first
16 hex digits of its SHA-256, so editing the wording starts a new version), the time and the language.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

CONTACT = "contact"
MARKETING = "marketing"
KINDS = (CONTACT, MARKETING)


def text_version(text: str) -> str:
    """A short, stable fingerprint of a consent wording ("" for no text)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text else ""


def iso(moment: datetime) -> str:
    """A stored (naive UTC) time as ISO 8601 with its Z."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def consent_texts(settings: dict[str, Any]) -> dict[str, str]:
    """The texts of the boxes a form shows, by kind; a kind without text has no box."""
    texts = {
        CONTACT: str(settings.get("consent_text") or ""),
        MARKETING: str(settings.get("marketing_consent_text") or ""),
    }
    return {kind: text for kind, text in texts.items() if text}


def contact_required(settings: dict[str, Any]) -> bool:
    """Whether the contact box must be ticked: yes unless the marketer turned it off (forms saved before
    the switch required their one box)."""
    return settings.get("consent_required", True) is not False


def records(
    settings: dict[str, Any], given: dict[str, bool], *, at: datetime, language: str
) -> dict[str, dict[str, Any]]:
    """One record per box the form showed: whether it was ticked, the text, version, time and language."""
    return {
        kind: {
            "given": bool(given.get(kind)),
            "text": text,
            "version": text_version(text),
            "at": iso(at),
            "language": language,
        }
        for kind, text in consent_texts(settings).items()
    }


def given(consents: dict[str, Any] | None, kind: str) -> bool:
    """Whether a stored record of this kind says ticked."""
    record = (consents or {}).get(kind)
    return isinstance(record, dict) and record.get("given") is True


def consent_line(payload: dict[str, Any]) -> str:
    """A payload's consents as one readable line for e-mail, Slack and CRM text, e.g.
    "contact: yes; marketing: yes, confirmed"; "" when the form showed no box."""
    parts = []
    for kind, record in (payload.get("consents") or {}).items():
        if not isinstance(record, dict) or kind not in KINDS:
            continue
        state = "yes" if record.get("given") is True else "no"
        if kind == MARKETING and record.get("withdrawn_at"):
            state = "withdrawn"
        elif kind == MARKETING and state == "yes":
            state += ", confirmed" if record.get("confirmed") is True else ", not confirmed yet"
        parts.append(f"{kind}: {state}")
    return "; ".join(parts)
