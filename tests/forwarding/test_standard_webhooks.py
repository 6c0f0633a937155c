"""Standard Webhooks signatures, checked by a verifier written here from the specification
(standardwebhooks.com, "Verifying webhook authenticity"), not by the code that signs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from app.forwarding.adapters import DestinationSpec, deliver
from app.forwarding.adapters.webhook import new_secret, standard_secret
from tests.forwarding.test_adapters import LEAD, documented_verify


def spec_verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """The spec's receiver: key = base64 of the part after `whsec_`; signed content is
    "<webhook-id>.<webhook-timestamp>.<body>"; `webhook-signature` is a space-separated list of
    "v1,<base64 HMAC-SHA256>"; any one matching is enough; the timestamp must be recent."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > tolerance:
        return False
    content = msg_id.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    given = [part.split(",", 1)[1] for part in headers["webhook-signature"].split() if part.startswith("v1,")]
    return any(hmac.compare_digest(expected, sig) for sig in given)


@pytest.mark.parametrize("stored", [new_secret(), "a-plain-secret-from-before"], ids=["whsec", "plain"])
def test_webhook_verifies_with_an_independent_standard_webhooks_verifier(http_receiver, send_settings, stored):
    payload = {**LEAD, "type": "lead.created", "id": "evt_123", "timestamp": "2026-12-05T09:00:00Z", "data": LEAD}
    spec = DestinationSpec(kind="webhook", target=http_receiver.url(), secret=stored, options={})
    assert deliver(spec, payload, idempotency_key="key-1", settings=send_settings).ok
    [request] = http_receiver.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["webhook-id"] == "evt_123"
    shown = standard_secret(stored)  # what the receiver is given
    assert shown.startswith("whsec_") and (stored == shown or not stored.startswith("whsec_"))
    assert spec_verify(shown, headers, request.body)
    assert not spec_verify(shown, headers, request.body + b" ")
    assert not spec_verify(new_secret(), headers, request.body)
    assert not spec_verify(shown, {**headers, "webhook-id": "evt_other"}, request.body)
    # The deprecated header still verifies with the secret as stored, at the same timestamp.
    assert documented_verify()(stored, headers["x-leadsieve-signature"], request.body)
    assert headers["x-leadsieve-signature"].startswith(f"t={headers['webhook-timestamp']},")
