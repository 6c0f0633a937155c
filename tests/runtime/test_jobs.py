"""The screening job and the sweeper: idempotent, and nothing lost when Redis is down."""

from __future__ import annotations

import logging
from datetime import timedelta

from redis import Redis
from sqlalchemy import func, select, update

from app import create_app
from app.cli import cli
from app.db import session_scope
from app.jobs import screen_submission
from app.models import AuditEvent, Finding, Form, Submission, utcnow
from app.runtime.embedded_redis import RedisServer
from app.runtime.sweeper import sweep
from tests.conftest import _clean, make_settings


def _submission(session, email="li@initech.com", **fields) -> int:
    form = session.scalars(select(Form).where(Form.slug == "newsletter")).one()
    submission = Submission(form_id=form.id, email=email, **fields)
    session.add(submission)
    session.commit()
    return submission.id


def test_screening_twice_leaves_one_result(app, db_session):
    submission_id = _submission(db_session, email="not an address")
    with app.app_context():
        assert screen_submission(submission_id) == "rejected"
        assert screen_submission(submission_id) == "already screened"
    db_session.expire_all()
    findings = db_session.scalars(select(Finding).where(Finding.submission_id == submission_id)).all()
    assert [f.code for f in findings] == ["email.syntax"]
    assert db_session.get(Submission, submission_id).verdict == "rejected"
    audits = db_session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "screened"))
    assert audits == 1


def test_job_for_missing_submission_does_nothing(app):
    with app.app_context():
        assert screen_submission(987654) == "missing"


def test_enqueued_twice_screens_once(app, client, db_session, run_worker):
    from app.runtime.queues import SCREENING, get_queue

    client.post("/f/newsletter", json={"email": "sam@hooli.com"})
    submission_id = db_session.scalar(select(Submission.id))
    with app.app_context():
        get_queue(SCREENING).enqueue("app.jobs.screen_submission", submission_id)
    run_worker()
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Finding)) == 0  # a clean address has no findings
    assert db_session.get(Submission, submission_id).status == "screened"
    audits = db_session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "screened"))
    assert audits == 1


def test_a_run_that_loses_the_race_changes_nothing(app, db_session):
    """Two workers load the same row; the one whose guarded UPDATE matches nothing rolls back."""
    submission_id = _submission(db_session, email="bad address")
    db_session.execute(
        update(Submission).where(Submission.id == submission_id).values(status="screened", verdict="held")
    )
    db_session.commit()
    with app.app_context():
        assert screen_submission(submission_id) == "already screened"
    db_session.expire_all()
    assert db_session.get(Submission, submission_id).verdict == "held"
    assert db_session.scalar(select(func.count()).select_from(Finding)) == 0


def test_sweeper_skips_fresh_and_already_queued(app, db_session):
    fresh = _submission(db_session, email="a@acme.com")
    stale = _submission(db_session, email="b@acme.com", received_at=utcnow() - timedelta(minutes=10))
    with app.app_context():
        assert sweep(db_session, older_than_seconds=120) == 1
        assert sweep(db_session, older_than_seconds=120) == 0  # already queued: not again
    queued = Redis.from_url(app.config["REDIS_URL"]).lrange("rq:queue:screening", 0, -1)
    assert queued == [f"screen-{stale}".encode()]
    assert fresh != stale


def test_redis_down_visitor_answered_row_stored_then_swept(tmp_path, database_url, caplog):
    """Redis stopped before a POST: stored, thanked; once Redis is back the sweeper enqueues it once."""
    from rq import SimpleWorker

    from worker import make_worker

    server = RedisServer(tmp_path / "own-redis").start()
    application = create_app(make_settings(tmp_path, database_url=database_url, redis_url=server.url))
    with application.app_context(), session_scope() as session:
        session.add(Form(slug="news", name="News", kind="newsletter", settings={}))
        session.commit()
    client = application.test_client()
    try:
        server.stop()
        with caplog.at_level(logging.WARNING, logger="app.runtime.queues"):
            html = client.post("/f/news", data={"email": "ok@acme.com"})
            api = client.post("/f/news", json={"email": "ok2@acme.com"})
        assert html.status_code == 303 and "Thank you" in client.get(html.headers["Location"]).get_data(as_text=True)
        assert api.status_code == 202
        assert "the sweeper will retry" in caplog.text

        with application.app_context(), session_scope() as session:
            rows = session.scalars(select(Submission).order_by(Submission.id)).all()
            assert [(s.email, s.status) for s in rows] == [("ok@acme.com", "received"), ("ok2@acme.com", "received")]
            # While Redis is still down the sweeper fails loudly, and nothing changes.
            assert sweep(session, older_than_seconds=0) == 0

        server.start()
        with application.app_context(), session_scope() as session:
            assert sweep(session, older_than_seconds=0) == 2
            assert sweep(session, older_than_seconds=0) == 0
        with application.app_context():
            make_worker(application, worker_class=SimpleWorker).work(burst=True, with_scheduler=False)
        with application.app_context(), session_scope() as session:
            rows = session.scalars(select(Submission).order_by(Submission.id)).all()
            assert [(s.status, s.verdict) for s in rows] == [("screened", "accepted")] * 2
            audits = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "screened"))
            assert audits == 2
    finally:
        _clean(application)
        server.stop()


