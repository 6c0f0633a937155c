"""Salesforce Web-to-Lead: the form post a Salesforce-generated HTML form would make.

Options: `oid` (the organisation id, required), `lead_source` (default "Web"),
`ret_url` (default the page the lead submitted on), and `field.<name>=<value>`
for fixed extra fields such as custom field ids (`field.00N5e00000abcde=Webinar`);
`utm_source`, `utm_medium`, `utm_campaign`, `utm_term`, `utm_content` = the field API name (or
custom field id) that receives that UTM value, e.g. `utm_source=UTM_Source__c`; unmapped ones are
left out (they stay in the description).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from app.forwarding.adapters import http, text
from app.forwarding.adapters.consents import salesforce_consent_fields
from app.forwarding.adapters.crm import extra_fields
from app.forwarding.adapters.types import AttemptResult, DeliverySettings, DestinationSpec

NOT_PROVIDED = "[not provided]"  # Salesforce drops a web-to-lead without last name or company
UTM_OPTIONS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
FIELD_NAME = re.compile(r"[A-Za-z0-9_]{1,80}")  # an API name (Campaign_Source__c) or a field id (00N...)


def description(payload: dict[str, Any]) -> str:
    """Everything without a standard Web-to-Lead field, as readable text (max 32 000 characters)."""
    return text.plain_text(payload)[:32000]


def utm_fields(payload: dict[str, Any], options: dict[str, Any]) -> dict[str, str]:
    """The UTM values under the field names the destination's options map them to (set ones only).
    Payloads routed before `attribution` existed (a retry) fall back to their `utm` object."""
    seen, utm = payload.get("attribution") or {}, payload.get("utm") or {}
    mapped = {}
    for option in UTM_OPTIONS:
        field = str(options.get(option) or "").strip()
        value = text.one_line(seen.get(option, utm.get(option.removeprefix("utm_"))), 255)
        if FIELD_NAME.fullmatch(field) and value:
            mapped[field] = value
    return mapped


def fields(payload: dict[str, Any], options: dict[str, Any]) -> dict[str, str]:
    """The form fields, in Web-to-Lead names and lengths."""
    values = {
        "oid": str(options.get("oid", "")),
        "first_name": text.one_line(payload.get("first_name"), 40),
        "last_name": text.one_line(payload.get("last_name"), 80) or NOT_PROVIDED,
        "email": text.one_line(payload.get("email"), 80),
        "company": text.one_line(payload.get("company"), 255) or NOT_PROVIDED,
        "title": text.one_line(payload.get("job_title"), 128),
        "phone": text.one_line(payload.get("phone"), 40),
        "country": text.one_line(payload.get("country"), 80),
        "lead_source": text.one_line(options.get("lead_source") or "Web", 40),
        "description": description(payload),
        "retURL": str(options.get("ret_url") or payload.get("page_url") or ""),
    }
    values.update(salesforce_consent_fields(payload, options))
    values.update(utm_fields(payload, options))
    values.update(payload.get("crm_fields", {}).get("salesforce", {}))  # the form's mapped fields
    values.update(extra_fields(options))
    return values


def send(
    spec: DestinationSpec, payload: dict[str, Any], *, idempotency_key: str, settings: DeliverySettings
) -> AttemptResult:
    """POST the lead as application/x-www-form-urlencoded."""
    if not spec.options.get("oid"):
        return AttemptResult(ok=False, error="salesforce destination needs the option oid=<organisation id>")
    body = urlencode(fields(payload, spec.options)).encode("ascii")
    return http.post(
        spec.target,
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": idempotency_key},
        settings=settings,
    )
