"""A form's answers as each destination names them (the field list's per-destination mapping).

Fixed at routing time in the payload: `answers` keyed by each field's webhook key (its own key unless the
marketer mapped it), and `crm_fields` with the HubSpot properties and Salesforce fields the marketer
mapped, values already in the CRM's form (several choices joined by ";", a ticked box "true"/"1").
The CRM adapters add `crm_fields` to what they send; fields without a mapping reach Salesforce in the
description text and HubSpot not at all (HubSpot refuses properties it does not know).
"""

from __future__ import annotations

from typing import Any

from app.models import Submission
from forms import FORM_KINDS
from forms.dynamic import field_specs
from forms.field_spec import FieldSpec


def crm_value(value: Any, destination: str) -> str:
    """One answer as a CRM form post carries it: text, a number, several choices joined by ";" (HubSpot's
    multiple checkboxes and Salesforce's multi-select picklists), a ticked box "true" (HubSpot) or "1"."""
    if isinstance(value, bool):
        return ("true" if value else "false") if destination == "hubspot" else ("1" if value else "0")
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def _value(submission: Submission, spec: FieldSpec, answers: dict[str, Any]) -> Any:
    return getattr(submission, spec.key, "") if spec.contact else answers.get(spec.key)


def field_payload(submission: Submission) -> dict[str, Any]:
    """`answers` (webhook keys) and `crm_fields` ({"hubspot": {...}, "salesforce": {...}}) of a submission."""
    form = submission.form
    answers = dict(submission.answers or {})
    kind = FORM_KINDS.get(form.kind)
    specs = field_specs(kind, form.settings or {}) if kind is not None else ()
    listed = {spec.key: spec for spec in specs}
    webhook: dict[str, Any] = {}
    for key, value in answers.items():  # answers of fields since removed from the form keep their key
        spec = listed.get(key)
        webhook[spec.mapping.get("webhook", key) if spec is not None else key] = value
    crm: dict[str, dict[str, str]] = {"hubspot": {}, "salesforce": {}}
    for spec in specs:
        value = _value(submission, spec, answers)
        if value in (None, "", [], ()):
            continue
        for destination, names in crm.items():
            if name := spec.mapping.get(destination):
                names[name] = crm_value(value, destination)
    return {"answers": webhook, "crm_fields": crm}
