"""Generic JSON webhook, signed with HMAC-SHA256 over "<timestamp>.<body>".

Header: `X-Leadsieve-Signature: t=<unix seconds>,v1=<hex digest>`. The timestamp is
inside the signed text, so a captured request cannot be replayed later with a fresh
timestamp; receivers reject signatures older than a few minutes and de-duplicate
with the `Idempotency-Key` header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from app.forwarding.adapters import http
from app.forwarding.adapters.types import AttemptResult, DeliverySettings, DestinationSpec

SIGNATURE_HEADER = "X-Leadsieve-Signature"
DEFAULT_TOLERANCE = 300


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON with sorted keys."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of f"{timestamp}." + body under the destination's secret."""
    signed = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The X-Leadsieve-Signature value for body, signed now (or at `timestamp`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, tolerance: int = DEFAULT_TOLERANCE, *, now: float | None = None
) -> bool:
    """True when `header` signs exactly `body` with `secret`, at most `tolerance` seconds ago.

    This is the receiver's side; docs/forwarding.md shows the same logic as a stand-alone snippet.
    """
    try:
        fields = dict(item.strip().split("=", 1) for item in (header or "").split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(compute_signature(secret, timestamp, body), given)


def send(
    spec: DestinationSpec, payload: dict[str, Any], *, idempotency_key: str, settings: DeliverySettings
) -> AttemptResult:
    """POST the payload as JSON with signature and idempotency key."""
    body = encode(payload)
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key}
    if spec.secret:
        headers[SIGNATURE_HEADER] = signature_header(spec.secret, body)
    return http.post(spec.target, body, headers, settings=settings)
