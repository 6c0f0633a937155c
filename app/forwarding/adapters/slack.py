"""Slack-compatible incoming webhook: one short, readable mrkdwn message as {"text": ...}."""

from __future__ import annotations

import json
from typing import Any

from app.forwarding.adapters import alert_text, http, text
from app.forwarding.adapters.types import AttemptResult, DeliverySettings, DestinationSpec


def escape(value: str) -> str:
    """Slack's mrkdwn escaping: &, < and > only (so nobody can inject links or @channel mentions)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(payload: dict[str, Any]) -> str:
    """Three to five lines: who, where from and why, the start of the message, the feedback link
    (an alert event: its headline and details, app/forwarding/adapters/alert_text.py)."""
    if alert_text.is_alert(payload):
        return alert_text.slack(payload, escape)
    who = escape(text.full_name(payload))
    title = text.one_line(payload.get("job_title"), 80)
    company = text.one_line(payload.get("company"), 80)
    line = (
        f"*{escape(text.title(payload))}:* {who}"
        + (f", {escape(title)}" if title else "")
        + (f" at {escape(company)}" if company else "")
    )
    email = text.one_line(payload.get("email"), 320)
    lines = [line + (f" \u2014 {escape(email)}" if email and email != text.full_name(payload) else "")]
    form = payload.get("form") or {}
    score = payload.get("score")
    facts = [
        f"form {escape(text.one_line(form.get('name'), 80))}" if form.get("name") else "",
        f"score {escape(text.one_line(score))}" if score is not None else "",
        escape(text.one_line(payload.get("stage_reason"), 150)),
    ]
    if any(facts):
        lines.append(" \u00b7 ".join(f for f in facts if f))
    if message := text.one_line(text.message(payload), 300):
        lines.append("> " + escape(message))
    if text.is_web_url(payload.get("feedback_url")):
        lines.append(f"<{escape(payload['feedback_url']).replace('|', '%7C')}|Give feedback on this lead>")
    return "\n".join(lines)


def send(
    spec: DestinationSpec, payload: dict[str, Any], *, idempotency_key: str, settings: DeliverySettings
) -> AttemptResult:
    """POST {"text": ...} to the incoming-webhook URL."""
    body = json.dumps({"text": render(payload)}, ensure_ascii=False).encode("utf-8")
    return http.post(
        spec.target,
        body,
        {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key},
        settings=settings,
    )
