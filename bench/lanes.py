"""Speed to lead under a flood: 10,000 downloads queued, then one demo request.

    .venv/bin/python -m bench.lanes                 # 10,000 downloads, SQLite, the shipped forking Worker
    .venv/bin/python -m bench.lanes --n 2000 --db postgres

Target (issue 15): the demo request is screened and its delivery sent before 1 % of the backlog has
been screened. The worker is built as `worker.py` builds it and works in small bursts; after each the
bench looks at the demo's delivery (a webhook to a local HTTP receiver) and counts the downloads
screened so far. With one queue (before lanes) the demo waited behind all N downloads.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import app_env, database, machine, private_redis, seed
from bench.worker import store_submissions


def main(argv: list[str] | None = None) -> int:
    """Flood, send one demo request, work until its delivery arrives; print where the backlog stood."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="downloads queued before the demo request")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
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


if __name__ == "__main__":
    raise SystemExit(main())
