"""Fixtures for forwarding tests: real HTTP and SMTP receivers on loopback, settings that reach them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.forwarding.adapters import DeliverySettings
from tests.conftest import free_port
from tests.receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A fresh HTTP receiver per test."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpReceiver]:
    """One SMTP receiver for the run (starting aiosmtpd costs more than an HTTP server)."""
    server = SmtpReceiver(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_receiver(smtp_server: SmtpReceiver) -> SmtpReceiver:
    """The SMTP receiver, emptied for this test."""
    smtp_server.reset()
    return smtp_server


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
