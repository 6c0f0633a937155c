"""Double opt-in in real Chromium: the visitor ticks the marketing box on the hosted page, opens the
confirmation link from the e-mail the SMTP receiver got, presses the button, and only then does the
marketing destination receive the person."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.db import session_scope
from app.models import Form
from tests.forwarding.test_forwarding import add_destination

SLUG = "whitepaper-lead-quality"


@pytest.fixture
def settings(settings, smtp_receiver):
    settings.update(
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
        SMTP_URL=smtp_receiver.url,
        SMTP_FROM="hello@leadsieve.test",
        DELIVERY_BACKOFF=[0, 0, 0],
        DELIVERY_TIMEOUT_SECONDS=10.0,  # a loaded machine must not turn a slow answer into a retry
    )
    return settings


def test_marketing_consent_confirmed_from_the_e_mail_releases_the_marketing_destination(
    app, live_server, page, run_worker, smtp_receiver, http_receiver
):
    app.config["PUBLIC_BASE_URL"] = live_server
    with app.app_context(), session_scope() as session:
        form = session.scalars(select(Form).where(Form.slug == SLUG)).one()
        form.settings = {**form.settings, "consent_text": "Contact me.", "marketing_consent_text": "Send me news."}
        session.commit()
    add_destination(app, "webhook", http_receiver.url("/marketing"), stages=["MQL"])

    page.goto(f"{live_server}/f/{SLUG}")
    assert not page.get_by_label("Send me news.").is_checked()  # never pre-ticked
    page.fill("#email", "jane@acme.com")
    page.fill("#first_name", "Jane")
    page.fill("#company", "Acme")
    page.get_by_label("Contact me.").check()
    page.get_by_label("Send me news.").check()
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/thanks/.*"))
    run_worker()
    assert http_receiver.requests == []

    [mail] = smtp_receiver.messages
    link = re.search(rf"{re.escape(live_server)}/c/\S+", mail.message.get_body(("plain",)).get_content())
    assert link, "no confirmation link in the e-mail"
    page.goto(link.group(0))
    run_worker()
    assert http_receiver.requests == []  # opening the link alone confirms nothing
    page.get_by_role("button", name="Yes, confirm my subscription").click()
    page.get_by_text("Your subscription is confirmed").wait_for()
    run_worker()
    [request] = http_receiver.requests
    assert request.path == "/marketing" and request.json()["consents"]["marketing"]["confirmed"] is True
