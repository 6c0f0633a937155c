"""Attribution reaches the destinations: the webhook's `attribution` object (from a real post, screened
by a real worker), HubSpot's Forms v3 `submittedAt` and `context`, Salesforce's mapped UTM fields."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest

from app.db import session_scope
from app.forwarding.adapters import DestinationSpec, deliver
from app.forwarding.destinations import SAMPLE, create_destination
from tests.helpers import valid_fields
from tests.receivers import HttpReceiver

HUTK = "3f2a9c0e5b7d41e8a6c1f0b2d4e6a8c0"
SEEN = {
    "utm_source": "linkedin",
    "utm_medium": "paid_social",
    "utm_campaign": "q4-demo",
    "utm_term": "",
    "utm_content": "carousel",
    "referrer": "https://www.linkedin.com/",
    "page_url": "https://www.example.com/pricing?utm_source=linkedin",
    "page_title": "Pricing | Example",
    "click_ids": {"li_fat_id": "abc-123"},
    "hutk": HUTK,
    "ip_address": "203.0.113.7",
}
LEAD = dict(
    SAMPLE, received_at="2025-01-14T09:30:12.123456Z", page_url="https://www.example.com/demo", attribution=SEEN
)


@pytest.fixture
def hook(app: Any, http_receiver: HttpReceiver) -> HttpReceiver:
    """A webhook destination taking every accepted lead, on the loopback receiver."""
    with app.app_context(), session_scope() as session:
        create_destination(
            session,
            kind="webhook",
            target=http_receiver.url("/all"),
            name="all",
            stages=[],
            actor="test",
            allowed_private=["127.0.0.1"],
        )
        session.commit()
    return http_receiver


def send(kind: str, receiver: HttpReceiver, send_settings: Any, payload: dict[str, Any], **options: Any) -> Any:
    spec = DestinationSpec(kind=kind, target=receiver.url("/in"), secret="", options=options)
    result = deliver(spec, dict(payload), idempotency_key="k1", settings=send_settings)
    assert result.ok
    [request] = receiver.requests
    return request


def test_the_webhook_gets_where_a_posted_lead_came_from(client, run_worker, hook):
    fields = valid_fields(
        "request-demo",
        utm_source="linkedin",
        utm_campaign="q4-demo",
        referrer="https://www.linkedin.com/",
        page_url="https://www.example.com/pricing",
        page_title="Pricing\n| Example",
        gclid="EAIaIQobChMI",
        li_fat_id="abc-123",
        hutk=HUTK.upper(),
    )
    response = client.post("/f/request-demo", json=fields)
    assert response.status_code == 202, response.get_json()
    run_worker()
    [request] = hook.effective
    seen = request.json()["attribution"]
    assert seen == {
        "utm_source": "linkedin",
        "utm_medium": "",
        "utm_campaign": "q4-demo",
        "utm_term": "",
        "utm_content": "",
        "referrer": "https://www.linkedin.com/",
        "page_url": "https://www.example.com/pricing",
        "page_title": "Pricing\n| Example",
        "click_ids": {"gclid": "EAIaIQobChMI", "li_fat_id": "abc-123"},
        "hutk": HUTK,
        "ip_address": "127.0.0.1",
    }


@pytest.mark.parametrize("hutk", ["not-a-cookie", HUTK + "0", "<script>", 42], ids=["word", "long", "markup", "number"])
def test_a_hutk_that_is_not_hubspots_cookie_is_not_forwarded(client, run_worker, hook, hutk):
    assert client.post("/f/request-demo", json=valid_fields("request-demo", hutk=hutk)).status_code == 202
    run_worker()
    [request] = hook.effective
    assert request.json()["attribution"]["hutk"] == ""


def test_hubspot_gets_submitted_at_and_the_page_context(http_receiver, send_settings):
    body = send("hubspot", http_receiver, send_settings, LEAD).json()
    assert body["submittedAt"] == "1736847012123"  # 2025-01-14T09:30:12.123Z in ms, a string as documented
    assert body["context"] == {
        "hutk": HUTK,
        "ipAddress": "203.0.113.7",
        "pageUri": "https://www.example.com/pricing?utm_source=linkedin",
        "pageName": "Pricing | Example",
    }


def test_hubspot_leaves_out_what_was_not_captured(http_receiver, send_settings):
    unknown = dict(SEEN, page_url="", page_title="", hutk="", ip_address="")
    body = send("hubspot", http_receiver, send_settings, dict(LEAD, attribution=unknown)).json()
    assert body["context"] == {"pageUri": "https://www.example.com/demo"}  # the payload's page_url


def test_hubspot_for_a_payload_routed_before_attribution(http_receiver, send_settings):
    old = {key: value for key, value in LEAD.items() if key != "attribution"}
    body = send("hubspot", http_receiver, send_settings, dict(old, received_at="yesterday")).json()
    assert "submittedAt" not in body
    assert body["context"] == {"pageUri": "https://www.example.com/demo"}


def test_salesforce_sends_utms_only_to_mapped_fields(http_receiver, send_settings):
    options = {
        "oid": "00D000000000001",
        "utm_source": "UTM_Source__c",
        "utm_campaign": " 00N5e00000abcde ",
        "utm_term": "Term__c",  # mapped, but the lead has no term: left out
        "utm_medium": "Bad Name\r\nX",  # not a field name: left out
    }
    fields = parse_qs(send("salesforce", http_receiver, send_settings, LEAD, **options).body.decode())
    assert fields["UTM_Source__c"] == ["linkedin"] and fields["00N5e00000abcde"] == ["q4-demo"]
    assert not {"Term__c", "utm_source", "utm_medium", "utm_content", "Bad Name\r\nX"} & set(fields)


def test_salesforce_maps_utms_of_a_payload_routed_before_attribution(http_receiver, send_settings):
    old = {key: value for key, value in LEAD.items() if key != "attribution"}
    body = send("salesforce", http_receiver, send_settings, old, oid="00D1", utm_source="Source__c").body.decode()
    assert parse_qs(body)["Source__c"] == ["leadsieve"]  # SAMPLE's utm.source
