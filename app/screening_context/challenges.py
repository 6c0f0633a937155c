"""Ask the form's challenge provider (siteverify) and Akismet about a submission, in the worker.

Capture stored the posted token with the post (`Submission.raw`); here, before the pure `screen()`,
the worker posts it with the form's secret to the provider's siteverify API and hands the outcome to
screening as data (`Candidate.challenge` / `.akismet`, screening/check_challenge.py). A time-out, a 5xx
or a refused connection is `unknown` (held, never rejected). A definite answer is kept on the submission
(`signals["challenge_result"]`, `signals["akismet_result"]`): tokens are single-use, so a re-screen reuses
it instead of asking again and being told "duplicate".
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.capture.challenges import PROVIDERS
from app.models import Submission

log = logging.getLogger(__name__)

MAX_ANSWER = 64 * 1024


class VerifyUnavailable(Exception):
    """The verification API did not give a usable answer (time-out, refused, 5xx, not JSON)."""


def _post(url: str, fields: Mapping[str, str], *, timeout: float) -> tuple[bytes, Mapping[str, str]]:
    """POST form-encoded `fields`; the body and headers, or VerifyUnavailable."""
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "leadsieve"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL from settings
            return response.read(MAX_ANSWER), dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        raise VerifyUnavailable(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise VerifyUnavailable(str(reason) or type(exc).__name__) from exc


def _age_seconds(submission: Submission) -> float | None:
    received = submission.received_at
    if received is None:
        return None
    if received.tzinfo is None:
        received = received.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - received).total_seconds())


def verify_challenge(submission: Submission, config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The form's challenge outcome for this submission, or None when the form asks for none."""
    settings = (submission.form.settings or {}).get("challenge") or {}
    provider = PROVIDERS.get(str(settings.get("provider") or ""))
    if provider is None:
        return None
    name = str(settings["provider"])
    stored = (submission.signals or {}).get("challenge_result")
    if stored and stored.get("provider") == name:
        return dict(stored)
    token = str((submission.raw or {}).get(provider.field) or "").strip()
    if not token:
        return {"provider": name, "outcome": "missing"}
    fields = {"secret": str(settings.get("secret", "")), "response": token}
    if submission.ip:
        fields["remoteip"] = submission.ip
    age = _age_seconds(submission)
    try:
        body, _ = _post(config[provider.verify_setting], fields, timeout=config["CHALLENGE_TIMEOUT_SECONDS"])
        answer = json.loads(body)
        if not isinstance(answer, dict) or not isinstance(answer.get("success"), bool):
            raise VerifyUnavailable("the answer is not siteverify's JSON")
    except (VerifyUnavailable, ValueError) as exc:
        log.warning("challenge verification unavailable (%s): %s", name, exc)
        return {"provider": name, "outcome": "unknown", "detail": str(exc)}
    codes = [str(c) for c in answer.get("error-codes") or []]
    result: dict[str, Any] = {"provider": name, "error_codes": codes, "age_seconds": age}
    if not answer["success"]:
        if set(codes) & {"missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch", "internal-error"}:
            return {**result, "outcome": "unknown", "detail": "our keys or the provider: " + ", ".join(codes)}
        return {**result, "outcome": "failed"}
    if name == "recaptcha_v3":
        score = answer.get("score")
        min_score = float(settings.get("min_score", 0.5))
        if isinstance(score, int | float) and score < min_score:
            return {**result, "outcome": "low_score", "score": score, "min_score": min_score}
        result["score"] = score
    return {**result, "outcome": "passed"}


def check_akismet(submission: Submission, config: Mapping[str, Any]) -> dict[str, Any] | None:
    """Akismet's comment-check on the message, when the form asks for it and there is a message."""
    if not (submission.form.settings or {}).get("akismet") or not (submission.message or "").strip():
        return None
    stored = (submission.signals or {}).get("akismet_result")
    if stored:
        return dict(stored)
    key = config.get("AKISMET_API_KEY") or ""
    if not key:
        return {"outcome": "unknown", "detail": "AKISMET_API_KEY is not set"}
    fields = {
        "api_key": str(key),
        "blog": str(config.get("PUBLIC_BASE_URL") or ""),
        "user_ip": submission.ip or "",
        "user_agent": submission.user_agent or "",
        "comment_type": "contact-form",
        "comment_author": f"{submission.first_name} {submission.last_name}".strip(),
        "comment_author_email": submission.email,
        "comment_content": submission.message,
    }
    try:
        body, headers = _post(config["AKISMET_URL"], fields, timeout=config["CHALLENGE_TIMEOUT_SECONDS"])
    except VerifyUnavailable as exc:
        log.warning("Akismet unavailable: %s", exc)
        return {"outcome": "unknown", "detail": str(exc)}
    text = body.decode("utf-8", "replace").strip()
    if text == "true":
        tip = {k.lower(): v for k, v in headers.items()}.get("x-akismet-pro-tip", "")
        return {"outcome": "spam", "discard": tip == "discard"}
    if text == "false":
        return {"outcome": "ham"}
    debug = {k.lower(): v for k, v in headers.items()}.get("x-akismet-debug-help", "")
    return {"outcome": "unknown", "detail": (debug or text or "an empty answer")[:200]}


def gather(submission: Submission, config: Mapping[str, Any]) -> dict[str, Any]:
    """`challenge` and `akismet` for the candidate; a definite answer is kept on the submission's signals
    (flushed with the verdict by the caller) so a re-screen does not ask again."""
    challenge = verify_challenge(submission, config)
    akismet = check_akismet(submission, config)
    signals = dict(submission.signals or {})
    if challenge and challenge["outcome"] in ("passed", "failed", "low_score"):
        signals["challenge_result"] = challenge
    if akismet and akismet["outcome"] in ("spam", "ham"):
        signals["akismet_result"] = akismet
    if signals != (submission.signals or {}):
        submission.signals = signals
    return {"challenge": challenge, "akismet": akismet}
