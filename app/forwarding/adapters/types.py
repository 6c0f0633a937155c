"""The values adapters take and return; plain frozen dataclasses, no Flask, no DB."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DestinationSpec:
    """Where one delivery goes: the adapter kind, its URL or addresses, signing secret and options."""

    kind: str
    target: str
    secret: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliverySettings:
    """What adapters need from configuration, passed in explicitly (no current_app)."""

    timeout: float = 10.0
    allowed_private_destinations: tuple[str, ...] = ()
    smtp_url: str = ""
    smtp_from: str = "leadsieve@localhost"
    user_agent: str = "leadsieve/0.1"


@dataclass(frozen=True)
class AttemptResult:
    """The outcome of one attempt, as `app.forwarding.deliveries.record_attempt` logs it.

    `retryable` says whether trying again later may help (time-out, connection error,
    5xx, 408, 429); `retry_after` is the receiver's wish in seconds, if it said one.
    """

    ok: bool
    status_code: int | None = None
    latency_ms: int = 0
    response_excerpt: str = ""
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None
