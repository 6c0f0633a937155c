"""Faults survived with real processes: workers SIGKILLed mid-job, several workers at once, Redis and the
database going away. Every test ends by counting: stored = screened once = delivered once."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from urllib.parse import urlsplit

import pytest
from redis import Redis
from rq.job import Job
from sqlalchemy import func, select

from app.models import AuditEvent, Delivery, Finding, Form, Submission
from app.runtime.queues import enqueue_screening
from tests.receivers import Reply
from tests.system.faults.conftest import add_webhook, wait_until


@pytest.fixture
def settings(settings):
    settings.update(RATELIMIT_ENABLED=False, ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"])
    return settings


def webhook(app, http_receiver):
    return add_webhook(app, http_receiver.url())


def submit(client, email, slug="newsletter", ip="198.51.100.7"):
    response = client.post(f"/f/{slug}", json={"email": email, "first_name": "Pat"}, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def statuses(db_session):
    db_session.expire_all()
    return dict(db_session.execute(select(Submission.status, func.count()).group_by(Submission.status)).all())


def screened_once(db_session, expected):
    """Every submission screened, each exactly once (one audit event, no repeated findings)."""
    db_session.expire_all()
    assert statuses(db_session) == {"screened": expected}
    audits = db_session.execute(
        select(AuditEvent.subject_id, func.count())
        .where(AuditEvent.action == "screened")
        .group_by(AuditEvent.subject_id)
    ).all()
    assert len(audits) == expected and {n for _, n in audits} == {1}
    findings = db_session.execute(
        select(Finding.submission_id, Finding.code, func.count()).group_by(Finding.submission_id, Finding.code)
    ).all()
    assert all(n == 1 for *_, n in findings)


def delivered_once(db_session, http_receiver, expected):
    db_session.expire_all()
    assert db_session.scalars(select(Delivery.status)).all() == ["delivered"] * expected
    keys = [r.key for r in http_receiver.effective]
    assert len(keys) == expected and len(set(keys)) == expected  # the receiver processed each lead once


def job_status(app, job_id):
    return Job.fetch(job_id, connection=Redis.from_url(app.config["REDIS_URL"])).get_status(refresh=True)


def test_worker_killed_mid_screening_the_work_is_done_again_once(app, client, db_session, workers):
    # A domain whose DNS never answers keeps the first worker busy long enough to kill it mid-job.
    first = workers.start(DNS_TIMEOUT_SECONDS="2", DNS_BUDGET_SECONDS="2.5")
    submission_id = submit(client, "sam@timeout.example")
    wait_until(
        lambda: job_status(app, f"screen-{submission_id}") == "started",
        timeout=20,
        message="first worker never started the job",
        logs=workers.logs,
    )
    workers.kill(first)
    assert statuses(db_session) == {"received": 1}

    workers.start()
    wait_until(
        lambda: statuses(db_session) == {"screened": 1},
        timeout=30,
        message="the killed job was not picked up again",
        logs=workers.logs,
    )
    screened_once(db_session, 1)
    db_session.expire_all()
    assert db_session.get(Submission, submission_id).verdict == "held"  # DNS unknown: held, never rejected


def test_worker_killed_mid_delivery_the_receiver_gets_the_lead_once(app, client, db_session, workers, http_receiver):
    webhook(app, http_receiver)
    http_receiver.script(Reply(200, delay=1.5))  # the receiver is slow; the sender dies while it works
    first = workers.start()
    submit(client, "pat@acme.com")
    wait_until(lambda: http_receiver.requests, timeout=20, message="no delivery attempt", logs=workers.logs)
    workers.kill(first)
    db_session.expire_all()
    assert db_session.scalars(select(Delivery.status)).one() == "sending"

    workers.start()
    wait_until(
        lambda: db_session.expire_all() or db_session.scalars(select(Delivery.status)).one() == "delivered",
        timeout=40,
        message="the delivery was not picked up again",
        logs=workers.logs,
    )
    delivered_once(db_session, http_receiver, 1)
    assert len(http_receiver.duplicates) == 1  # sent again with the same key, and the receiver dropped it
    screened_once(db_session, 1)


def test_three_workers_screen_and_deliver_every_lead_once(app, client, db_session, workers, http_receiver):
    webhook(app, http_receiver)
    for _ in range(3):
        workers.start()
    count = 30
    for i in range(count):  # thirty visitors, not one burst from one address
        submit(client, f"lead{i}@acme.com", ip=f"198.51.100.{i + 1}")
    wait_until(
        lambda: (
            db_session.expire_all()
            or db_session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "delivered"))
            == count
        ),
        timeout=90,
        message="not every lead was delivered",
        logs=workers.logs,
    )
    screened_once(db_session, count)
    delivered_once(db_session, http_receiver, count)
    assert (
        http_receiver.duplicates == [] and len(http_receiver.requests) == count
    )  # no delivery was even attempted twice
    # The three really shared the work: RQ records on each job the worker that ran it.
    redis = Redis.from_url(app.config["REDIS_URL"])
    jobs = [Job.fetch(f"screen-{s}", connection=redis) for s in db_session.scalars(select(Submission.id))]
    assert {job.get_status() for job in jobs} == {"finished"}
    assert len({job.worker_name for job in jobs}) >= 2, "one worker did every screening job"


def _block_database(url: str):
    """Make the database unavailable to other processes; returns a function that brings it back."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(
            urlsplit(url).path.lstrip("/") if url.startswith("sqlite:////") is False else urlsplit(url).path,
            timeout=5,
            isolation_level=None,
        )
        connection.execute("BEGIN EXCLUSIVE")  # every other connection now waits, then fails

        def release() -> None:
            connection.execute("ROLLBACK")
            connection.close()

        return release
    database = urlsplit(url).path.lstrip("/")

    def psql(sql: str) -> None:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True)

    psql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    psql(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' "
        "AND pid <> pg_backend_pid()"
    )
    return lambda: psql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')


def test_database_unavailable_to_the_worker_jobs_fail_then_retry(app, db_session, workers, settings):
    form_id = db_session.scalars(select(Form.id).where(Form.slug == "newsletter")).one()
    db_session.add(Submission(form_id=form_id, email="db@acme.com", status="received"))
    db_session.commit()
    submission_id = db_session.scalars(select(Submission.id)).one()
    db_session.close()
    app.extensions["leadsieve.engine"].dispose()
    workers.start(SWEEP_AFTER_SECONDS="3600")  # only the job itself runs while the database is away
    time.sleep(2)  # let the worker finish starting
    release = _block_database(settings["DATABASE_URL"])
    try:
        with app.app_context():
            assert enqueue_screening(submission_id)
        wait_until(
            lambda: job_status(app, f"screen-{submission_id}") == "failed",
            timeout=30,
            message="the job should fail while the database is unavailable",
            logs=workers.logs,
        )
    finally:
        release()
    assert statuses(db_session) == {"received": 1}  # nothing marked screened that was not

    # A worker that sweeps: the failed job is retried. The first one goes, or it could keep winning the
    # sweep turn (one sweeper per interval across workers) with its sweep that never looks this far back.
    workers.stop_all()
    workers.start()
    wait_until(
        lambda: statuses(db_session) == {"screened": 1},
        timeout=30,
        message="not retried after the database came back",
        logs=workers.logs,
    )
    screened_once(db_session, 1)
