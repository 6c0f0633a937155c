"""Fixtures for consent tests: loopback destinations, mail to the SMTP receiver, retries without waiting,
and a download form with both consent boxes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.db import session_scope
from app.models import Form
from tests.receivers import SmtpReceiver

DOWNLOAD = "whitepaper-lead-quality"
CONTACT_TEXT = "Contact me about this request."
MARKETING_TEXT = "Send me the monthly product news."


@pytest.fixture
def settings(settings: dict[str, Any], smtp_receiver: SmtpReceiver) -> dict[str, Any]:
    settings.update(
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
        SMTP_URL=smtp_receiver.url,
        SMTP_FROM="hello@leadsieve.test",
        PUBLIC_BASE_URL="https://forms.example.com",
        DELIVERY_BACKOFF=[0, 0, 0],
        DELIVERY_TIMEOUT_SECONDS=10.0,  # a loaded machine must not turn a slow answer into a retry
    )
    return settings


def set_form(app: Any, slug: str, **settings: Any) -> None:
    """Merge `settings` into a form's stored settings."""
    with app.app_context(), session_scope() as session:
        form = session.scalars(select(Form).where(Form.slug == slug)).one()
        form.settings = {**form.settings, **settings}
        session.commit()


@pytest.fixture
def two_boxes(app: Any) -> str:
    """The download form with a contact box (required) and a marketing box."""
    set_form(app, DOWNLOAD, consent_text=CONTACT_TEXT, marketing_consent_text=MARKETING_TEXT)
    return DOWNLOAD
