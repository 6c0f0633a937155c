"""Delivery adapters: turn a lead payload into one attempt at one destination.

`deliver()` picks the adapter for the destination's kind and never raises: every
outcome, including a bug in an adapter, comes back as an AttemptResult that
`app.forwarding.deliveries.record_attempt` logs. No Flask, no database here; settings arrive
as a DeliverySettings value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from app.forwarding.adapters import email, hubspot, salesforce, slack, webhook
from app.forwarding.adapters.email import EmailConfigError, parse_recipients
from app.forwarding.adapters.ssrf import BadDestination, UnsafeDestination, check_destination
from app.forwarding.adapters.types import AttemptResult, DeliverySettings, DestinationSpec
from app.forwarding.adapters.webhook import verify_signature

log = logging.getLogger(__name__)

Adapter = Callable[..., AttemptResult]

ADAPTERS: dict[str, Adapter] = {
    "webhook": webhook.send,
    "email": email.send,
    "slack": slack.send,
    "salesforce": salesforce.send,
    "hubspot": hubspot.send,
}


def deliver(
    spec: DestinationSpec, payload: dict[str, Any], *, idempotency_key: str, settings: DeliverySettings
) -> AttemptResult:
    """One attempt to send `payload` to `spec`; an unexpected error is a retryable failed attempt."""
    adapter = ADAPTERS.get(spec.kind)
    if adapter is None:
        return AttemptResult(ok=False, error=f"unknown destination kind {spec.kind!r}")
    try:
        result = adapter(spec, payload, idempotency_key=idempotency_key, settings=settings)
    except Exception as exc:  # noqa: BLE001 - recorded on the attempt and logged with its traceback
        log.exception("%s adapter failed for delivery key %s", spec.kind, idempotency_key)
        result = AttemptResult(
            ok=False, retryable=True, error=f"internal error in {spec.kind} adapter: {type(exc).__name__}: {exc}"
        )
    # What a receiver answered is stored in text columns; PostgreSQL refuses NUL characters there.
    return replace(
        result,
        response_excerpt=result.response_excerpt.replace("\x00", "\ufffd"),
        error=result.error.replace("\x00", "\ufffd"),
    )


__all__ = [
    "ADAPTERS",
    "AttemptResult",
    "BadDestination",
    "DeliverySettings",
    "DestinationSpec",
    "EmailConfigError",
    "UnsafeDestination",
    "check_destination",
    "deliver",
    "parse_recipients",
    "verify_signature",
]
