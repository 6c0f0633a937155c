"""Destinations: create (checked against SSRF), list, remove, and send a test lead."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.forwarding.adapters import ADAPTERS, DeliverySettings, DestinationSpec, check_destination, deliver
from app.forwarding.adapters.email import parse_recipients
from app.models import AuditEvent, Delivery, Destination
from app.statuses import EventType, Stage

HTTP_KINDS = ("webhook", "slack", "salesforce", "hubspot")
# Kinds that post a web-to-lead form: every event creates or updates a CRM record, so sales feedback
# (which is about a record the CRM already has) is not sent to them.
WEB_TO_LEAD_KINDS = ("salesforce", "hubspot")
# Kinds that can carry alerts (app/alerts): readable messages or a JSON event; CRM web-to-lead forms cannot.
ALERT_KINDS = ("email", "slack", "webhook")


class InvalidDestination(ValueError):
    """The destination cannot be saved as given; the message says why."""


def validate_destination(
    *,
    kind: str,
    target: str,
    stages: Sequence[str],
    allowed_private: Sequence[str],
    options: Mapping[str, Any] | None = None,
) -> None:
    """The checks creating and editing share: known kind and stages, the options the kind cannot send
    without, and a target that is safe to send to (SSRF)."""
    if kind not in ADAPTERS:
        raise InvalidDestination(f"kind must be one of {', '.join(sorted(ADAPTERS))}")
    if kind == "salesforce" and not str((options or {}).get("oid") or "").strip():
        raise InvalidDestination(
            "a salesforce destination needs its organisation id: add the option "
            "oid=00D… (Salesforce Setup → Company Information → Organization ID)"
        )
    bad = [s for s in stages if not Stage.has(s)]
    if bad:
        raise InvalidDestination(f"unknown stage(s) {', '.join(bad)}; use {', '.join(Stage)}")
    if kind in HTTP_KINDS:
        try:
            check_destination(target, list(allowed_private))
        except ValueError as exc:  # UnsafeDestination and BadDestination are ValueErrors
            raise InvalidDestination(str(exc)) from exc
    else:
        try:
            parse_recipients(target)
        except ValueError as exc:  # EmailConfigError: empty list or an address that is not plain
            raise InvalidDestination(f"{exc}; give one or more addresses, comma-separated") from exc


def check_events(kind: str, events: Sequence[str]) -> None:
    """Known event types only; no sales feedback to a web-to-lead CRM form (it would file a new lead)."""
    bad = [e for e in events if not EventType.has(e)]
    if bad:
        raise InvalidDestination(f"unknown event(s) {', '.join(bad)}; use {', '.join(EventType)}")
    if kind in WEB_TO_LEAD_KINDS and EventType.FEEDBACK in events:
        raise InvalidDestination(
            f"a {kind} destination posts web-to-lead forms: {EventType.FEEDBACK} would file the lead again; "
            "send feedback events to a webhook, e-mail or Slack destination"
        )


def check_alerts(kind: str, *, alerts: bool, alert_digest: bool) -> None:
    """Alerts go only to kinds that can say them; a daily digest is a way of receiving alerts."""
    if (alerts or alert_digest) and kind not in ALERT_KINDS:
        raise InvalidDestination(
            f"a {kind} destination cannot receive alerts; use an e-mail, Slack or webhook destination"
        )
    if alert_digest and not alerts:
        raise InvalidDestination("a daily digest is a way of receiving alerts: tick “send alerts here” too")


def create_destination(
    session: Session,
    *,
    kind: str,
    target: str,
    name: str = "",
    stages: Sequence[str] = (),
    forms: Sequence[str] = (),
    options: dict[str, Any] | None = None,
    allowed_private: Sequence[str] = (),
    alerts: bool = False,
    alert_digest: bool = False,
    events: Sequence[str] = (),
    actor: str,
) -> Destination:
    """Validate and save; webhooks get a generated signing secret."""
    validate_destination(kind=kind, target=target, stages=stages, allowed_private=allowed_private, options=options)
    check_alerts(kind, alerts=alerts, alert_digest=alert_digest)
    check_events(kind, events)
    destination = Destination(
        name=name or f"{kind} {target}"[:200],
        kind=kind,
        target=target,
        options=dict(options or {}),
        secret=secrets.token_urlsafe(32) if kind == "webhook" else "",
        stages=list(stages),
        forms=list(forms),
        events=list(events),
        alerts=alerts,
        alert_digest=alert_digest,
    )
    session.add(destination)
    session.flush()
    session.add(
        AuditEvent(
            actor=actor,
            action="destination.created",
            subject_type="destination",
            subject_id=destination.id,
            details={
                "kind": kind,
                "target": target,
                "alerts": alerts,
                "alert_digest": alert_digest,
                "events": list(events),
            },
        )
    )
    session.flush()
    return destination


def update_destination(
    session: Session,
    *,
    destination: Destination,
    target: str,
    name: str = "",
    stages: Sequence[str] = (),
    forms: Sequence[str] = (),
    options: dict[str, Any] | None = None,
    active: bool = True,
    allowed_private: Sequence[str] = (),
    alerts: bool | None = None,
    alert_digest: bool | None = None,
    events: Sequence[str] | None = None,
    actor: str,
) -> Destination:
    """Change where and what it receives, with the same checks as creation; the kind and secret stay
    (and the alert flags and events, unless given)."""
    validate_destination(
        kind=destination.kind, target=target, stages=stages, allowed_private=allowed_private, options=options
    )
    alerts = destination.alerts if alerts is None else alerts
    alert_digest = destination.alert_digest if alert_digest is None else alert_digest
    check_alerts(destination.kind, alerts=alerts, alert_digest=alert_digest)
    events = list(destination.events) if events is None else list(events)
    check_events(destination.kind, events)
    before = {
        "target": destination.target,
        "name": destination.name,
        "stages": list(destination.stages),
        "forms": list(destination.forms),
        "options": dict(destination.options or {}),
        "active": destination.active,
        "alerts": destination.alerts,
        "alert_digest": destination.alert_digest,
        "events": list(destination.events),
    }
    destination.target, destination.name = target, name or destination.name
    destination.stages, destination.forms = list(stages), list(forms)
    destination.options, destination.active = dict(options or {}), active
    destination.alerts, destination.alert_digest = alerts, alert_digest
    destination.events = events
    after = {
        "target": destination.target,
        "name": destination.name,
        "stages": list(destination.stages),
        "forms": list(destination.forms),
        "options": dict(destination.options),
        "active": destination.active,
        "alerts": destination.alerts,
        "alert_digest": destination.alert_digest,
        "events": list(destination.events),
    }
    changed = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
    session.add(
        AuditEvent(
            actor=actor,
            action="destination.updated",
            subject_type="destination",
            subject_id=destination.id,
            details={"changed": changed},
        )
    )
    session.flush()
    return destination


def rotate_secret(session: Session, destination_id: int, *, actor: str) -> str:
    """Give a webhook a new signing secret (the old one stops signing at once); returns it, to show once.

    Deliveries sent from now on, retries of older ones included, are signed with the new secret;
    receivers roll over by accepting either secret for a while (docs/forwarding.md, "Verifying a webhook")."""
    destination = session.get(Destination, destination_id)
    if destination is None:
        raise InvalidDestination(f"no destination {destination_id}")
    if destination.kind != "webhook":
        raise InvalidDestination(
            f"destination {destination_id} is a {destination.kind} destination; only webhooks are signed"
        )
    destination.secret = secrets.token_urlsafe(32)
    session.add(
        AuditEvent(
            actor=actor, action="destination.secret_rotated", subject_type="destination", subject_id=destination.id
        )
    )
    session.flush()
    return destination.secret


def list_destinations(session: Session) -> list[Destination]:
    """All destinations, oldest first."""
    return list(session.scalars(select(Destination).order_by(Destination.id)))


def remove_destination(session: Session, destination_id: int, *, actor: str) -> str:
    """Delete it, or deactivate it when deliveries refer to it (their log stays); either way it gets no
    more alerts (an inactive destination otherwise can be an alerts-only one)."""
    destination = session.get(Destination, destination_id)
    if destination is None:
        raise InvalidDestination(f"no destination {destination_id}")
    used = session.scalars(select(Delivery.id).where(Delivery.destination_id == destination_id)).first()
    if used:
        destination.active = False
        destination.alerts = destination.alert_digest = False
        outcome = "deactivated"
    else:
        session.delete(destination)
        outcome = "deleted"
    session.add(
        AuditEvent(actor=actor, action=f"destination.{outcome}", subject_type="destination", subject_id=destination_id)
    )
    session.flush()
    return outcome


SAMPLE = {
    "submission_id": 0,
    "lead_id": 0,
    "stage": Stage.SQL,
    "stage_reason": "test lead from leadsieve",
    "email": "test.lead@example.com",
    "first_name": "Test",
    "last_name": "Lead",
    "company": "Example Corp",
    "job_title": "Head of Marketing",
    "phone": "+1 555 0100",
    "country": "US",
    "message": "This is a test lead sent by leadsieve to check this destination.",
    "answers": {},
    "crm_fields": {"hubspot": {}, "salesforce": {}},
    "form": {"slug": "test", "name": "Test", "kind": "demo"},
    "utm": {"source": "leadsieve", "medium": "test", "campaign": "", "term": "", "content": ""},
    "page_url": "",
    "received_at": "1970-01-01T00:00:00Z",
    "attribution": {
        "utm_source": "leadsieve",
        "utm_medium": "test",
        "utm_campaign": "",
        "utm_term": "",
        "utm_content": "",
        "referrer": "",
        "page_url": "",
        "page_title": "",
        "click_ids": {},
        "hutk": "",
        "ip_address": "",
    },
    "fit": 0,
    "engagement": 0,
    "score": 0,
    "score_breakdown": {"fit": [], "engagement": []},
    "owner": {"name": "Sam Seller", "email": "sam.seller@example.com"},
    "assigned_at": "1970-01-01T00:00:00Z",
    "sla_due_at": "1970-01-01T02:00:00Z",
    "consents": {
        "contact": {
            "given": True,
            "text": "Contact me about this request.",
            "version": "5f1c0d8e2a9b4c71",
            "at": "1970-01-01T00:00:00Z",
            "language": "en",
        }
    },
    "feedback_url": "",
}


def test_destination(destination: Destination, settings: DeliverySettings) -> Any:
    """Send the sample lead once, synchronously; returns the adapter's AttemptResult."""
    spec = DestinationSpec(
        kind=destination.kind,
        target=destination.target,
        secret=destination.secret,
        options=dict(destination.options or {}),
    )
    return deliver(spec, dict(SAMPLE), idempotency_key=f"test-{uuid.uuid4().hex}", settings=settings)
