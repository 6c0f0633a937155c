"""The RQ worker entry point: `python worker.py` or `leadsieve worker`.

Builds the app once, preloads what jobs need, and runs RQ's forking worker on our queues, each job in a
work horse forked from this process. Start as many as you like, on any machine that reaches the same
database and Redis.

Three things differ from a plain `rq worker`, each for a failure seen in the field:

- The periodic work (the sweep, the retention purge, the lists refresh, moving due scheduled jobs to their
  queue) runs in the worker's own loop, between jobs. It used to run in threads beside the loop, and a horse
  forked while such a thread held a lock (SQLite's, the connection pool's) waited for it forever.
- A Redis outage is waited out: the worker retries with a capped backoff, logs once when Redis goes and once
  when it is back, registers again (a restarted Redis may have forgotten it) and goes on working.
- Its work horses die with it, and there is no forked scheduler process: after a `kill -9` nothing of the
  worker keeps running, and the sweeper re-enqueues the job it was doing once its heartbeat stops.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, Worker, worker_registration
from rq.exceptions import DequeueTimeout, StopRequested
from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler
from rq.utils import now
from rq.worker import WorkerStatus
from sqlalchemy.exc import SQLAlchemyError

from app import create_app
from app.alerts import run_alert_checks
from app.db import session_scope
from app.observability import configure_logging
from app.runtime import batching
from app.runtime.embedded_redis import ping
from app.runtime.queues import QUEUE_NAMES, heartbeat_seconds
from app.runtime.sweeper import DnsWatch, run_sweep, take_turn
from config import load_config

log = logging.getLogger("leadsieve.worker")

# What a lost Redis looks like to redis-py: refused, reset, closed, or no answer in time.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
# Waiting for Redis: first retry after this many seconds, doubling up to the cap.
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
# How often due scheduled jobs (delivery retries) are moved to their queue, as RQ's own scheduler does.
SCHEDULE_EVERY_SECONDS = 1.0
# How often the worker's copy of the scoring rules is checked against the version in Redis.
RULES_EVERY_SECONDS = 5.0
# Longest wait for a job before the loop heartbeats and looks at its chores again.
LONGEST_WAIT_SECONDS = 30


@dataclass
class Chore:
    """One piece of periodic work: `run` every `every` seconds (first at once)."""

    name: str
    every: float
    run: Callable[[], Any]
    due: float = 0.0


class Chores:
    """The worker's periodic work, run by its main loop between jobs, so no fork ever copies a lock
    one of them holds. A chore that fails on the database or Redis is logged and tried at its next turn;
    a lost Redis propagates, so the worker waits for it instead."""

    def __init__(self, chores: Iterable[Chore], clock: Callable[[], float] = time.monotonic) -> None:
        self.chores, self.clock = list(chores), clock

    def run_due(self) -> None:
        """Run every chore whose turn has come."""
        for chore in self.chores:
            if chore.due <= self.clock():
                chore.due = self.clock() + chore.every
                try:
                    chore.run()
                except REDIS_DOWN:
                    raise
                except (SQLAlchemyError, RedisError) as exc:
                    log.warning("%s failed, will retry: %s", chore.name, exc)

    def seconds_until_due(self) -> float:
        """How long the loop may wait for a job before a chore is due (inf with no chores)."""
        return max(0.0, min((chore.due for chore in self.chores), default=math.inf) - self.clock())


class Sweeper:
    """Re-enqueue submissions stuck in `received`, due deliveries and holds DNS caused, probing the DNS
    canary on the way; purge old rejects.

    With many workers one sweeps per interval (`take_turn`); the purge has its own hourly turn."""

    def __init__(self, app: Flask, interval: float, older_than: int) -> None:
        self.app, self.interval, self.older_than = app, interval, older_than

    def __call__(self) -> None:
        """One turn: sweep if it is this worker's turn, then the retention purge if due."""
        from app.screening_context.builder import resolver_for

        redis = self.app.extensions["leadsieve.redis"]
        if take_turn(redis, seconds=max(1, int(self.interval) - 1)):
            with session_scope() as session:
                run_sweep(
                    session,
                    older_than_seconds=self.older_than,
                    dns_retry_after_seconds=self.app.config["DNS_RETRY_AFTER_SECONDS"],
                    dns_retry_limit=self.app.config["DNS_RETRY_LIMIT"],
                    dns=DnsWatch(resolver_for(self.app), redis),  # the canary, for the banner and /readyz
                )
            run_alert_checks(self.app)  # same turn, after the canary: one alert runner per interval (app/alerts)
        self.retain()

    def retain(self) -> None:
        """Purge rejected submissions past RETENTION_REJECTED_DAYS; at most hourly across all workers."""
        from app.privacy.erasure import purge_if_due

        with session_scope() as session:
            purge_if_due(
                session,
                self.app.extensions["leadsieve.redis"],
                older_than_days=self.app.config["RETENTION_REJECTED_DAYS"],
            )


