"""Prometheus metrics, computed when scraped from the database and Redis.

gunicorn runs several web processes and the RQ workers are other processes, so
counters kept in one process's memory would each see a slice. Everything here is
read at scrape time from shared state instead:

- the database: submissions by form/status/verdict, deliveries by status and delivery attempts by
  outcome (from the daily rollups, app/reporting/rollups.py, and the few open deliveries), the held
  queue, dead letters;
- Redis: RQ queue depth and registries per queue, the live workers by state (and the Redis
  outages they waited out), and the screening-duration
  histogram, whose buckets every worker increments in one Redis hash
  (`observe_screening`), so any web process can expose the fleet's histogram.

Row counts are gauges: retention and erasure may remove rows, so they can fall.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.models import Delivery, Form, Submission, utcnow
from app.reporting import rollups
from app.runtime.queues import worker_census
from app.screening_context import dns_health
from app.statuses import DeliveryStatus, SubmissionStatus, Verdict

log = logging.getLogger(__name__)


SCREENING_KEY = "leadsieve:metrics:screening_seconds"
# Upper bounds (seconds) of the screening-duration buckets; DNS dominates, so they reach 10 s.
SCREENING_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _bucket_field(seconds: float, buckets: Sequence[float] = SCREENING_BUCKETS) -> str:
    for bound in buckets:
        if seconds <= bound:
            return repr(bound)
    return "+Inf"


def observe_screening(redis: Redis, seconds: float) -> None:
    """Count one screening of `seconds` into the shared histogram (best effort: never fails a job)."""
    try:
        pipe = redis.pipeline(transaction=True)
        pipe.hincrby(SCREENING_KEY, _bucket_field(seconds), 1)
        pipe.hincrby(SCREENING_KEY, "count", 1)
        pipe.hincrbyfloat(SCREENING_KEY, "sum", seconds)
        pipe.execute()
    except RedisError as exc:
        log.debug("screening duration not recorded: %s", exc)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def screening_histogram(redis: Redis) -> tuple[list[tuple[str, float]], float]:
    """Cumulative (le, count) buckets ending in +Inf, and the sum of seconds, from the shared hash."""
    raw = {_text(key): _text(value) for key, value in redis.hgetall(SCREENING_KEY).items()}
    buckets, running = [], 0.0
    for bound in SCREENING_BUCKETS:
        running += float(raw.get(repr(bound), 0))
        buckets.append((repr(bound), running))
    running += float(raw.get("+Inf", 0))
    buckets.append(("+Inf", running))
    return buckets, float(raw.get("sum", 0.0))


def attempt_outcome(ok: bool, status_code: int | None) -> str:
    """ok, http_4xx, http_5xx, http_other (any other non-2xx), or error (no answer: time-out, refused)."""
    if ok:
        return "ok"
    if status_code is None:
        return "error"
    if 400 <= status_code < 500:
        return "http_4xx"
    if 500 <= status_code < 600:
        return "http_5xx"
    return "http_other"


class LeadsieveCollector(Collector):
    """Reads the shared state on every scrape; a source that is down is reported, not raised."""

    def __init__(self, *, engine: Engine, redis: Redis, queue_names: Sequence[str]) -> None:
        self.engine, self.redis, self.queue_names = engine, redis, tuple(queue_names)

    def collect(self) -> Iterator[Metric]:
        """All leadsieve metrics, then `leadsieve_metrics_source_up` per source."""
        up = GaugeMetricFamily(
            "leadsieve_metrics_source_up",
            "Whether the source could be read for this scrape (1) or not (0).",
            labels=["source"],
        )
        sources = (("database", self._database, SQLAlchemyError), ("redis", self._redis, RedisError))
        for source, read, failure in sources:
            try:
                yield from list(read())  # all or nothing per source
                up.add_metric([source], 1)
            except failure as exc:
                log.warning("metrics: %s unreadable: %s", source, exc)
                up.add_metric([source], 0)
        yield up

    def _database(self) -> Iterator[Metric]:
        with Session(self.engine) as session:
            submissions = GaugeMetricFamily(
                "leadsieve_submissions",
                "Stored submissions by form, processing status and verdict.",
                labels=["form", "status", "verdict"],
            )
            # From the daily rollups plus the newest submissions (app/reporting/rollups.py), not a GROUP BY
            # over the whole table on every scrape.
            slugs = dict(session.execute(select(Form.id, Form.slug)).all())
            for (form_id,), counts in sorted(rollups.counts(session, by=("form_id",)).items()):
                slug = str(slugs.get(form_id, form_id))
                submissions.add_metric([slug, SubmissionStatus.RECEIVED, "none"], counts.received)
                for verdict in (Verdict.ACCEPTED, Verdict.HELD, Verdict.REJECTED):
                    submissions.add_metric([slug, SubmissionStatus.SCREENED, verdict], getattr(counts, verdict))
            yield submissions

            held, oldest = session.execute(
                select(func.count(), func.min(Submission.received_at)).where(Submission.verdict == Verdict.HELD)
            ).one()
            yield GaugeMetricFamily(
                "leadsieve_held_submissions", "Submissions waiting in the review queue.", value=held or 0
            )
            age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
            yield GaugeMetricFamily(
                "leadsieve_held_oldest_age_seconds",
                "Age of the oldest held submission (0 when the queue is empty).",
                value=age,
            )

            deliveries = GaugeMetricFamily("leadsieve_deliveries", "Deliveries by status.", labels=["status"])
            # The open ones (not delivered) through their partial index; delivered = all of them (daily
            # rollups, app/reporting/rollups.py) less the open ones. No scan of every delivery per scrape.
            by_status = dict(
                session.execute(
                    select(Delivery.status, func.count())
                    .where(Delivery.status != DeliveryStatus.DELIVERED)  # the index's own condition: SQLite too
                    .group_by(Delivery.status)
                ).all()
            )
            by_status[DeliveryStatus.DELIVERED] = max(0, rollups.deliveries(session) - sum(by_status.values()))
            for status, count in sorted(by_status.items()):
                deliveries.add_metric([status], count)
            yield deliveries
            yield GaugeMetricFamily(
                "leadsieve_dead_letters",
                "Deliveries out of attempts (status dead), waiting for a replay.",
                value=by_status.get(DeliveryStatus.DEAD, 0),
            )

            attempts = CounterMetricFamily(
                "leadsieve_delivery_attempts",
                "Delivery attempts by outcome (from the delivery_attempts log, counted per day).",
                labels=["outcome"],
            )
            outcomes: dict[str, int] = {}
            for (ok, status_code), count in rollups.attempts(session).items():
                outcome = attempt_outcome(ok, status_code)
                outcomes[outcome] = outcomes.get(outcome, 0) + count
            for outcome, count in sorted(outcomes.items()):
                attempts.add_metric([outcome], count)
            yield attempts

    def _redis(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("leadsieve_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"])
        jobs = GaugeMetricFamily(
            "leadsieve_queue_jobs",
            "RQ jobs per queue and registry (started, scheduled, deferred, failed).",
            labels=["queue", "state"],
        )
        for name in self.queue_names:
            queue = Queue(name, connection=self.redis)
            depth.add_metric([name], queue.count)
            # cleanup=False: a scrape must never move jobs between registries.
            for state, registry_class in (
                ("started", StartedJobRegistry),
                ("scheduled", ScheduledJobRegistry),
                ("deferred", DeferredJobRegistry),
                ("failed", FailedJobRegistry),
            ):
                registry: Any = registry_class(queue=queue)
                jobs.add_metric([name, state], registry.get_job_count(cleanup=False))
        yield depth
        yield jobs
        buckets, total = screening_histogram(self.redis)
        yield HistogramMetricFamily(
            "leadsieve_screening_duration_seconds",
            "Time screen() took per screened submission, across all workers.",
            buckets=buckets,
            sum_value=total,
        )
        census = worker_census(self.redis)
        workers = GaugeMetricFamily(
            "leadsieve_workers",
            "Workers that heartbeat within a minute, by state (none: nothing screens or delivers).",
            labels=["state"],
        )
        for state in sorted({"idle", "busy", *census.by_state}):
            workers.add_metric([state], census.by_state.get(state, 0))
        yield workers
        yield GaugeMetricFamily(
            "leadsieve_worker_redis_outages",
            "Redis outages the live workers waited out (each worker counts its own since it started).",
            value=census.redis_outages,
        )
        health = dns_health.read(self.redis)
        if health is not None:  # absent until a worker (or `leadsieve run`) has probed
            yield GaugeMetricFamily(
                "leadsieve_dns_available",
                "Whether DNS answered the canary at the last probe (0: submissions are held as dns.unknown).",
                value=1 if health.ok else 0,
            )


def make_registry(*, engine: Engine, redis: Redis, queue_names: Sequence[str]) -> CollectorRegistry:
    """A registry holding only leadsieve's collector (no per-process default metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LeadsieveCollector(engine=engine, redis=redis, queue_names=queue_names))
    return registry
