"""The RQ worker entry point: `python worker.py` or `leadsieve worker`.

Builds the app once, preloads what jobs need, runs every job inside that app's
context, and runs the sweeper beside the work loop. Start as many as you like,
on any machine that reaches the same database and Redis.
"""

from __future__ import annotations

import logging
import sys
import threading

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from sqlalchemy.exc import SQLAlchemyError

from app import create_app
from app.db import session_scope
from app.observability import configure_logging
from app.runtime.embedded_redis import ping
from app.runtime.queues import QUEUE_NAMES
from app.runtime.sweeper import run_sweep, take_turn
from config import load_config

log = logging.getLogger("leadsieve.worker")


class Sweeper(threading.Thread):
    """Periodically re-enqueue submissions stuck in `received`, due deliveries, and holds DNS caused."""

    def __init__(self, app, interval: float, older_than: int) -> None:  # type: ignore[no-untyped-def]
        super().__init__(name="leadsieve-sweeper", daemon=True)
        self.app, self.interval, self.older_than = app, interval, older_than
        self.stopped = threading.Event()

    def run(self) -> None:
        """Sweep now, then every `interval` seconds until stopped."""
        with self.app.app_context():
            redis = self.app.extensions["leadsieve.redis"]
            while True:
                try:
                    if take_turn(redis, seconds=max(1, int(self.interval) - 1)):
                        with session_scope() as session:
                            run_sweep(
                                session,
                                older_than_seconds=self.older_than,
                                dns_retry_after_seconds=self.app.config["DNS_RETRY_AFTER_SECONDS"],
                                dns_retry_limit=self.app.config["DNS_RETRY_LIMIT"],
                            )
                except (SQLAlchemyError, RedisError) as exc:
                    log.warning("sweep failed, will retry: %s", exc)
                self.retain()
                if self.stopped.wait(self.interval):
                    return

    def retain(self) -> None:
        """Purge rejected submissions past RETENTION_REJECTED_DAYS; at most hourly across all workers."""
        from app.privacy.erasure import purge_if_due

        try:
            with session_scope() as session:
                purge_if_due(
                    session,
                    self.app.extensions["leadsieve.redis"],
                    older_than_days=self.app.config["RETENTION_REJECTED_DAYS"],
                )
        except (SQLAlchemyError, RedisError) as exc:
            log.warning("retention purge failed, will retry: %s", exc)


class ListsRefresher(threading.Thread):
    """Keep the parent's copy of the admin lists fresh: every forked work horse inherits it, so
    no job has to read (and compile) the lists itself while they are younger than their TTL."""

    def __init__(self, app, every: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(name="leadsieve-lists", daemon=True)
        self.app, self.every = app, every
        self.stopped = threading.Event()

    def run(self) -> None:
        from app.screening_context.builder import refresh_lists

        with self.app.app_context():
            while not self.stopped.wait(self.every):
                try:
                    refresh_lists(self.app)
                except SQLAlchemyError as exc:
                    log.warning("could not refresh the screening lists, jobs read them: %s", exc)


def make_worker(app, *, worker_class: type[Worker] = Worker) -> Worker:  # type: ignore[no-untyped-def]
    """An RQ worker on our queues; its connection has no socket timeout (it blocks on BLPOP)."""
    connection = Redis.from_url(app.config["REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    return worker_class(queues, connection=connection)


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
    app = create_app(settings)
    with app.app_context():
        from app.jobs import warm_up
        from app.screening_context.builder import preload, refresh_lists

        preload(app)  # bundled lists into sets, one resolver (and DNS cache) for every job
        try:
            warm_up()  # one job's statements compiled here, once, instead of in every forked work horse
        except SQLAlchemyError as exc:
            log.warning("warm-up skipped (%s); jobs will build what they need themselves", exc)
        sweeper = Sweeper(app, settings["SWEEP_INTERVAL_SECONDS"], settings["SWEEP_AFTER_SECONDS"])
        sweeper.start()
        refresher = None
        if settings["SCREENING_LISTS_TTL_SECONDS"] > 0:  # 0: every job reads the lists itself
            refresh_lists(app)
            refresher = ListsRefresher(app, max(1.0, settings["SCREENING_LISTS_TTL_SECONDS"] / 2))
            refresher.start()
        try:
            make_worker(app).work(with_scheduler=True, burst=burst, logging_level=settings["LOG_LEVEL"])
        finally:
            sweeper.stopped.set()
            if refresher is not None:
                refresher.stopped.set()
    return 0


if __name__ == "__main__":
    sys.exit(main(burst="--burst" in sys.argv))