class Scheduler:
    """RQ's scheduler run from the worker's loop instead of a forked process that outlives a killed worker:
    whichever worker holds a queue's scheduler lock moves its due jobs (delivery retries) to the queue."""

    def __init__(self, queues: list[Queue], connection: Redis) -> None:
        self.rq = RQScheduler(queues, connection=connection, interval=int(SCHEDULE_EVERY_SECONDS))

    def __call__(self) -> None:
        """Take or keep the locks (they expire a minute after a killed holder's last turn), then enqueue."""
        if self.rq.acquire_locks():
            self.rq.enqueue_scheduled_jobs()

    def stop(self) -> None:
        """Hand the locks to the next worker at once."""
        try:
            self.rq.release_locks()
        except REDIS_DOWN:
            pass  # they expire by themselves


def make_chores(app: Flask, worker: Worker, *, sweep_every: float, lists_every: float | None) -> list[Chore]:
    """The worker's periodic work: schedule, sweep (and purge), and with a lists TTL the lists refresh."""
    from app.leads.scoring_rules import refresh_rules
    from app.screening_context.builder import refresh_lists

    chores = [
        Chore("scheduling", SCHEDULE_EVERY_SECONDS, Scheduler(worker.queues, worker.connection)),
        Chore("sweep", sweep_every, Sweeper(app, sweep_every, app.config["SWEEP_AFTER_SECONDS"])),
        Chore("scoring rules", RULES_EVERY_SECONDS, lambda: refresh_rules(app)),  # horses inherit the rules
    ]
    if lists_every is not None:  # horses inherit the parent's copy instead of each reading the lists
        chores.append(Chore("lists refresh", lists_every, lambda: refresh_lists(app)))
    return chores


