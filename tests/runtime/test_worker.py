"""worker.py: its chores run in its own loop between jobs (never beside a fork), the in-loop scheduler, and how
the sweeper tells a live worker's long job from one whose worker is gone. The stress test forks hundreds of
work horses from a real worker process while every chore runs between each two jobs."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.utils import utcformat
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.models import Form, ListEntry, Submission, utcnow
from app.runtime.queues import enqueue_screening, screening_job_id
from tests.system.faults.conftest import ROOT, WorkerProcesses
from worker import Chore, Chores, Scheduler, Sweeper, leadsieve_worker


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_chores_run_when_due_and_a_failing_one_waits_for_its_next_turn(caplog):
    clock, ran = Clock(), []

    def broken() -> None:
        ran.append("broken")
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    chores = Chores([Chore("often", 1, lambda: ran.append("often")), Chore("broken", 5, broken)], clock=clock)
    with caplog.at_level(logging.WARNING, logger="leadsieve.worker"):
        chores.run_due()  # all of them at once, at start
    assert ran == ["often", "broken"]
    assert "broken failed, will retry" in caplog.text
    assert chores.seconds_until_due() == 1
    clock.now += 0.5
    chores.run_due()
    assert ran == ["often", "broken"] and chores.seconds_until_due() == 0.5
    clock.now += 0.5
    chores.run_due()
    assert ran == ["often", "broken", "often"]
    clock.now += 4
    chores.run_due()
    assert ran == ["often", "broken", "often", "often", "broken"]


def test_a_lost_redis_is_not_swallowed_by_a_chore():
    """The loop must hear of it, to wait for Redis instead of logging a failed sweep every second."""

    def lost() -> None:
        raise RedisConnectionError("Connection refused")

    with pytest.raises(RedisConnectionError):
        Chores([Chore("sweep", 1, lost)]).run_due()


def _submission(session, email: str, **fields) -> int:
    form = session.scalars(select(Form).where(Form.slug == "newsletter")).one()
    submission = Submission(form_id=form.id, email=email, **fields)
    session.add(submission)
    session.commit()
    return submission.id


def test_sweep_chore_enqueues_the_stale_submission_once_per_turn(app, db_session):
    stale = _submission(db_session, "d@acme.com", received_at=utcnow() - timedelta(hours=1))
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        Sweeper(app, interval=5, older_than=60)()
        assert redis.lrange("rq:queue:screening", 0, -1) == [f"screen-{stale}".encode()]
        redis.delete("rq:queue:screening")
        Sweeper(app, interval=5, older_than=60)()  # another worker, same interval: not its turn
    assert redis.llen("rq:queue:screening") == 0
    redis.close()


def test_lists_chore_keeps_the_parents_copy_fresh(app, db_session):
    """The chore behind test_forked_work_horses_use_the_lists_the_parent_refreshed."""
    with app.app_context():
        worker = leadsieve_worker(app, sweep_every=60, lists_every=0.01)
        worker.chores.run_due()
        db_session.add(ListEntry(kind="blocked_domain", value="fresh.example", created_by="anna@example.com"))
        db_session.commit()
        for chore in worker.chores.chores:
            chore.due = 0  # every chore's turn has come
        worker.chores.run_due()
    assert "fresh.example" in app.extensions["leadsieve.screening_lists"][1].blocked_domains


def test_scheduler_chore_moves_due_jobs_and_one_worker_holds_the_lock(app):
    redis = Redis.from_url(app.config["REDIS_URL"])
    queue = Queue("delivery", connection=redis)
    due = datetime.now(UTC) - timedelta(seconds=1)
    holder, other = Scheduler([queue], redis), Scheduler([queue], redis)
    queue.enqueue_at(due, "app.jobs.deliver", 1, job_id="deliver-1-1")
    holder()
    assert queue.job_ids == ["deliver-1-1"]
    queue.enqueue_at(due, "app.jobs.deliver", 2, job_id="deliver-2-1")
    other()
    assert queue.job_ids == ["deliver-1-1"]  # another worker's turn: it waits for the lock
    holder.stop()  # a worker that stops hands the lock over at once
    other()
    assert queue.job_ids == ["deliver-1-1", "deliver-2-1"]
    other.stop()
    redis.close()


def _started(redis: Redis, job_id: str, *, started: datetime, heartbeat: datetime) -> None:
    """Mark a queued job as a worker would while running it."""
    redis.hset(
        f"rq:job:{job_id}",
        mapping={"status": "started", "started_at": utcformat(started), "last_heartbeat": utcformat(heartbeat)},
    )


@pytest.mark.parametrize(
    ("heartbeat_age", "enqueued_again"),
    [
        (timedelta(seconds=1), False),  # a live worker past the time-out (a horse stuck in C): still its job
        (timedelta(hours=1), True),  # nobody vouched for it in an hour: its worker is gone
    ],
)
def test_a_started_job_is_gone_only_when_its_worker_stopped_vouching_for_it(
    app, db_session, heartbeat_age, enqueued_again
):
    submission_id = _submission(db_session, "long@acme.com")
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        assert enqueue_screening(submission_id)
        now = datetime.now(UTC)
        job_id = screening_job_id(submission_id)
        _started(redis, job_id, started=now - timedelta(hours=1), heartbeat=now - heartbeat_age)
        assert enqueue_screening(submission_id, only_if_missing=True) is enqueued_again
    redis.close()


def test_hundreds_of_forked_horses_while_the_chores_run_between_every_two_jobs(app, settings, db_session, tmp_path):
    """The deadlock this replaces: a horse forked while the sweeper or lists thread held a lock (SQLite's,
    the pool's) hung in `_sqlite_pragmas`, about once in 170 jobs. Now every chore runs in the loop, due
    before every job here, so a horse is forked right after each one; every job must finish, none may fail."""
    count = 300
    ids = [_submission(db_session, f"lead{i}@acme.com") for i in range(count)]
    with app.app_context():
        assert all(enqueue_screening(i) for i in ids)
    script = (
        "import sys, worker\n"
        "from config import load_config\n"
        "app = worker.prepare(load_config())\n"
        "with app.app_context():\n"
        "    w = worker.leadsieve_worker(app, sweep_every=0.001, lists_every=0.001)\n"
        "    sys.exit(0 if w.work(burst=True, logging_level='WARNING') else 1)\n"
    )
    env = WorkerProcesses(settings, tmp_path).env(
        LOG_LEVEL="WARNING", SCREENING_LISTS_TTL_SECONDS="60", JOB_TIMEOUT_SECONDS="30"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
        )
    except subprocess.TimeoutExpired as exc:  # a horse hung: the worker waits for it past the deadline
        pytest.fail(f"the worker did not drain {count} jobs in time\n{(exc.stderr or b'')[-3000:]!r}")
    assert done.returncode == 0, done.stderr[-3000:]
    db_session.expire_all()
    statuses = dict(db_session.execute(select(Submission.status, func.count()).group_by(Submission.status)).all())
    assert statuses == {"screened": count}, done.stderr[-3000:]
    redis = Redis.from_url(settings["REDIS_URL"])
    assert FailedJobRegistry("screening", connection=redis).count == 0
    redis.close()
