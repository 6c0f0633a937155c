"""Screening in batches (app/runtime/batching.py, app.jobs.screen_batch): how a worker takes a batch, that each
submission is screened and forwarded once, that a poisoned one fails alone, and that the lanes stay strict."""

from __future__ import annotations

import subprocess
import sys

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select, text

from app.db import session_scope
from app.jobs import run_deliveries, screen_batch
from app.models import AuditEvent, Delivery, Destination, Form, Submission
from app.runtime import batching
from app.runtime.queues import (
    DELIVERY,
    QUEUE_NAMES,
    SALES_SCREENING,
    SCREENING,
    enqueue_delivery,
    enqueue_screening,
    get_queue,
    screening_job_id,
)
from tests.system.faults.conftest import ROOT, WorkerProcesses


def _stored(session, count: int, *, slug: str = "newsletter", **fields) -> list[int]:
    """`count` received submissions of one form, each from its own address and client."""
    form_id = session.scalars(select(Form.id).where(Form.slug == slug)).one()
    rows = [
        Submission(form_id=form_id, email=f"reader{n}@acme.com", ip=f"198.51.100.{n + 1}", **fields)
        for n in range(count)
    ]
    session.add_all(rows)
    session.commit()
    return [row.id for row in rows]


def _statuses(redis: Redis, ids: list[int]) -> list[str | None]:
    return [
        None if job is None else job.get_status(refresh=False)
        for job in Job.fetch_many([screening_job_id(i) for i in ids], connection=redis)
    ]


def _queued(redis: Redis, lane: str) -> list[str]:
    return [job_id.decode() for job_id in redis.lrange(Queue(lane, connection=redis).key, 0, -1)]


def _audits(session) -> dict[int, int]:
    session.expire_all()
    screened = select(AuditEvent.subject_id, func.count()).where(AuditEvent.action == "screened")
    rows = session.execute(screened.group_by(AuditEvent.subject_id)).all()
    return {int(subject): int(n) for subject, n in rows}


def _take(app, redis: Redis, size: int, lane: str = SCREENING):
    """What the worker does after dequeuing: the first job, and a batch with the ones behind it."""
    queue = Queue(lane, connection=redis)
    job, _ = Queue.dequeue_any([queue], None, connection=redis)
    if not batching.batchable(job, queue.name):
        return job
    with app.app_context():
        return batching.take_batch(job, queue, size=size, worker_name="w1")


def test_a_worker_takes_up_to_the_batch_size_and_leaves_the_rest_queued_in_order(app, db_session):
    ids = _stored(db_session, 6)
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        for submission_id in ids[:2]:
            assert enqueue_screening(submission_id)
        assert enqueue_screening(ids[2], alone=True)  # queued to run alone: never joins a batch
        get_queue(SCREENING).enqueue("bench.worker.noop", job_id="other-function")  # another job: not screening
        for submission_id in ids[3:]:
            assert enqueue_screening(submission_id)

    batch = _take(app, redis, size=4)

    assert batch.func_name == batching.BATCH_FUNC and batch.origin == SCREENING
    assert batch.args == ([ids[0], ids[1]], False)
    # What could not join is back at the front, in its order; what was not popped stays behind it.
    assert _queued(redis, SCREENING) == [screening_job_id(ids[2]), "other-function", *map(screening_job_id, ids[3:])]
    assert _statuses(redis, ids) == ["started", "started", "queued", "queued", "queued", "queued"]
    assert {Job.fetch(screening_job_id(i), connection=redis).worker_name for i in ids[:2]} == {"w1"}

    assert _take(app, redis, size=4).func_name == batching.SCREEN_FUNC  # the job queued alone runs alone
    assert _queued(redis, SCREENING) == ["other-function", *map(screening_job_id, ids[3:])]
    assert _take(app, redis, size=4).id == "other-function"
    batch = _take(app, redis, size=4)
    assert batch.args == (ids[3:], False) and _queued(redis, SCREENING) == []
    redis.close()


