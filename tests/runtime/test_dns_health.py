"""Offline is said where people look, and holds DNS caused are screened again as soon as DNS answers.

The canary check runs against real DNS servers on loopback: one that knows only an intranet (gmail.com
does not exist there, as behind a resolver without internet access) and the suite's, which answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.db import session_scope
from app.models import AuditEvent, Finding, Form, Submission, utcnow
from app.runtime.sweeper import DnsWatch, run_sweep
from app.screening_context import dns_health
from screening.resolver import MailResolver
from tests.dnsserver import DnsServer, mx


@pytest.fixture
def offline_dns() -> Iterator[DnsServer]:
    server = DnsServer({"intranet.corp": mx("mx.intranet.corp")}).start()
    yield server
    server.stop()


def turn(app, nameserver: str) -> object:
    """One sweep turn of a worker whose resolver asks `nameserver`."""
    resolver = MailResolver([nameserver], timeout=0.3, canary="gmail.com")
    with app.app_context(), session_scope() as session:
        return run_sweep(
            session,
            older_than_seconds=120,
            dns_retry_after_seconds=900,
            dns_retry_limit=3,
            dns=DnsWatch(resolver, app.extensions["leadsieve.redis"]),
        )


def dns_hold(db_session) -> int:
    form = db_session.scalars(select(Form).where(Form.slug == "newsletter")).one()
    submission = Submission(
        form_id=form.id,
        email="li@acme.com",
        status="screened",
        verdict="held",
        reason_category="uncertain",
        screened_at=utcnow(),
        dns_held_at=utcnow(),  # as screening marks a hold DNS caused
    )
    db_session.add(submission)
    db_session.flush()
    db_session.add(
        Finding(
            submission_id=submission.id,
            code="dns.unknown",
            category="uncertain",
            weight=50,
            evidence="the resolver says gmail.com has no mail servers either",
        )
    )
    db_session.commit()
    return submission.id


def test_offline_is_shown_on_admin_pages_readyz_and_metrics(app, admin, client, offline_dns):
    assert "DNS unavailable" not in admin.get("/admin/").get_data(as_text=True)
    assert client.get("/readyz").get_json()["dns"] == "unknown"  # nothing probed yet

    result = turn(app, offline_dns.address)

    assert result.dns_ok is False
    page = admin.get("/admin/").get_data(as_text=True)
    assert "DNS unavailable" in page and "screened again automatically" in page
    ready = client.get("/readyz")
    assert ready.status_code == 200  # capture still works: DNS is reported, not required
    assert ready.get_json()["dns"] == "unavailable" and "gmail.com" in ready.get_json()["notices"][0]
    assert "leadsieve_dns_available 0.0" in client.get("/metrics").get_data(as_text=True)


def test_holds_are_screened_again_at_once_when_dns_comes_back(app, db_session, dns_server, offline_dns):
    submission_id = dns_hold(db_session)
    assert turn(app, offline_dns.address).dns_holds == 0  # still down: nothing to gain yet

    result = turn(app, dns_server.address)  # DNS answers again: no waiting DNS_RETRY_AFTER_SECONDS

    assert result.dns_ok is True and result.dns_holds == 1
    db_session.expire_all()
    assert db_session.get(Submission, submission_id).status == "received"  # queued for screening again
    [retry] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.dns_retry")).all()
    assert retry.subject_id == submission_id
    assert turn(app, dns_server.address).dns_holds == 0  # only on the way back up, not every turn
    with app.app_context():
        health = dns_health.read(app.extensions["leadsieve.redis"])
    assert health is not None and health.ok


def test_the_state_keeps_its_start_time_while_it_lasts(app):
    with app.app_context():
        redis = app.extensions["leadsieve.redis"]
        first, _ = dns_health.record(redis, False, "down", now=100.0)
        second, previous = dns_health.record(redis, False, "down", now=160.0)
        back, _ = dns_health.record(redis, True, "", now=200.0)
    assert (first.since, second.since, second.checked_at, previous) == (100.0, 100.0, 160.0, first)
    assert back.since == 200.0
