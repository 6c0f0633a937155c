"""Fixtures for forwarding tests: settings that reach the root conftest's HTTP and SMTP receivers."""

from __future__ import annotations

from typing import Any

import pytest

from app.forwarding.adapters import DeliverySettings
from tests.receivers import SmtpReceiver


@pytest.fixture
def settings(settings: dict[str, Any], smtp_receiver: SmtpReceiver) -> dict[str, Any]:
    """App settings for forwarding: loopback allowed, mail to the receiver, retries without waiting."""
    settings.update(
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
        SMTP_URL=smtp_receiver.url,
        SMTP_FROM="leads@leadsieve.test",
        DELIVERY_BACKOFF=[0, 0, 0],
        DELIVERY_TIMEOUT_SECONDS=2.0,
    )
    return settings


@pytest.fixture
def send_settings(smtp_receiver: SmtpReceiver) -> DeliverySettings:
    """Adapter settings without an app: loopback allowed, short time-out."""
    return DeliverySettings(
        timeout=2.0,
        allowed_private_destinations=("127.0.0.1",),
        smtp_url=smtp_receiver.url,
        smtp_from="leads@leadsieve.test",
        user_agent="leadsieve/test",
    )
