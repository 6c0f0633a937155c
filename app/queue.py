"""The Redis connection and RQ queues, kept in `app.extensions`.

Enqueueing never raises into a request: if Redis is down the submission is
already committed, and the sweeper enqueues it once Redis is back.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

log = logging.getLogger(__name__)

SCREENING = "screening"
DELIVERY = "delivery"
QUEUE_NAMES = (SCREENING, DELIVERY)
# A job in one of these states will still run; enqueueing it again would only duplicate work.
PENDING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def connect(url: str, timeout: float = 2.0) -> Redis:
    """A Redis client that fails fast instead of hanging a visitor's request."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def init_app(app: Flask) -> None:
    """Bind the connection and the named queues to the app."""
    connection = connect(app.config["REDIS_URL"], app.config["REDIS_TIMEOUT_SECONDS"])
    app.extensions["leadsieve.redis"] = connection
    app.extensions["leadsieve.queues"] = {name: Queue(name, connection=connection) for name in QUEUE_NAMES}


def get_queue(name: str) -> Queue:
    """One of the app's queues by name."""
    return current_app.extensions["leadsieve.queues"][name]


def screening_job_id(submission_id: int) -> str:
    """Stable id, so the sweeper can tell whether a submission is already queued."""
    return f"screen-{submission_id}"


def enqueue_screening(submission_id: int, *, only_if_missing: bool = False) -> bool:
    """Queue `screen_submission`; False (and a log line) when Redis is unreachable."""
    queue = get_queue(SCREENING)
    job_id = screening_job_id(submission_id)
    try:
        if only_if_missing and _is_pending(queue, job_id):
            return False
        queue.enqueue("app.jobs.screen_submission", submission_id, job_id=job_id,
                      result_ttl=3600, failure_ttl=7 * 24 * 3600)
    except RedisError as exc:
        log.warning("could not enqueue screening of submission %s (%s); the sweeper will retry",
                    submission_id, exc)
        return False
    return True


def _is_pending(queue: Queue, job_id: str) -> bool:
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in PENDING


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
            queue.enqueue_in(timedelta(seconds=delay), "app.jobs.deliver", delivery_id, job_id=job_id,
                             result_ttl=3600, failure_ttl=7 * 24 * 3600)
        else:
            queue.enqueue("app.jobs.deliver", delivery_id, job_id=job_id, result_ttl=3600,
                          failure_ttl=7 * 24 * 3600)
    except RedisError as exc:
        log.warning("could not enqueue delivery %s (%s); the sweeper will retry", delivery_id, exc)
        return False
    return True
