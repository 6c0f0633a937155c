"""Screening in batches: the worker turns the screening job it dequeued, and up to `SCREENING_BATCH_SIZE` - 1
more waiting in the same lane, into one `screen_batch` job, so one work horse (one fork, one database
connection, the lists read once) screens them all, each submission in a transaction of its own.

Each submission keeps its own RQ job (`screen-<id>`) and it reads as it always did: `started` while its
batch runs, so the sweeper, which queues again a job started longer ago than the time-out, gives it to
another worker if this one dies; `finished` once screened. A submission whose screening raises is queued
again `alone`, for a work horse of its own, where it fails (and the sweeper retries it) as a single job
does; a batch whose horse dies or times out has every submission it had not screened queued alone the same
way, so one poisoned submission never takes the rest of its batch down twice.

Deliveries and visitor e-mails waiting in the delivery lane are batched the same way (`run_deliveries`): one
horse runs them one after another, each as its own job would, and one that raises is queued alone.

Lanes stay strict: before each submission the batch looks at the queues served before its own (deliveries,
then sales requests) and, if anything waits there, queues the rest of the batch again at the front of its
lane and ends, so at most one download is screened while a demo request waits.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import Queue
from rq.job import Job, JobStatus
from rq.utils import as_text, now, utcformat

from app.runtime.queues import (
    ALONE,
    DELIVERY,
    FAILURE_TTL,
    RESULT_TTL,
    SALES_SCREENING,
    SCREENING,
    queue_screening,
)

log = logging.getLogger(__name__)

SCREEN_FUNC = "app.jobs.screen_submission"
BATCH_FUNC = "app.jobs.screen_batch"
DELIVERY_FUNCS = frozenset({"app.jobs.deliver", "app.jobs.send_visitor_email"})
DELIVERY_BATCH_FUNC = "app.jobs.run_deliveries"
BATCH_FUNCS = frozenset({BATCH_FUNC, DELIVERY_BATCH_FUNC})
# The batch job's meta: its members' own job ids.
MEMBERS = "members"
BATCH_PREFIX = "screen-batch-"
# Each screening lane, and the queues every worker serves before it (app/runtime/queues.QUEUE_NAMES).
AHEAD_OF = {SALES_SCREENING: (DELIVERY,), SCREENING: (DELIVERY, SALES_SCREENING)}


def batchable(job: Job, queue_name: str) -> bool:
    """A screening job in a screening lane, or a delivery or visitor e-mail in the delivery lane, that was
    not queued to run alone."""
    if job.meta.get(ALONE):
        return False
    if queue_name == DELIVERY:
        return job.func_name in DELIVERY_FUNCS
    return queue_name in AHEAD_OF and job.func_name == SCREEN_FUNC


def take_batch(job: Job, queue: Queue, *, size: int, worker_name: str) -> Job:
    """`job`, just dequeued from `queue`, with up to `size` - 1 more batchable jobs waiting there, as one
    `screen_batch` (or `run_deliveries`) job; `job` itself when no other waits. Jobs popped that may not
    join (a job queued alone, another function) go back to the front of the queue in their order."""
    connection = queue.connection
    with connection.pipeline(transaction=False) as pipeline:
        for _ in range(size - 1):
            pipeline.lpop(queue.key)  # one round trip; each pop is atomic, so no two workers get one job
        popped = [as_text(job_id) for job_id in pipeline.execute() if job_id is not None]
    if not popped:
        return job
    members: list[Job] = [job]
    back: list[str] = []
    for job_id, other in zip(popped, Job.fetch_many(popped, connection, serializer=queue.serializer), strict=True):
        if other is None:
            continue  # deleted since it was queued: RQ skips those too
        if batchable(other, queue.name):
            members.append(other)
        else:
            back.append(job_id)
    with connection.pipeline() as pipeline:
        for job_id in reversed(back):
            queue.push_job_id(job_id, pipeline=pipeline, at_front=True)
        if len(members) == 1:
            pipeline.execute()
            return job
        job_ids = [member.id for member in members]
        args: tuple[Any, ...]
        if queue.name == DELIVERY:
            func, args, what = DELIVERY_BATCH_FUNC, (job_ids,), f"run {len(job_ids)} deliveries and e-mails"
        else:
            ids = [int(member.args[0]) for member in members]
            func, args = BATCH_FUNC, (ids, queue.name == SALES_SCREENING)
            what = f"screen {len(ids)} submissions ({ids[0]}…{ids[-1]})"
        batch = queue.create_job(
            func,
            args=args,
            job_id=f"{BATCH_PREFIX}{uuid.uuid4().hex}",
            timeout=int(job.timeout) if job.timeout is not None else None,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=what,
            meta={MEMBERS: job_ids},
        )
        batch.origin = queue.name
        batch.save(pipeline=pipeline)
        mark(connection, job_ids, JobStatus.STARTED, worker_name=worker_name, pipeline=pipeline)
        pipeline.execute()
    return batch


def mark(
    connection: Redis,
    job_ids: Sequence[str],
    status: JobStatus,
    *,
    worker_name: str = "",
    pipeline: Pipeline | None = None,
) -> None:
    """Write `status` into these jobs, as RQ would for each job: `started`
    (with its start as heartbeat, which the sweeper's gone-worker test reads) or `finished` (kept as long
    as RQ keeps a finished job)."""
    pipe = pipeline if pipeline is not None else connection.pipeline()
    stamp = utcformat(now())
    for job_id in job_ids:
        key = Job.key_for(job_id)
        fields: dict[Any, Any]  # redis-py wants its own key and value unions
        if status == JobStatus.STARTED:
            fields = {"status": status, "started_at": stamp, "last_heartbeat": stamp, "worker_name": worker_name}
        else:
            fields = {"status": status, "ended_at": stamp}
        pipe.hset(key, mapping=fields)
        if status == JobStatus.FINISHED:
            pipe.expire(key, RESULT_TTL)
    if pipeline is None:
        pipe.execute()


def lanes_ahead_waiting(connection: Redis, lane: str) -> bool:
    """Whether anything waits in a queue served before `lane` (one round trip)."""
    with connection.pipeline(transaction=False) as pipeline:
        for name in AHEAD_OF.get(lane, ()):
            pipeline.llen(Queue(name, connection=connection).key)
        return any(pipeline.execute())


def queue_again(connection: Redis, submission_ids: Sequence[int], *, sales: bool, alone: bool) -> None:
    """Queue these submissions' screening jobs again: `alone` at the back of their lane (each in a horse of
    its own), else at the front in their order (the rest of a batch that made way for another lane)."""
    if not submission_ids:
        return
    with connection.pipeline() as pipeline:
        for submission_id in submission_ids if alone else reversed(submission_ids):
            queue_screening(pipeline, submission_id, sales=sales, alone=alone, at_front=not alone)
        pipeline.execute()


def run_alone(connection: Redis, job_ids: Sequence[str], *, only_started: bool = True) -> list[str]:
    """Queue these jobs again, each to run in a horse of its own (at the back of its queue); with
    `only_started`, only those still `started` (a failed batch's members it had not finished). Their ids."""
    queued = []
    for job in Job.fetch_many(list(job_ids), connection):
        if job is None or (only_started and job.get_status(refresh=False) != JobStatus.STARTED):
            continue
        job.meta[ALONE] = True
        Queue(job.origin, connection=connection, serializer=job.serializer).enqueue_job(job)
        queued.append(job.id)
    return queued