# libc, opened once in the parent so each forked horse only makes the call.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere a no-op."""
    if _LIBC is None:
        return
    if _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("work horse %d cannot follow its parent: prctl errno %d", os.getpid(), ctypes.get_errno())
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class LeadsieveWorker(Worker):
    """RQ's forking worker with the chores in its loop, a Redis outage waited out, and horses that die with it."""

    def __init__(self, *args: Any, job_timeout: int = 120, batch_size: int = 1, **kwargs: Any) -> None:
        # The parent vouches for a running job this often, so the sweeper can tell busy from gone.
        kwargs.setdefault("job_monitoring_interval", heartbeat_seconds(job_timeout))
        super().__init__(*args, **kwargs)
        self.chores = Chores([])
        self.scheduler_chore: Scheduler | None = None
        self.redis_lost_at: float | None = None
        self.outages = 0
        self.batch_size = batch_size  # screening jobs per work horse (app/runtime/batching.py)

    def use_chores(self, chores: Iterable[Chore]) -> None:
        """The periodic work this worker's loop runs between jobs."""
        self.chores = Chores(chores)
        self.scheduler_chore = next((c.run for c in self.chores.chores if isinstance(c.run, Scheduler)), None)

    @property
    def dequeue_timeout(self) -> int:
        """Block at most this long for a job (it also bounds the socket time-out that notices a hung Redis)."""
        return LONGEST_WAIT_SECONDS

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """RQ's loop, never with a forked scheduler (the scheduling chore does its work)."""
        kwargs["with_scheduler"] = False
        return super().work(*args, **kwargs)

    # --- the loop between jobs ----------------------------------------------------------------------------

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """Wait for a job, running due chores first and whenever one falls due while waiting.
        Returns None only when RQ asked for that (burst mode with empty queues, or idle too long)."""
        idle_since, idle_said = time.monotonic(), False
        self.procline("Listening on " + ",".join(self.queue_names()))
        while True:
            self.ride_out_redis()
            try:
                if not idle_said:
                    self.set_state(WorkerStatus.IDLE)
                    idle_said = True
                self.heartbeat(raising=True)
                self.chores.run_due()
                wait = None
                if timeout is not None:
                    longest = min(float(timeout), self.chores.seconds_until_due())
                    if max_idle_time is not None:
                        longest = min(longest, max_idle_time - (time.monotonic() - idle_since))
                    wait = max(1, math.ceil(longest))
                result = self.queue_class.dequeue_any(
                    self._ordered_queues,
                    wait,
                    connection=self.connection,
                    job_class=self.job_class,
                    serializer=self.serializer,
                    death_penalty_class=self.death_penalty_class,
                )
                if result is None:
                    return None
                job, queue = result
                if self.batch_size > 1 and batching.batchable(job, queue.name):
                    job = batching.take_batch(job, queue, size=self.batch_size, worker_name=self.name)
                self.reorder_queues(reference_queue=queue)
                job.redis_server_version = self.get_redis_server_version()
                self.log.info("Worker %s: %s: %s", self.name, queue.name, job.id)
                return job, queue
            except DequeueTimeout:
                if max_idle_time is not None and time.monotonic() - idle_since >= max_idle_time:
                    return None
            except REDIS_DOWN as exc:
                self.redis_lost(exc)

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's suspension check, after waiting out a lost Redis (it is the first thing each turn does)."""
        while True:
            self.ride_out_redis()
            try:
                super().check_for_suspension(burst)
                return
            except REDIS_DOWN as exc:
                self.redis_lost(exc)

    def run_maintenance_tasks(self) -> None:
        """RQ's registry clean-up; skipped (and tried next turn) while Redis is away."""
        try:
            super().run_maintenance_tasks()
        except REDIS_DOWN as exc:
            self.redis_lost(exc)

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Fork a horse and watch it; if Redis goes meanwhile, the horse still finishes (or times out) and its
        job's state is left for the sweeper, which finds it gone once its heartbeat stops."""
        try:
            super().execute_job(job, queue)
        except REDIS_DOWN as exc:
            self.redis_lost(exc)
            if self._horse_pid:
                self.wait_for_horse()
                self._horse_pid = 0
            self._state = WorkerStatus.IDLE
        if job.func_name in batching.BATCH_FUNCS:
            self.after_batch(job)

    def after_batch(self, job: Job) -> None:
        """A batch whose horse failed (an error, its time-out, killed): each member it had not finished is
        queued alone, in a horse of its own, so a poisoned one fails by itself and the rest pass."""
        try:
            if job.get_status(refresh=True) == JobStatus.FINISHED:
                return
            alone = batching.run_alone(self.connection, job.meta.get(batching.MEMBERS, []))
            log.warning("batch %s failed; %d unfinished job(s) queued alone: %s", job.id, len(alone), alone)
        except REDIS_DOWN as exc:
            self.redis_lost(exc)  # the members read `started`: the sweeper queues their work once they time out

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None, *, raising: bool = False) -> None:
        """RQ's heartbeat; a lost Redis is noted (and waited out at the next turn) instead of ending the loop."""
        try:
            super().heartbeat(timeout, pipeline)
        except REDIS_DOWN as exc:
            if raising:
                raise
            self.redis_lost(exc)

    def maintain_heartbeats(self, job: Job) -> None:
        """While a horse works: a lost Redis must not abandon the horse, so the watch goes on without it."""
        try:
            super().maintain_heartbeats(job)
        except REDIS_DOWN as exc:
            self.redis_lost(exc)

    def set_current_job_working_time(self, current_job_working_time: float, pipeline: Any = None) -> None:
        """Recorded in Redis when it answers; the time-out check uses the value kept here."""
        self.current_job_working_time = current_job_working_time
        try:
            super().set_current_job_working_time(current_job_working_time, pipeline)
        except REDIS_DOWN as exc:
            self.redis_lost(exc)

    def set_shutdown_requested_date(self) -> None:
        """Called from the SIGTERM handler: it must not raise into the loop while Redis is away."""
        try:
            super().set_shutdown_requested_date()
        except REDIS_DOWN as exc:
            self.redis_lost(exc)

    def teardown(self) -> None:
        """Unregister and hand over the scheduler locks; without Redis the worker's key simply expires."""
        if self.scheduler_chore is not None and not self.is_horse:
            self.scheduler_chore.stop()
        try:
            super().teardown()
        except REDIS_DOWN as exc:
            log.warning("stopping without saying goodbye to Redis (%s); its record expires by itself", exc)

    def _pubsub_exception_handler(self, exc: Exception, pubsub: Any, pubsub_thread: Any) -> None:
        """The command channel's thread reconnects by itself; the loop already logs the outage once."""
        if isinstance(exc, RedisConnectionError):
            time.sleep(2.0)
            return
        super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)

    # --- Redis outages ------------------------------------------------------------------------------------

    def redis_lost(self, exc: BaseException) -> None:
        """Note that Redis went away (logged once per outage); the loop waits for it at its next turn."""
        if self.redis_lost_at is None:
            self.redis_lost_at = time.monotonic()
            self.outages += 1
            log.warning(
                "Redis unavailable (%s); waiting for it, retrying every %g s up to every %g s",
                exc,
                BACKOFF_FIRST_SECONDS,
                BACKOFF_CAP_SECONDS,
            )

    def ride_out_redis(self) -> None:
        """After a lost Redis: PING with a capped exponential backoff until it answers, then register again."""
        if self.redis_lost_at is None:
            return
        delay = BACKOFF_FIRST_SECONDS
        while True:
            try:
                self.connection.ping()
                self.register_again()
                break
            except REDIS_DOWN:
                self.pause(delay)
                delay = min(delay * 2, BACKOFF_CAP_SECONDS)
        log.warning("Redis is back after %.1f s; working again", time.monotonic() - self.redis_lost_at)
        self.redis_lost_at = None

    def pause(self, seconds: float) -> None:
        """Sleep, but stop at once when asked to (SIGTERM while idle raises StopRequested by itself)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._stop_requested:
                raise StopRequested
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def register_again(self) -> None:
        """Write this worker's record and membership again: a Redis restarted without persistence forgot them."""
        self.last_heartbeat = now()
        if self.birth_date is None:
            self.birth_date = self.last_heartbeat
        with self.connection.pipeline() as pipeline:
            pipeline.hset(self.key, mapping={**self.serialize(), "state": self._state})
            pipeline.hset(self.key, "leadsieve_redis_outages", self.outages)
            worker_registration.register(self, pipeline)
            pipeline.expire(self.key, self.worker_ttl + 60)
            pipeline.execute()

    # --- the work horse -----------------------------------------------------------------------------------

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        """In the forked horse: die with the parent, so a `kill -9` of the worker leaves nothing behind
        (the sweeper re-enqueues the job once the parent's heartbeat for it stops)."""
        die_with_parent(self.pid or 0)
        super().main_work_horse(job, queue)


