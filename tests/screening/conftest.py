"""Fixtures for the pure screening package: no app, no database, the suite's loopback DNS server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from screening import Context
from screening.resolver import MailResolver
from tests.dnsserver import DnsServer


@pytest.fixture
def resolver(dns_server: DnsServer) -> Iterator[MailResolver]:
    """A fresh resolver (empty cache) pointed at the loopback server, with a short timeout."""
    yield MailResolver([dns_server.address], timeout=0.3)


@pytest.fixture
def dns_context(resolver: MailResolver) -> Context:
    """A context that does DNS against the loopback server."""
    return Context(resolver=resolver, dns_budget_seconds=1.0)
