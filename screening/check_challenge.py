"""Findings from the form's challenge provider and from Akismet, verified by the worker beforehand.

The network calls happen outside this package (app/screening_context/challenges.py); what arrives here is
their outcome as data on the candidate, so the same outcome always gives the same findings. A provider we
could not reach is *uncertain* (held, never rejected): our outage is not the visitor's fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from screening.context import Context
from screening.model import Candidate, Finding

NAMES = {"turnstile": "Cloudflare Turnstile", "hcaptcha": "hCaptcha", "recaptcha_v3": "reCAPTCHA v3"}
# Error codes that say the token itself is forged, already used or expired: enough to reject, when the
# worker asked soon enough that "expired" cannot be our queue's fault.
TOKEN_REFUSED = frozenset(
    {
        "invalid-input-response",
        "timeout-or-duplicate",
        "already-seen-response",
        "invalid-or-already-seen-response",
        "expired-input-response",
    }
)
EXPIRING = frozenset({"timeout-or-duplicate", "expired-input-response"})
# A token older than this when verified may have expired in our queue (reCAPTCHA's last 2 minutes).
FRESH_SECONDS = 100.0
REJECT_WEIGHT = 100
HOLD_WEIGHT = 60
UNKNOWN_WEIGHT = 60


def check_challenge(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """A failed, missing or low-scoring challenge is spam; an unanswered verification is uncertain."""
    result: Mapping[str, Any] | None = candidate.challenge
    if not result:
        return
    name = NAMES.get(str(result.get("provider", "")), str(result.get("provider", "the challenge")))
    outcome = result.get("outcome")
    detail = str(result.get("detail", "") or "")
    if outcome == "missing":
        yield Finding("challenge.missing", "spam", HOLD_WEIGHT, f"the form asks for {name}, but no token was posted")
    elif outcome == "failed":
        codes = [str(c) for c in result.get("error_codes", ()) or ()]
        refused = set(codes) & TOKEN_REFUSED
        age = result.get("age_seconds")
        if refused and refused <= EXPIRING and (age is None or float(age) > FRESH_SECONDS):
            refused = set()  # it may have expired while waiting in our queue: hold, do not reject
        weight = REJECT_WEIGHT if refused else HOLD_WEIGHT
        said = ", ".join(codes) if codes else "no error code"
        yield Finding("challenge.failed", "spam", weight, f"{name} refused the token ({said})")
    elif outcome == "low_score":
        yield Finding(
            "challenge.low_score",
            "spam",
            HOLD_WEIGHT,
            f"{name} scored the visitor {result.get('score')} (below the form's {result.get('min_score')})",
        )
    elif outcome == "unknown":
        yield Finding(
            "challenge.unknown",
            "uncertain",
            UNKNOWN_WEIGHT,
            f"{name} could not be asked ({detail or 'no answer'}): held until a reviewer looks",
        )


def check_akismet(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Akismet's verdict on the message: spam is a finding ("discard": blatant); no answer is uncertain."""
    result: Mapping[str, Any] | None = candidate.akismet
    if not result:
        return
    outcome = result.get("outcome")
    if outcome == "spam":
        blatant = bool(result.get("discard"))
        weight = REJECT_WEIGHT if blatant else HOLD_WEIGHT
        evidence = "Akismet says the message is spam" + (" (blatant: pro-tip discard)" if blatant else "")
        yield Finding("akismet.spam", "spam", weight, evidence)
    elif outcome == "unknown":
        detail = str(result.get("detail", "") or "no answer")
        yield Finding("akismet.unknown", "uncertain", UNKNOWN_WEIGHT, f"Akismet could not be asked ({detail})")
