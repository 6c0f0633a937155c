"""Speed to lead under a flood: 10,000 downloads queued, then one demo request.

    .venv/bin/python -m bench.lanes                 # 10,000 downloads, SQLite, the shipped forking Worker
    .venv/bin/python -m bench.lanes --n 2000 --db postgres
    .venv/bin/python -m bench.lanes --live          # the demo arrives while `leadsieve worker` works the flood

Target (issue 15): the demo request is screened and its delivery sent before 1 % of the backlog has
been screened. The worker is built as `worker.py` builds it and works in small bursts; after each the
bench looks at the demo's delivery (a webhook to a local HTTP receiver) and counts the downloads
screened so far. With one queue (before lanes) the demo waited behind all N downloads.

`--live`: the shipped `leadsieve worker` (batches of SCREENING_BATCH_SIZE) is already screening the flood
when the demo request is queued (after `--after` downloads are screened); the bench counts the downloads
screened between the demo's enqueue and its webhook's arrival.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import app_env, count_rows, database, machine, private_redis, seed
from bench.worker import ROOT, store_submissions


def main(argv: list[str] | None = None) -> int:
    """Flood, send one demo request, work until its delivery arrives; print where the backlog stood."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="downloads queued before the demo request")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--live", action="store_true", help="queue the demo while the shipped worker works")
    parser.add_argument("--after", type=int, default=500, help="with --live: downloads screened before the demo")
    args = parser.parse_args(argv)

    from sqlalchemy import func, select
    from sqlalchemy import insert as sql_insert

    from app import create_app
    from app.db import session_scope
    from app.jobs import warm_up
    from app.models import Delivery, Destination, Form, Submission
    from app.runtime.queues import enqueue_screening
    from app.screening_context.builder import preload
    from config import load_config
    from tests.dnsserver import suite_server
    from tests.receivers import HttpReceiver
    from worker import make_worker

    print("machine:", json.dumps(machine()), flush=True)
    dns, receiver = suite_server(), HttpReceiver().start()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="leadsieve-lanes-") as tmp,
            private_redis(Path(tmp)) as redis_url,
            database(args.db, Path(tmp)) as url,
        ):
            env = app_env(
                database_url=url,
                redis_url=redis_url,
                instance=Path(tmp),
                DNS_NAMESERVERS=dns.address,
                ALLOWED_PRIVATE_DESTINATIONS="127.0.0.1",
            )
            seed(env)
            app = create_app(load_config(env))
            with app.app_context():
                preload(app)
                warm_up()
                with session_scope() as session:
                    session.add(Destination(name="sales", kind="webhook", target=receiver.url(), secret="s"))
                    session.commit()
                downloads = store_submissions(app, args.n, "flood")
                for submission_id in downloads:
                    enqueue_screening(submission_id)
                with session_scope() as session:
                    form_id = session.scalar(select(Form.id).where(Form.slug == "request-demo"))
                    demo = session.execute(
                        sql_insert(Submission.__table__),
                        {
                            "form_id": form_id,
                            "email": "li.wei@initech.com",
                            "first_name": "Li",
                            "last_name": "Wei",
                            "company": "Initech",
                            "job_title": "VP Sales",
                            "ip": "203.0.113.7",
                            "consent_given": True,
                            "raw": {},
                            "signals": {"token": "valid", "honeypot": False, "fill_seconds": 30.0},
                            "answers": {"company_size": "201_1000", "timeline": "this_quarter", "budget": "yes"},
                        },
                    ).inserted_primary_key[0]
                    session.commit()
                if args.live:
                    return live(env, demo, args, receiver)
                started = time.perf_counter()
                enqueue_screening(demo, sales=True)
                worker = make_worker(app)
                jobs = 0
                while not receiver.requests and jobs < args.n + 10:
                    worker.work(burst=True, max_jobs=2, logging_level="WARNING")
                    jobs += 2
                seconds = time.perf_counter() - started
                with session_scope() as session:
                    screened = session.scalar(
                        select(func.count())
                        .select_from(Submission)
                        .where(Submission.id != demo, Submission.email.like("ada.flood%"))
                        .where(Submission.status == "screened")
                    )
                    delivered = session.scalar(select(Delivery.status).where(Delivery.submission_id == demo))
            share = 100 * (screened or 0) / args.n
            print(
                f"demo request delivered={delivered} after {seconds:.2f} s and {jobs} jobs; "
                f"downloads screened by then: {screened} of {args.n} ({share:.2f} %, target < 1 %)"
            )
    finally:
        receiver.stop()
        dns.stop()
    return 0


def live(env: dict[str, str], demo: int, args: argparse.Namespace, receiver: Any) -> int:
    """The shipped worker screens the flood; the demo request is queued once `args.after` are screened."""
    from app.runtime.queues import enqueue_screening

    def screened() -> int:
        return count_rows(env["DATABASE_URL"], where="where status = 'screened' and email like 'ada.flood%'")

    def arrived() -> bool:
        return any(r.json().get("email") == "li.wei@initech.com" for r in list(receiver.requests))

    log = Path(env["LEADSIEVE_INSTANCE"]) / "live-worker.log"
    with open(log, "wb") as out:  # the child keeps its copy
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        while screened() < args.after:
            time.sleep(0.1)
        before, started = screened(), time.perf_counter()
        enqueue_screening(demo, sales=True)
        while not arrived():
            time.sleep(0.02)
        seconds, meanwhile = time.perf_counter() - started, screened() - before
    finally:
        process.terminate()
        process.wait(timeout=60)
    print(
        f"live: demo queued after {before} downloads screened; its webhook arrived {seconds:.2f} s later, "
        f"with {meanwhile} more downloads screened meanwhile ({100 * meanwhile / args.n:.2f} % of {args.n}, "
        f"target < 1 %); batch size {env.get('SCREENING_BATCH_SIZE', 'default')}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