def make_worker(app: Flask, *, worker_class: type[Worker] = Worker, **kwargs: Any) -> Worker:
    """An RQ worker on our queues; its connection gets RQ's socket time-out (longer than its longest wait)."""
    connection = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    return worker_class(queues, connection=connection, **kwargs)


def prepare(settings: dict[str, Any]) -> Flask:
    """The app with what every job needs loaded once, so each forked horse inherits it."""
    app = create_app(settings)
    with app.app_context():
        from app.jobs import warm_up
        from app.screening_context.builder import preload

        preload(app)  # bundled lists into sets, one resolver (and DNS cache) for every job
        try:
            warm_up()  # one job's statements compiled here, once, instead of in every forked work horse
        except SQLAlchemyError as exc:
            log.warning("warm-up skipped (%s); jobs will build what they need themselves", exc)
    return app


def leadsieve_worker(
    app: Flask, *, sweep_every: float | None = None, lists_every: float | None = None
) -> LeadsieveWorker:
    """The worker `main` runs, its chores at the configured intervals unless given (tests shorten them)."""
    worker = make_worker(
        app,
        worker_class=LeadsieveWorker,
        job_timeout=app.config["JOB_TIMEOUT_SECONDS"],
        batch_size=app.config["SCREENING_BATCH_SIZE"],
    )
    assert isinstance(worker, LeadsieveWorker)
    ttl = app.config["SCREENING_LISTS_TTL_SECONDS"]
    if lists_every is None and ttl > 0:  # 0: every job reads the lists itself
        lists_every = max(1.0, ttl / 2)
    worker.use_chores(
        make_chores(
            app,
            worker,
            sweep_every=sweep_every if sweep_every is not None else app.config["SWEEP_INTERVAL_SECONDS"],
            lists_every=lists_every,
        )
    )
    return worker


def main(burst: bool = False) -> int:
    """Run until stopped (or, with burst, until the queues are empty)."""
    settings = load_config()
    configure_logging(level=settings["LOG_LEVEL"], fmt=settings["LOG_FORMAT"])
    if not ping(settings["REDIS_URL"]):
        hint = (
            "REDIS_URL is unset, so the worker expects the embedded Redis that `leadsieve run` starts"
            if settings["REDIS_EMBEDDED"]
            else "check REDIS_URL"
        )
        print(f"leadsieve worker: no Redis answers at {settings['REDIS_URL']} ({hint}).", file=sys.stderr)
        return 2
    app = prepare(settings)
    with app.app_context():
        leadsieve_worker(app).work(burst=burst, logging_level=settings["LOG_LEVEL"])
    return 0


if __name__ == "__main__":
    sys.exit(main(burst="--burst" in sys.argv))
