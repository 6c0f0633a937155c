"""The Redis connection and RQ queues, kept in `app.extensions`.

Enqueueing never raises into a request: if Redis is down the submission is
already committed, and the sweeper enqueues it once Redis is back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import utcparse

from app.observability.context import RequestIdQueue
from app.statuses import Stage
from forms import FORM_KINDS

log = logging.getLogger(__name__)

SCREENING = "screening"
# Demo and contact-sales requests: screened in a lane of their own so a flood of downloads never
# makes sales wait (speed to lead).
SALES_SCREENING = "screening-sales"
DELIVERY = "delivery"
# The order is the priority every worker serves them in: RQ takes from the first non-empty queue, so
# deliveries go out first, then sales requests are screened, then everything else.
QUEUE_NAMES = (DELIVERY, SALES_SCREENING, SCREENING)
# A job in one of these states will still run; enqueueing it again would only duplicate work.
PENDING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
# How long RQ keeps a finished job's record, and a failed one's.
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600
# In a screening job's meta: screen it in a work horse of its own, never in a batch (app/runtime/batching.py).
ALONE = "alone"
# RQ's set of registered workers' keys; each key is a hash with the worker's state and last heartbeat.
WORKERS_KEY = "rq:workers"
# A worker heartbeats at least every few seconds (worker.py); one silent this long is gone, even though
# RQ keeps its record for minutes after a SIGKILL.
WORKER_SILENT_SECONDS = 60


def connect(url: str, timeout: float = 2.0) -> Redis:
    """A Redis client that fails fast instead of hanging a visitor's request."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def init_app(app: Flask) -> None:
    """Bind the connection and the named queues to the app."""
    connection = connect(app.config["REDIS_URL"], app.config["REDIS_TIMEOUT_SECONDS"])
    app.extensions["leadsieve.redis"] = connection
    # RequestIdQueue: each job's meta carries the request id of whoever enqueued it (app/observability).
    app.extensions["leadsieve.queues"] = {name: RequestIdQueue(name, connection=connection) for name in QUEUE_NAMES}


def get_queue(name: str) -> Queue:
    """One of the app's queues by name."""
    return current_app.extensions["leadsieve.queues"][name]


def screening_job_id(submission_id: int) -> str:
    """Stable id, so the sweeper can tell whether a submission is already queued."""
    return f"screen-{submission_id}"


def is_sales_request(form_kind: str | None) -> bool:
    """Whether submissions of this form kind ask for sales (demo, contact sales): they take the fast lane."""
    kind = FORM_KINDS.get(form_kind or "")
    return kind is not None and kind.INTENT == Stage.SQL


def enqueue_screening(
    submission_id: int, *, sales: bool = False, only_if_missing: bool = False, alone: bool = False
) -> bool:
    """Queue `screen_submission` (in the sales lane for sales requests; `alone`: never in a batch, see
    app/runtime/batching.py); False (and a log line) when Redis is unreachable."""
    queue = get_queue(SALES_SCREENING if sales else SCREENING)
    try:
        if only_if_missing and _is_pending(queue, screening_job_id(submission_id)):
            return False
        # One round trip: without a pipeline RQ registers the queue in a round trip of its own.
        pipeline = queue.connection.pipeline()
        queue_screening(pipeline, submission_id, sales=sales, alone=alone)
        pipeline.execute()
    except RedisError as exc:
        log.warning("could not enqueue screening of submission %s (%s); the sweeper will retry", submission_id, exc)
        return False
    return True


def queue_screening(
    pipeline: Pipeline, submission_id: int, *, sales: bool = False, alone: bool = False, at_front: bool = False
) -> None:
    """Add the commands that queue `screen_submission` to `pipeline`; the caller executes it (capture sends
    them without waiting for the answer, app/capture/link.py)."""
    get_queue(SALES_SCREENING if sales else SCREENING).enqueue(
        "app.jobs.screen_submission",
        submission_id,
        job_id=screening_job_id(submission_id),
        job_timeout=_job_timeout(),
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        meta={ALONE: True} if alone else None,
        at_front=at_front,
        pipeline=pipeline,
    )


def _job_timeout() -> int:
    return int(current_app.config.get("JOB_TIMEOUT_SECONDS", 120))


