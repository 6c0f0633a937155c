"""Consents in the CRMs' own terms; pure, from the payload's `consents` (app/consent/payload.py).

HubSpot (Forms API v3 `legalConsentOptions.consent`): `consentToProcess` and its `text` from the contact
consent; `communications` (one subscription type, the destination's option `subscription_type_id`) from
the marketing consent, true only once it is confirmed by e-mail.

Salesforce Web-to-Lead: options map each consent to a field the org has, e.g. `consent.contact=Contact_Consent__c`
and `consent.marketing=Marketing_Opt_In__c` (checkboxes: "1" or "0"), `consent.contact_text=...` and
`consent.marketing_text=...` for the wording agreed to.
"""

from __future__ import annotations

from typing import Any

from app.forwarding.adapters import text

CONSENT_PREFIX = "consent."


def _record(payload: dict[str, Any], kind: str) -> dict[str, Any] | None:
    record = (payload.get("consents") or {}).get(kind)
    return record if isinstance(record, dict) else None


def _marketing_agreed(record: dict[str, Any] | None) -> bool:
    return bool(record and record.get("given") is True and record.get("confirmed") is True)


def hubspot_legal_consent(payload: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The `legalConsentOptions` object, or {} when the form showed no consent box."""
    contact, marketing = _record(payload, "contact"), _record(payload, "marketing")
    if contact is None and marketing is None:
        return {}
    consent: dict[str, Any] = {
        "consentToProcess": bool(contact and contact.get("given") is True),
        "text": str((contact or marketing or {}).get("text") or ""),
    }
    subscription = str(options.get("subscription_type_id") or "").strip()
    if marketing is not None and subscription.isdigit():
        consent["communications"] = [
            {
                "value": _marketing_agreed(marketing),
                "subscriptionTypeId": int(subscription),
                "text": str(marketing.get("text") or ""),
            }
        ]
    return {"consent": consent}


def salesforce_consent_fields(payload: dict[str, Any], options: dict[str, Any]) -> dict[str, str]:
    """The fields the destination's `consent.*` options name, with this lead's values."""
    contact, marketing = _record(payload, "contact"), _record(payload, "marketing")
    values = {
        "contact": "1" if contact and contact.get("given") is True else "0",
        "marketing": "1" if _marketing_agreed(marketing) else "0",
        "contact_text": text.one_line((contact or {}).get("text"), 1000),
        "marketing_text": text.one_line((marketing or {}).get("text"), 1000),
    }
    fields = {}
    for key, field in options.items():
        name = key[len(CONSENT_PREFIX) :] if key.startswith(CONSENT_PREFIX) else ""
        if name in values and str(field).strip():
            fields[str(field).strip()] = values[name]
    return fields