def test_one_job_waiting_alone_is_not_made_a_batch(app, db_session):
    (only,) = _stored(db_session, 1)
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        assert enqueue_screening(only)
    job = _take(app, redis, size=50)
    assert job.id == screening_job_id(only) and job.func_name == batching.SCREEN_FUNC
    redis.close()


def test_a_batch_screens_and_forwards_each_submission_once(app, db_session, http_receiver):
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    db_session.add(Destination(name="all", kind="webhook", target=http_receiver.url(), secret="s", stages=[]))
    db_session.commit()
    ids = _stored(db_session, 5)
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        for submission_id in ids:
            assert enqueue_screening(submission_id)
    batch = _take(app, redis, size=10)
    worker = SimpleWorker([Queue(n, connection=redis) for n in QUEUE_NAMES], connection=redis)
    with app.app_context():
        assert screen_batch(*batch.args) == {"screened": 5, "skipped": 0, "alone": 0, "given back": 0}
        worker.work(burst=True)  # the deliveries, queued at the end of the batch
        # The same batch again (a worker that died after its commits and was retried): nothing changes.
        assert screen_batch(*batch.args) == {"screened": 0, "skipped": 5, "alone": 0, "given back": 0}
        # And a single job, as the sweeper would queue it.
        assert enqueue_screening(ids[0])
        worker.work(burst=True)

    assert _audits(db_session) == dict.fromkeys(ids, 1)
    assert _statuses(redis, ids[1:]) == ["finished"] * 4
    assert 0 < redis.ttl(Job.key_for(screening_job_id(ids[0]))) <= 3600  # kept as long as a finished job
    assert db_session.scalars(select(Delivery.status)).all() == ["delivered"] * 5
    assert sorted(r.json()["email"] for r in http_receiver.requests) == sorted(f"reader{n}@acme.com" for n in range(5))
    redis.close()


def test_a_row_another_worker_holds_is_skipped_not_screened_twice(app, db_session):
    """PostgreSQL: FOR UPDATE SKIP LOCKED. (SQLite has one writer at a time; the guarded UPDATE covers it.)"""
    if app.extensions["leadsieve.engine"].dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    held, free = _stored(db_session, 2)
    with app.app_context(), session_scope() as other:
        other.execute(text("SELECT id FROM submissions WHERE id = :id FOR UPDATE"), {"id": held})
        assert screen_batch([held, free]) == {"screened": 1, "skipped": 1, "alone": 0, "given back": 0}
        other.rollback()
    db_session.expire_all()
    assert db_session.get(Submission, held).status == "received"  # still waiting for whoever holds it
    assert db_session.get(Submission, free).status == "screened"


def test_a_submission_that_fails_is_queued_alone_and_the_rest_are_screened(app, db_session, caplog):
    good = _stored(db_session, 3)
    (poisoned,) = _stored(db_session, 1, signals=[1, 2])  # a corrupt row: screening cannot read its signals
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        counts = screen_batch([good[0], poisoned, good[1], good[2]])
    assert counts == {"screened": 3, "skipped": 0, "alone": 1, "given back": 0}
    assert f"screening submission {poisoned} failed in a batch" in caplog.text
    assert _audits(db_session) == dict.fromkeys(good, 1)
    assert db_session.get(Submission, poisoned).status == "received"
    assert _queued(redis, SCREENING) == [screening_job_id(poisoned)]
    alone = Job.fetch(screening_job_id(poisoned), connection=redis)
    assert alone.meta.get("alone") is True

    # Alone, it fails as a single job always has: in the failed registry, with its error.
    with app.app_context():
        SimpleWorker([Queue(n, connection=redis) for n in QUEUE_NAMES], connection=redis).work(burst=True)
    assert FailedJobRegistry(SCREENING, connection=redis).get_job_ids() == [screening_job_id(poisoned)]
    assert "TypeError" in (alone.latest_result(timeout=0).exc_string or "")
    redis.close()


