"""Generic JSON webhook, signed per the Standard Webhooks specification (standardwebhooks.com).

Headers `webhook-id` (the event's id), `webhook-timestamp` (unix seconds) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`), keyed with the secret's bytes: a `whsec_`
secret is base64 after the prefix; an older plain secret is its UTF-8 bytes, which receivers' libraries
take as `whsec_` + base64 of them (`standard_secret`). The timestamp is inside the signed text, so a
captured request cannot be replayed later with a fresh one.

Deprecated, still sent: `X-Leadsieve-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<timestamp>.<body>">` keyed with the secret as stored, for receivers written before (docs/forwarding.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from app.forwarding.adapters import http
from app.forwarding.adapters.types import AttemptResult, DeliverySettings, DestinationSpec

SIGNATURE_HEADER = "X-Leadsieve-Signature"  # deprecated: see docs/forwarding.md
DEFAULT_TOLERANCE = 300
SECRET_PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks signature: a `whsec_` secret's decoded bytes, else the UTF-8."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            pass  # not base64 after all: used as typed, like any other secret
    return secret.encode("utf-8")


def standard_secret(secret: str) -> str:
    """The secret as Standard Webhooks libraries take it (`whsec_<base64 key>`), for showing to receivers."""
    return SECRET_PREFIX + base64.b64encode(signing_key(secret)).decode("ascii")


def new_secret() -> str:
    """A fresh `whsec_` secret: 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def standard_headers(secret: str, msg_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed now (or at `timestamp`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest()).decode("ascii")
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{digest}"}


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
    """POST the payload as JSON with the signatures (Standard Webhooks and the deprecated header, one
    timestamp) and the idempotency key. `webhook-id` is the event's id (the delivery's key before events)."""
    body = encode(payload)
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key}
    if spec.secret:
        timestamp = int(time.time())
        msg_id = payload.get("id") if isinstance(payload.get("id"), str) else idempotency_key
        headers.update(standard_headers(spec.secret, str(msg_id), body, timestamp=timestamp))
        headers[SIGNATURE_HEADER] = signature_header(spec.secret, body, timestamp=timestamp)
    return http.post(spec.target, body, headers, settings=settings)
