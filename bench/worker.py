"""Screening throughput of one RQ worker vs the same worker class draining no-op jobs.

    .venv/bin/python -m bench.worker                         # 500 jobs each, Worker and SimpleWorker, 2 runs
    .venv/bin/python -m bench.worker --n 1000 --db postgres --classes Worker
    .venv/bin/python -m bench.worker --drain 10000 --noop 2000            # the shipped `leadsieve worker`
    .venv/bin/python -m bench.worker --drain 10000 --db postgres --workers 1 2 --noop 0

This process builds the app the way `worker.py` does (create_app, preload, app
context) and becomes the worker: `make_worker(app, worker_class=...)` drains the
queue in burst mode, timed. First N no-op jobs (`bench.worker.noop`, RQ's own
per-job cost), then N real `screen_submission` jobs over submissions stored
beforehand, so the ratio shows what screening adds. DNS is the suite's loopback
server (tests/dnsserver.py); the cache is warmed by screening one submission per
domain in this (parent) process before timing. Redis is private, the database
throw-away.

`--drain N` measures the shipped worker instead (issue 15): N stored submissions, queued as capture queues
them, drained by `leadsieve worker --burst` processes (as many as `--workers` says, in turn: 1 then 2 …),
against the same command running `--noop` no-op jobs. Rates are read from the rows and jobs themselves
(first `screened_at` to last; first job start to last job end), so the workers' start-up is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import app_env, count_rows, database, machine, private_redis, seed

ROOT = Path(__file__).resolve().parents[1]

DOMAINS = [
    "acme.com",
    "initech.com",
    "hooli.com",
    "vandelay.com",
    "umbrella.com",
    "globex.com",
    "cyberdyne.com",
    "stark.com",
    "wayne.com",
    "gmail.com",
]
TITLES = ["CTO", "Head of Marketing", "VP Sales", "Engineer", "Operations lead", ""]


def noop() -> None:
    """The cheapest job RQ can run."""


def store_submissions(app: Any, n: int, tag: str) -> list[int]:
    """N received submissions of the whitepaper form, as capture stores them (one INSERT each)."""
    from sqlalchemy import insert, select

    from app.db import session_scope
    from app.models import Form, Submission

    rows = []
    with session_scope() as session:
        form_id = session.scalar(select(Form.id).where(Form.slug == "whitepaper-lead-quality"))
        for i in range(n):
            domain = DOMAINS[i % len(DOMAINS)]
            rows.append(
                {
                    "form_id": form_id,
                    "email": f"ada.{tag}{i}@{domain}",
                    "first_name": "Ada",
                    "last_name": f"Lovelace{i}",
                    "company": domain.split(".")[0].title(),
                    "job_title": TITLES[i % len(TITLES)],
                    "country": "United Kingdom",
                    "ip": f"198.51.{i // 250 % 250}.{i % 250}",
                    "user_agent": "Mozilla/5.0 bench",
                    "consent_given": True,
                    "raw": {},
                    "signals": {
                        "token": "valid",
                        "honeypot": False,
                        "fill_seconds": 42.0,
                        "origin_allowed": None,
                    },
                }
            )
        ids = [session.execute(insert(Submission.__table__), row).inserted_primary_key[0] for row in rows]
        session.commit()
    return ids


def drain(app: Any, worker_class: type) -> float:
    """Seconds for one worker of `worker_class` to empty our queues (burst mode)."""
    from worker import make_worker

    worker = make_worker(app, worker_class=worker_class)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    return time.perf_counter() - started


def run_class(app: Any, worker_class: type, n: int, run: int) -> dict[str, float]:
    """One timing of N no-op jobs and one of N screening jobs."""
    from app.runtime.queues import SCREENING, enqueue_screening, get_queue

    queue = get_queue(SCREENING)
    for _ in range(n):
        queue.enqueue("bench.worker.noop", result_ttl=0)
    noop_seconds = drain(app, worker_class)
    ids = store_submissions(app, n, f"{worker_class.__name__.lower()}{run}x")
    for submission_id in ids:
        enqueue_screening(submission_id)
    screen_seconds = drain(app, worker_class)
    return {
        "noop_per_s": n / noop_seconds,
        "screen_per_s": n / screen_seconds,
        "ratio": noop_seconds / screen_seconds,
        "noop_ms": noop_seconds / n * 1000,
        "screen_ms": screen_seconds / n * 1000,
    }


def shipped_workers(env: dict[str, str], count: int, log_dir: Path) -> None:
    """Run `count` `leadsieve worker --burst` processes side by side until each has emptied the queues."""
    processes = []
    for index in range(count):
        with open(log_dir / f"worker-{len(list(log_dir.iterdir()))}-{index}.log", "wb") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app", "worker", "--burst"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"a worker exited with {process.returncode}; logs in {log_dir}")


def drain_rate(app: Any, env: dict[str, str], n: int, workers: int, tag: str, log_dir: Path) -> dict[str, float]:
    """Leads per second for `workers` shipped workers draining N stored, queued submissions."""
    from sqlalchemy import func, select

    from app.db import session_scope
    from app.models import Submission
    from app.runtime.queues import enqueue_screening

    ids = store_submissions(app, n, tag)
    for submission_id in ids:
        enqueue_screening(submission_id)
    shipped_workers(env, workers, log_dir)
    with session_scope() as session:
        first, last, screened = session.execute(
            select(func.min(Submission.screened_at), func.max(Submission.screened_at), func.count()).where(
                Submission.id.in_(ids), Submission.status == "screened"
            )
        ).one()
    seconds = (last - first).total_seconds()
    return {"leads": screened, "seconds": seconds, "per_s": (screened - 1) / seconds}


def noop_rate(app: Any, env: dict[str, str], n: int, log_dir: Path) -> dict[str, float]:
    """Jobs per second for one shipped worker running N no-op jobs (RQ's own cost per job, with a fork)."""
    from rq.job import Job

    from app.runtime.queues import SCREENING, get_queue

    queue = get_queue(SCREENING)
    ids = [queue.enqueue("bench.worker.noop", result_ttl=3600).id for _ in range(n)]
    shipped_workers(env, 1, log_dir)
    jobs = [job for job in Job.fetch_many(ids, connection=queue.connection) if job is not None]
    first = min(job.started_at for job in jobs if job.started_at)
    last = max(job.ended_at for job in jobs if job.ended_at)
    seconds = (last - first).total_seconds()
    return {"jobs": len(jobs), "seconds": seconds, "per_s": (len(jobs) - 1) / seconds}


def drain_main(args: argparse.Namespace) -> int:
    """--drain: the shipped worker's leads per second against its no-op jobs per second."""
    from app import create_app
    from config import load_config
    from tests.dnsserver import suite_server

    print("machine:", json.dumps(machine()), "load:", os.getloadavg(), flush=True)
    dns = suite_server()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="leadsieve-drain-") as tmp,
            private_redis(Path(tmp)) as redis_url,
            database(args.db, Path(tmp)) as url,
        ):
            env = app_env(
                database_url=url,
                redis_url=redis_url,
                instance=Path(tmp),
                DNS_NAMESERVERS=dns.address,
                SCREENING_BATCH_SIZE=str(args.batch),
            )
            seed(env)
            app = create_app(load_config(env))
            logs = Path(tmp) / "logs"
            logs.mkdir()
            with app.app_context():
                for run in range(args.runs):
                    if args.noop:
                        noop = noop_rate(app, env, args.noop, logs)
                        print(
                            f"  run {run + 1}: no-op jobs, 1 worker: {noop['jobs']} in {noop['seconds']:.1f} s = "
                            f"{noop['per_s']:.1f} jobs/s (load {os.getloadavg()[0]:.1f})",
                            flush=True,
                        )
                    for count in args.workers:
                        figures = drain_rate(app, env, args.drain, count, f"d{run}w{count}x", logs)
                        print(
                            f"  run {run + 1}: drain, {count} worker(s), batch {args.batch}: {figures['leads']} leads "
                            f"in {figures['seconds']:.1f} s = {figures['per_s']:.1f} leads/s "
                            f"(load {os.getloadavg()[0]:.1f})",
                            flush=True,
                        )
            received = count_rows(url, where="where status = 'received'")
            print(f"  still received: {received}")
    finally:
        dns.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every class `--runs` times, print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="jobs of each kind per run")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--classes", nargs="+", default=["Worker", "SimpleWorker"])
    parser.add_argument("--drain", type=int, default=0, help="submissions drained by the shipped worker")
    parser.add_argument("--noop", type=int, default=2000, help="with --drain: no-op jobs for the same worker")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="with --drain: workers side by side")
    parser.add_argument("--batch", type=int, default=50, help="with --drain: SCREENING_BATCH_SIZE")
    args = parser.parse_args(argv)
    if args.drain:
        return drain_main(args)

    import rq

    from app import create_app
    from app.jobs import warm_up
    from app.screening_context.builder import preload
    from config import load_config
    from tests.dnsserver import suite_server

    print("machine:", json.dumps(machine()), flush=True)
    dns = suite_server()
    results: dict[str, list[dict[str, float]]] = {}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="leadsieve-worker-") as tmp,
            private_redis(Path(tmp)) as redis_url,
            database(args.db, Path(tmp)) as url,
        ):
            env = app_env(database_url=url, redis_url=redis_url, instance=Path(tmp), DNS_NAMESERVERS=dns.address)
            seed(env)
            app = create_app(load_config(env))
            with app.app_context():
                # As worker.py starts: bundled lists, resolver, and one rolled-back job (app.jobs.warm_up).
                # DNS answers are not warmed here: the first horses put them in the shared Redis cache.
                preload(app)
                warm_up()
                for name in args.classes:
                    worker_class = getattr(rq, name)
                    for run in range(args.runs):
                        figures = run_class(app, worker_class, args.n, run)
                        results.setdefault(name, []).append(figures)
                        print(
                            f"  {name:12} run {run + 1}: no-op {figures['noop_per_s']:6.1f} jobs/s "
                            f"({figures['noop_ms']:.1f} ms each) | screening {figures['screen_per_s']:6.1f} "
                            f"leads/s ({figures['screen_ms']:.1f} ms each) | ratio {figures['ratio']:.2f}",
                            flush=True,
                        )
            screened = count_rows(url, where="where status = 'screened'")
            received = count_rows(url, where="where status = 'received'")
            print(f"  rows screened {screened}, still received {received}")
    finally:
        dns.stop()
    print("\nsummary (median [min–max] over runs):")
    for name, runs in results.items():
        cells = []
        for key in ("noop_per_s", "screen_per_s", "ratio"):
            values = [r[key] for r in runs]
            cells.append(f"{key} {statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}]")
        print(f"  {name:12} " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