def test_a_batch_whose_horse_failed_has_what_it_left_queued_alone(app, db_session):
    from worker import leadsieve_worker

    done, left, other = _stored(db_session, 3)
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        for submission_id in (done, left, other):
            assert enqueue_screening(submission_id)
    batch = _take(app, redis, size=2)
    assert batch.args == ([done, left], False)
    with app.app_context():
        assert screen_batch([done]) == {"screened": 1, "skipped": 0, "alone": 0, "given back": 0}
        batch.set_status("failed")  # what RQ records when the horse dies, is killed or times out
        leadsieve_worker(app, sweep_every=60).after_batch(batch)
    assert _queued(redis, SCREENING) == [screening_job_id(other), screening_job_id(left)]
    assert Job.fetch(screening_job_id(left), connection=redis).meta.get("alone") is True
    assert _statuses(redis, [done, left, other]) == ["finished", "queued", "queued"]
    redis.close()


def test_a_finished_batch_queues_nothing_again(app, db_session):
    from worker import leadsieve_worker

    ids = _stored(db_session, 2)
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        for submission_id in ids:
            assert enqueue_screening(submission_id)
    batch = _take(app, redis, size=2)
    batch.set_status("finished")
    with app.app_context():
        leadsieve_worker(app, sweep_every=60).after_batch(batch)
    assert _queued(redis, SCREENING) == []
    redis.close()


@pytest.mark.parametrize("ahead", [SALES_SCREENING, DELIVERY], ids=["sales-request", "delivery"])
def test_a_download_batch_makes_way_for_a_sales_request_or_a_delivery(app, db_session, ahead):
    downloads = _stored(db_session, 5, slug="whitepaper-lead-quality")
    (demo,) = _stored(db_session, 1, slug="request-demo")
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        if ahead == SALES_SCREENING:
            assert enqueue_screening(demo, sales=True)
        else:
            assert enqueue_delivery(12345, 0)
        counts = screen_batch(downloads)
    assert counts == {"screened": 1, "skipped": 0, "alone": 0, "given back": 4}
    assert _queued(redis, SCREENING) == [screening_job_id(i) for i in downloads[1:]]  # at the front, in order
    assert _statuses(redis, downloads[1:]) == ["queued"] * 4
    assert _queued(redis, ahead)[0] == (screening_job_id(demo) if ahead == SALES_SCREENING else "deliver-12345-0")
    redis.close()


def test_a_sales_batch_does_not_make_way_for_downloads(app, db_session):
    demos = _stored(db_session, 3, slug="request-demo")
    (download,) = _stored(db_session, 1, slug="whitepaper-lead-quality")
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        assert enqueue_screening(download)
        assert screen_batch(demos, True) == {"screened": 3, "skipped": 0, "alone": 0, "given back": 0}
    assert _queued(redis, SCREENING) == [screening_job_id(download)]
    redis.close()


def test_a_batch_past_half_its_time_out_queues_the_rest_again(app, db_session):
    ids = _stored(db_session, 3)
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():  # no time left after the first: the rest goes back
        assert screen_batch(ids, False, 0) == {"screened": 1, "skipped": 0, "alone": 0, "given back": 2}
    assert _queued(redis, SCREENING) == [screening_job_id(i) for i in ids[1:]]
    redis.close()


