"""The `consents` every destination is told about: each box the form showed, as stored at capture, and
for marketing whether the e-mailed double opt-in is confirmed yet (a marketing destination only ever
receives it confirmed: app/consent/opt_in.py holds its delivery until then)."""

from __future__ import annotations

from typing import Any

from app.consent.records import MARKETING, iso
from app.models import Lead, Submission


def consents_payload(submission: Submission, lead: Lead) -> dict[str, Any]:
    """{kind: {given, text, version, at, language}}; marketing also has `confirmed` and `confirmed_at`, and
    `withdrawn_at` once the person unsubscribed."""
    data = {kind: dict(record) for kind, record in (submission.consents or {}).items() if isinstance(record, dict)}
    if MARKETING in data:
        data[MARKETING].setdefault("confirmed", False)
        data[MARKETING].setdefault("confirmed_at", None)
    if lead.unsubscribed_at is not None:
        data[MARKETING] = {**data.get(MARKETING, {}), "given": False, "withdrawn_at": iso(lead.unsubscribed_at)}
    return data


def confirm_in_payload(payload: dict[str, Any], confirmed_at: str) -> dict[str, Any]:
    """A routed payload (top level and `data`) with its marketing consent marked confirmed."""

    def confirmed(part: dict[str, Any]) -> dict[str, Any]:
        consents = dict(part.get("consents") or {})
        if MARKETING in consents:
            consents[MARKETING] = {**consents[MARKETING], "confirmed": True, "confirmed_at": confirmed_at}
        return {**part, "consents": consents}

    result = confirmed(payload)
    if isinstance(payload.get("data"), dict):
        result["data"] = confirmed(payload["data"])
    return result
