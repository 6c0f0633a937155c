"""HubSpot form submission (Forms API v3 JSON) to the configured URL.

The URL is the form's submit endpoint, e.g.
https://api.hsforms.com/submissions/v3/integration/submit/<portal id>/<form guid>.
Options: `lifecycle=off` leaves out `lifecyclestage`; `field.<name>=<value>` adds
fixed contact properties.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from app.forwarding.adapters import http, text
from app.forwarding.adapters.consents import hubspot_legal_consent
from app.forwarding.adapters.crm import extra_fields
from app.forwarding.adapters.types import AttemptResult, DeliverySettings, DestinationSpec
from app.statuses import Stage

CONTACT = "0-1"  # HubSpot's object type id for contacts
LIFECYCLE: dict[str, str] = {
    Stage.PROSPECT: "lead",
    Stage.MQL: "marketingqualifiedlead",
    Stage.SQL: "salesqualifiedlead",
}


def submitted_at(payload: dict[str, Any]) -> dict[str, str]:
    """{"submittedAt": ms since the epoch as a string} from `received_at` (UTC, ends in Z), else {}."""
    try:
        received = datetime.fromisoformat(str(payload.get("received_at") or "").removesuffix("Z"))
    except ValueError:
        return {}
    return {"submittedAt": str(int(received.replace(tzinfo=UTC).timestamp() * 1000))}


def context(payload: dict[str, Any]) -> dict[str, str]:
    """pageUri, pageName (the host page's title; omitted when unknown), ipAddress and hutk (HubSpot's
    visitor cookie, which ties the contact to its page views), each left out when empty."""
    seen = payload.get("attribution") or {}
    values = {
        "hutk": str(seen.get("hutk") or ""),
        "ipAddress": str(seen.get("ip_address") or ""),
        "pageUri": str(seen.get("page_url") or payload.get("page_url") or ""),
        "pageName": text.one_line(seen.get("page_title"), 200),
    }
    return {key: value for key, value in values.items() if value}


def submission(payload: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """{"fields": [{"objectTypeId", "name", "value"}...], "submittedAt", "context": {...}} (Forms API v3)."""
    values = {
        "email": text.one_line(payload.get("email"), 320),
        "firstname": text.one_line(payload.get("first_name")),
        "lastname": text.one_line(payload.get("last_name")),
        "company": text.one_line(payload.get("company")),
        "jobtitle": text.one_line(payload.get("job_title")),
        "phone": text.one_line(payload.get("phone"), 50),
        "country": text.one_line(payload.get("country"), 80),
        "message": text.message(payload),
    }
    if str(options.get("lifecycle", "on")).lower() not in {"off", "0", "false", "no"}:
        values["lifecyclestage"] = LIFECYCLE.get(str(payload.get("stage")), "")
    values.update(payload.get("crm_fields", {}).get("hubspot", {}))  # the form's mapped fields
    values.update(extra_fields(options))
    return {
        "fields": [{"objectTypeId": CONTACT, "name": name, "value": value} for name, value in values.items() if value],
        **submitted_at(payload),
        "context": context(payload),
        **({"legalConsentOptions": legal} if (legal := hubspot_legal_consent(payload, options)) else {}),
    }


def send(
    spec: DestinationSpec, payload: dict[str, Any], *, idempotency_key: str, settings: DeliverySettings
) -> AttemptResult:
    """POST the submission JSON."""
    body = json.dumps(submission(payload, spec.options), ensure_ascii=False).encode("utf-8")
    return http.post(
        spec.target,
        body,
        {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key},
        settings=settings,
    )