def test_the_shipped_worker_screens_a_batch_with_a_poisoned_submission_in_it(app, settings, db_session, tmp_path):
    """End to end with RQ's forking worker (`leadsieve_worker`, batches of 4): every good submission is
    screened once, the poisoned one fails alone, as a single job always has."""
    good = _stored(db_session, 6)
    (poisoned,) = _stored(db_session, 1, signals=[1, 2])
    ids = [*good[:3], poisoned, *good[3:]]
    with app.app_context():
        assert all(enqueue_screening(i) for i in ids)
    script = (
        "import sys, worker\n"
        "from config import load_config\n"
        "app = worker.prepare(load_config())\n"
        "with app.app_context():\n"
        "    w = worker.leadsieve_worker(app, sweep_every=3600)\n"
        "    w.work(burst=True, logging_level='WARNING')\n"
    )
    env = WorkerProcesses(settings, tmp_path).env(LOG_LEVEL="WARNING", SCREENING_BATCH_SIZE="4")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert _audits(db_session) == dict.fromkeys(good, 1), done.stdout[-3000:]
    assert db_session.get(Submission, poisoned).status == "received"
    redis = Redis.from_url(app.config["REDIS_URL"])
    assert FailedJobRegistry(SCREENING, connection=redis).get_job_ids() == [screening_job_id(poisoned)]
    assert _statuses(redis, ids) == ["finished"] * 3 + ["failed"] + ["finished"] * 3
    redis.close()


def test_deliveries_and_visitor_emails_waiting_run_in_one_batch_each_once(
    app, db_session, http_receiver, smtp_receiver
):
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    db_session.add(Destination(name="all", kind="webhook", target=http_receiver.url(), secret="s", stages=[]))
    db_session.commit()
    ids = _stored(db_session, 3)
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        assert screen_batch(ids)["screened"] == 3
    waiting = _queued(redis, DELIVERY)
    assert len(waiting) >= 3

    batch = _take(app, redis, size=50, lane=DELIVERY)
    assert batch.func_name == batching.DELIVERY_BATCH_FUNC and batch.args == (waiting,)
    assert {Job.fetch(i, connection=redis).get_status() for i in waiting} == {"started"}
    with app.app_context():
        assert run_deliveries(waiting) == {"done": len(waiting), "alone": 0, "given back": 0}
        assert run_deliveries(waiting)["done"] == len(waiting)  # again: each job finds its work done
    assert {Job.fetch(i, connection=redis).get_status() for i in waiting} == {"finished"}
    db_session.expire_all()
    assert db_session.scalars(select(Delivery.status)).all() == ["delivered"] * 3
    assert len(http_receiver.requests) == 3
    redis.close()


def test_a_delivery_job_that_raises_is_queued_alone_and_fails_alone(app, db_session):
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        queue = get_queue(DELIVERY)
        broken = queue.enqueue("app.jobs.deliver", job_id="deliver-broken")  # no delivery id: it cannot run
        fine = queue.enqueue("app.jobs.deliver", 987654, job_id="deliver-987654-0")  # no such delivery: nothing to do
    batch = _take(app, redis, size=10, lane=DELIVERY)
    assert batch.args == ([broken.id, fine.id],)
    with app.app_context():
        assert run_deliveries(*batch.args) == {"done": 1, "alone": 1, "given back": 0}
        assert _queued(redis, DELIVERY) == [broken.id]
        assert Job.fetch(broken.id, connection=redis).meta.get("alone") is True
        SimpleWorker([Queue(n, connection=redis) for n in QUEUE_NAMES], connection=redis).work(burst=True)
    assert FailedJobRegistry(DELIVERY, connection=redis).get_job_ids() == [broken.id]
    assert Job.fetch(fine.id, connection=redis).get_status() == "finished"
    redis.close()


def test_a_delivery_batch_past_its_budget_puts_the_rest_back_in_front(app, db_session):
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        ids = [get_queue(DELIVERY).enqueue("app.jobs.deliver", n, job_id=f"deliver-{n}-0").id for n in (11, 12, 13)]
    batch = _take(app, redis, size=10, lane=DELIVERY)
    with app.app_context():
        assert run_deliveries(*batch.args, 0) == {"done": 1, "alone": 0, "given back": 2}
    assert _queued(redis, DELIVERY) == ids[1:]
    redis.close()