def test_sweep_command_reports_count(app, db_session):
    _submission(db_session, email="c@acme.com", received_at=utcnow() - timedelta(hours=1))
    result = app.test_cli_runner().invoke(cli, args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "re-enqueued 1 submission(s) and 0 due deliveries" in result.output


def _age_hold(db_session, submission_id, hours=1):
    db_session.execute(
        update(Submission).where(Submission.id == submission_id).values(screened_at=utcnow() - timedelta(hours=hours))
    )
    db_session.commit()


def test_holds_caused_by_dns_are_screened_again_once_dns_answers(app, db_session, run_worker):
    from app.runtime.sweeper import retry_dns_holds

    dns_hold = _submission(
        db_session,
        email="li@acme.com",
        status="screened",
        verdict="held",
        reason_category="uncertain",
        dns_held_at=utcnow(),  # as screening marks a hold DNS caused
    )
    db_session.add(
        Finding(
            submission_id=dns_hold,
            code="dns.unknown",
            category="uncertain",
            weight=50,
            evidence="could not check acme.com over DNS: no answer within 0.5s",
        )
    )
    competitor = _submission(
        db_session, email="li@rival.com", status="screened", verdict="held", reason_category="competitor"
    )
    db_session.add(
        Finding(
            submission_id=competitor,
            code="competitor.domain",
            category="competitor",
            weight=60,
            evidence="rival.com is on the competitor list",
        )
    )
    fresh = _submission(
        db_session,
        email="kim@acme.com",
        status="screened",
        verdict="held",
        reason_category="uncertain",
        screened_at=utcnow(),
        dns_held_at=utcnow(),
    )
    db_session.add(Finding(submission_id=fresh, code="dns.unknown", category="uncertain", weight=50, evidence="…"))
    db_session.commit()
    _age_hold(db_session, dns_hold)
    _age_hold(db_session, competitor)
    with app.app_context(), session_scope() as session:
        assert retry_dns_holds(session, after_seconds=900, limit=3) == 1
    run_worker()
    db_session.expire_all()
    assert db_session.get(Submission, dns_hold).verdict == "accepted"  # DNS answers now: no reviewer needed
    assert db_session.get(Submission, competitor).verdict == "held"  # a reviewer's call, not DNS's
    assert db_session.get(Submission, fresh).verdict == "held"  # not old enough yet
    [retry] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.dns_retry")).all()
    assert (retry.actor, retry.subject_id, retry.details) == ("sweeper", dns_hold, {"attempt": 1, "of": 3})


def test_dns_holds_are_retried_at_most_the_limit(app, db_session):
    from app.runtime.sweeper import retry_dns_holds

    submission_id = _submission(db_session, email="li@timeout.example")
    with app.app_context():
        assert screen_submission(submission_id) == "held"
        for _ in range(2):
            _age_hold(db_session, submission_id)
            with session_scope() as session:
                assert retry_dns_holds(session, after_seconds=900, limit=2) == 1
            assert screen_submission(submission_id) == "held"  # the name still never answers
        _age_hold(db_session, submission_id)
        with session_scope() as session:
            assert retry_dns_holds(session, after_seconds=900, limit=2) == 0  # left to a reviewer now
            assert retry_dns_holds(session, after_seconds=0, limit=2) == 0  # 0 turns the retries off


def test_warm_up_leaves_nothing_behind(app, db_session):
    """The worker's start-up warm-up runs a whole accepted screening, classification and routing
    included, and rolls it all back."""
    from app.forwarding.destinations import create_destination
    from app.jobs import warm_up
    from app.models import Base

    with app.app_context(), session_scope() as session:  # so the warm-up routes to a destination too
        create_destination(
            session, kind="webhook", target="http://127.0.0.1:9/hook", actor="test", allowed_private=["127.0.0.1"]
        )
        session.commit()

    def counts():
        db_session.expire_all()
        return {t.name: db_session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}

    from sqlalchemy import event

    engine = app.extensions["leadsieve.engine"]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.split("(")[0].strip())

    before = counts()
    event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():
            assert warm_up() is True
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert {"INSERT INTO submissions", "INSERT INTO findings", "INSERT INTO leads", "INSERT INTO deliveries"} <= set(
        statements
    )  # the whole path ran...
    assert counts() == before  # ...and left nothing behind


def test_warm_up_needs_a_form(app, db_session):
    from app.jobs import warm_up
    from app.models import Form

    db_session.execute(Form.__table__.delete())
    db_session.commit()
    with app.app_context():
        assert warm_up() is False
