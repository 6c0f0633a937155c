"""Turning a lead payload into human-readable text, shared by e-mail, Slack and the CRM adapters."""

from __future__ import annotations

import re
from typing import Any

from app.consent.records import consent_line

CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")

# BANT answer keys as the forms store them, with their labels.
ANSWER_LABELS = {"budget": "Budget", "authority": "Authority", "need": "Need", "timeline": "Timeline"}


def _alert_text() -> Any:
    """app/forwarding/adapters/alert_text.py, imported when first used (it imports this module)."""
    from app.forwarding.adapters import alert_text

    return alert_text


def one_line(value: Any, limit: int = 200) -> str:
    """The value as a single line: CR, LF and every other control character become one space."""
    text = CONTROL.sub(" ", "" if value is None else str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def full_name(payload: dict[str, Any]) -> str:
    """First and last name, or the e-mail address when both are empty."""
    name = " ".join(part for part in (one_line(payload.get("first_name")), one_line(payload.get("last_name"))) if part)
    return name or one_line(payload.get("email")) or "unknown"


def feedback_label(payload: dict[str, Any]) -> str:
    """What sales said, for a `lead.feedback` event (e.g. "Rejected: no budget"); "" for any other."""
    feedback = payload.get("feedback")
    if payload.get("type") != "lead.feedback" or not isinstance(feedback, dict):
        return ""
    return one_line(feedback.get("label") or feedback.get("outcome"), 60)


def title(payload: dict[str, Any]) -> str:
    """What the message is about: "SQL lead", or "Sales feedback (Won)" for a feedback event."""
    if label := feedback_label(payload):
        return f"Sales feedback ({label})"
    return f"{one_line(payload.get('stage'), 20) or 'New'} lead"


def headline(payload: dict[str, Any]) -> str:
    """E.g. "SQL lead: Jane Doe (Initech)"; an alert event's own headline (alert_text)."""
    if (alerts := _alert_text()).is_alert(payload):
        return alerts.headline(payload)
    company = one_line(payload.get("company"), 100)
    return f"{title(payload)}: {full_name(payload)}" + (f" ({company})" if company else "")


def owner_line(owner: Any) -> str:
    """'Ann Seller <ann@example.com>' for the payload's owner; '' when nobody owns the lead."""
    if not isinstance(owner, dict):
        return ""
    return one_line(f"{one_line(owner.get('name'), 100)} <{one_line(owner.get('email'), 320)}>", 430)


def is_web_url(value: Any) -> bool:
    """True for an absolute http(s) URL without whitespace (safe to put in a link)."""
    return isinstance(value, str) and bool(re.fullmatch(r"https?://[^\s<>\"']+", value))


def details(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows describing the lead, empty values left out, in reading order (or the alert's)."""
    if (alerts := _alert_text()).is_alert(payload):
        return alerts.details(payload)
    form = payload.get("form") or {}
    utm = payload.get("utm") or {}
    answers = payload.get("answers") or {}
    feedback = payload.get("feedback") if feedback_label(payload) else {}
    rows = [
        ("Sales feedback", feedback_label(payload)),
        ("Sales note", one_line((feedback or {}).get("note"), 300)),
        ("Stage", one_line(payload.get("stage"))),
        ("Why", one_line(payload.get("stage_reason"), 300)),
        ("Owner", owner_line(payload.get("owner"))),
        ("Touch by", one_line(payload.get("sla_due_at"))),
        ("Name", full_name(payload)),
        ("E-mail", one_line(payload.get("email"), 320)),
        ("Company", one_line(payload.get("company"))),
        ("Job title", one_line(payload.get("job_title"))),
        ("Phone", one_line(payload.get("phone"), 50)),
        ("Country", one_line(payload.get("country"), 80)),
        ("Score", one_line(payload.get("score"))),
        ("Form", f"{one_line(form.get('name'))} ({one_line(form.get('slug'))})" if form.get("slug") else ""),
    ]
    for key, value in answers.items():
        label = ANSWER_LABELS.get(key) or one_line(key, 40).replace("_", " ").capitalize()
        rows.append((label, one_line(value)))
    campaign = ", ".join(f"{key}={one_line(value, 100)}" for key, value in utm.items() if value)
    rows += [
        ("Consent", consent_line(payload)),
        ("Campaign", campaign),
        ("Page", one_line(payload.get("page_url"), 500)),
        ("Received", one_line(payload.get("received_at"))),
    ]
    return [(label, value) for label, value in rows if value]


def message(payload: dict[str, Any], limit: int = 5000) -> str:
    """The visitor's message, line breaks kept, other control characters removed (an alert has none)."""
    if _alert_text().is_alert(payload):
        return ""
    text = "" if payload.get("message") is None else str(payload.get("message"))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text).strip()
    return text[:limit]


def plain_text(payload: dict[str, Any]) -> str:
    """A readable plain-text description: the detail rows, the message, the feedback link."""
    width = max((len(label) for label, _ in details(payload)), default=0)
    lines = [f"{label + ':':<{width + 1}} {value}" for label, value in details(payload)]
    if text := message(payload):
        lines += ["", "Message:", text]
    if is_web_url(payload.get("feedback_url")):
        lines += ["", f"Tell us how this lead turned out: {payload['feedback_url']}"]
    return "\n".join(lines) + "\n"
