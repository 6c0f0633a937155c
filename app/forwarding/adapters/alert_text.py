"""Alert events (app/alerts) as readable text for the e-mail and Slack adapters.

An alert payload has `type` `alert.opened`, `alert.resolved`, `alert.digest` or `lead.sla_breached`
(lead payloads have no `type`); webhooks send it as JSON unchanged. Every value becomes one line of
plain text here, so the adapters' own escaping and header rules apply to it as to a lead's fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.forwarding.adapters.text import is_web_url, one_line

LIMIT = 500
# Events about one lead that read as an alert (app/alerts/sla_breaches.py): a headline and details.
ALERT_LIKE = frozenset({"lead.sla_breached"})


def is_alert(payload: dict[str, Any]) -> bool:
    """True for an alert event rather than a lead."""
    kind = payload.get("type")
    return isinstance(kind, str) and (kind.startswith("alert.") or kind in ALERT_LIKE)


def _when(value: Any) -> str:
    """'2026-12-03 08:00 UTC' from the payload's ISO time."""
    text = one_line(value, 40)
    return text.replace("T", " ")[:16] + " UTC" if text else ""


def _digest_counts(payload: dict[str, Any]) -> tuple[int, int, int]:
    return tuple(len(payload.get(name) or []) for name in ("opened", "resolved", "still_open"))  # type: ignore[return-value]


def headline(payload: dict[str, Any]) -> str:
    """E.g. "Alert: 3 deliveries to “CRM” ran out of retries …", "Resolved: …", or the digest's counts."""
    if payload.get("type") == "alert.digest":
        opened, resolved, still_open = _digest_counts(payload)
        return f"leadsieve alerts, daily digest: {opened} opened, {resolved} resolved, {still_open} still open"
    alert = payload.get("alert") or {}
    summary = one_line(alert.get("summary"), 300)
    if payload.get("type") == "alert.resolved":
        return f"Resolved: {summary}"
    return f"Alert ({one_line(alert.get('severity'), 20) or 'warning'}): {summary}"


def _line(alert: dict[str, Any], *, resolved: bool = False) -> str:
    when = _when(alert.get("resolved_at") if resolved else alert.get("opened_at"))
    return one_line(f"[{alert.get('severity')}] {alert.get('summary')}" + (f" ({when})" if when else ""), LIMIT)


def details(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows: the alert and its details, or the digest's period and one row per alert."""
    if payload.get("type") == "alert.digest":
        period = payload.get("period") or {}
        rows = [("Period", f"{_when(period.get('from'))} to {_when(period.get('to'))}")]
        rows += [("Opened", _line(alert)) for alert in payload.get("opened") or []]
        rows += [("Resolved", _line(alert, resolved=True)) for alert in payload.get("resolved") or []]
        rows += [("Still open", _line(alert)) for alert in payload.get("still_open") or []]
    else:
        alert = payload.get("alert") or {}
        rows = [
            ("Alert", one_line(alert.get("summary"), LIMIT)),
            ("Severity", one_line(alert.get("severity"), 20)),
            ("Condition", one_line(alert.get("key"), 200)),
            ("Opened", _when(alert.get("opened_at"))),
            ("Resolved", _when(alert.get("resolved_at"))),
        ]
        for key, value in (alert.get("details") or {}).items():
            shown = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else value
            rows.append((one_line(key, 40).replace("_", " ").capitalize(), one_line(shown, LIMIT)))
    rows.append(("Alerts page", one_line(payload.get("admin_url"), LIMIT)))
    return [(label, value) for label, value in rows if value]


def slack(payload: dict[str, Any], escape: Callable[[str], str]) -> str:
    """A short mrkdwn message: the headline in bold, one line per row (escaped by `escape`), the page link."""
    lines = [f"*{escape(headline(payload))}*"]
    for label, value in details(payload):
        if label == "Alerts page":
            if is_web_url(value):
                lines.append(f"<{escape(value).replace('|', '%7C')}|Open the alerts page>")
        elif label != "Alert":  # the headline says it
            lines.append(f"{escape(label)}: {escape(value)}")
    return "\n".join(lines)