def heartbeat_seconds(job_timeout: int) -> int:
    """How often a worker vouches for the job it runs (RQ's job monitoring interval): often enough that a
    silence soon means the worker is gone, at most every 10 s."""
    return max(1, min(10, job_timeout // 4))


def silence_seconds(job_timeout: int) -> int:
    """A job nobody has vouched for in this long has no live worker: three missed heartbeats and a margin."""
    return 3 * heartbeat_seconds(job_timeout) + 2


def _is_pending(queue: Queue, job_id: str) -> bool:
    """Will this job still run? Not when its worker died without telling RQ (SIGKILL, power loss): a job
    "started" longer ago than its time-out whose worker stopped vouching for it (no heartbeat for three
    intervals). A live worker's job is never called gone, however long it runs: its parent keeps vouching."""
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    timeout = _job_timeout()
    if status == JobStatus.STARTED and job.started_at is not None:
        vouched = job.last_heartbeat or job.started_at
        if _age(job.started_at) > timeout + 1 and _age(vouched) > silence_seconds(timeout):
            log.warning("job %s was started at %s and its worker is gone; enqueueing it again", job_id, job.started_at)
            return False
    return status in PENDING


def _age(moment: datetime) -> float:
    """Seconds since `moment` (RQ stores naive UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (datetime.now(UTC) - aware).total_seconds()


def delivery_job_id(delivery_id: int, attempts: int) -> str:
    """One job id per try, so a scheduled retry never overwrites the running job."""
    return f"deliver-{delivery_id}-{attempts}"


def enqueue_delivery(delivery_id: int, attempts: int, *, delay: float = 0, only_if_missing: bool = False) -> bool:
    """Queue `deliver` now, or after `delay` seconds via RQ's scheduler; False when Redis is unreachable."""
    queue = get_queue(DELIVERY)
    job_id = delivery_job_id(delivery_id, attempts)
    try:
        if only_if_missing and _is_pending(queue, job_id):
            return False
        if delay > 0:
            queue.enqueue_in(
                timedelta(seconds=delay),
                "app.jobs.deliver",
                delivery_id,
                job_id=job_id,
                job_timeout=_job_timeout(),
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
        else:
            queue.enqueue(
                "app.jobs.deliver",
                delivery_id,
                job_id=job_id,
                job_timeout=_job_timeout(),
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
    except RedisError as exc:
        log.warning("could not enqueue delivery %s (%s); the sweeper will retry", delivery_id, exc)
        return False
    return True


def visitor_email_job_id(submission_id: int, attempts: int) -> str:
    """One job id per try of a visitor's confirmation e-mail, like deliveries."""
    return f"visitor-email-{submission_id}-{attempts}"


def enqueue_visitor_email(
    submission_id: int, attempts: int = 0, *, delay: float = 0, only_if_missing: bool = False
) -> bool:
    """Queue `send_visitor_email` (on the delivery queue) now or after `delay` seconds; False when Redis
    is unreachable (the sweeper finds the e-mail due and queues it again)."""
    queue = get_queue(DELIVERY)
    job_id = visitor_email_job_id(submission_id, attempts)
    options = {"job_id": job_id, "job_timeout": _job_timeout(), "result_ttl": 3600, "failure_ttl": 7 * 24 * 3600}
    try:
        if only_if_missing and _is_pending(queue, job_id):
            return False
        if delay > 0:
            queue.enqueue_in(timedelta(seconds=delay), "app.jobs.send_visitor_email", submission_id, **options)
        else:
            queue.enqueue("app.jobs.send_visitor_email", submission_id, **options)
    except RedisError as exc:
        log.warning(
            "could not enqueue the visitor e-mail of submission %s (%s); the sweeper will retry", submission_id, exc
        )
        return False
    return True


def enqueue_rescore(run_id: int) -> bool:
    """Queue `rescore_leads` on the screening queue (after the submissions waiting there); False when Redis
    is unreachable (the scoring page offers to run it again: a re-run resumes where the last stopped)."""
    try:
        get_queue(SCREENING).enqueue(
            "app.jobs.rescore_leads", run_id, job_timeout=_job_timeout(), result_ttl=3600, failure_ttl=7 * 24 * 3600
        )
    except RedisError as exc:
        log.warning("could not enqueue re-score run %s (%s)", run_id, exc)
        return False
    return True


@dataclass(frozen=True)
class WorkerCensus:
    """The workers that heartbeat recently, by RQ state, and how many Redis outages they rode out."""

    by_state: dict[str, int]
    redis_outages: int

    @property
    def live(self) -> int:
        """How many workers are alive."""
        return sum(self.by_state.values())


def worker_census(redis: Redis, *, silent_after: float = WORKER_SILENT_SECONDS) -> WorkerCensus:
    """Read (never prune, unlike RQ's `Worker.all`) the registered workers; raises RedisError when Redis is down."""
    keys = sorted(redis.smembers(WORKERS_KEY))
    pipeline = redis.pipeline(transaction=False)
    for key in keys:
        pipeline.hmget(key, "state", "last_heartbeat", "leadsieve_redis_outages")
    by_state: dict[str, int] = {}
    outages = 0
    for state, heartbeat, rode_out in pipeline.execute() if keys else []:
        if heartbeat is None or _age(utcparse(heartbeat.decode())) > silent_after:
            continue
        name = state.decode() if state else "unknown"
        by_state[name] = by_state.get(name, 0) + 1
        outages += int(rode_out or 0)
    return WorkerCensus(by_state=by_state, redis_outages=outages)
