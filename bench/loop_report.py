"""The loop report (admin "The loop", app/reporting/loop.py) at N submissions: does it stay cheap?

    .venv/bin/python -m bench.loop_report --db postgres --n 10000 --n 100000
    .venv/bin/python -m bench.loop_report --db sqlite --n 10000

Each database is loaded as bench/scale.py loads it (a year of submissions, leads, deliveries ...), then
given what the loop reads and bench/scale.py does not write: each lead's stage change at its first
accepted submission (to its stage), and for 60 % of the SQLs sales feedback (accepted, contacted,
won, rejections with their reasons, spam) with a first touch 5 minutes to 3 days after the hand-off.
Timed, median of --runs after one warm-up: the first rollup build (once), the report for the last 30
days and for the whole year in process, the page and the CSV through the Flask test client signed in
as an admin, and a sweeper's rollup refresh after one more feedback.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import app_env, machine, private_redis
from bench.scale import load, postgres, sign_in, sqlite

OUTCOMES = [
    ("accepted", 40),
    ("contacted", 10),
    ("won", 10),
    ("not_a_fit", 15),
    ("bad_timing", 10),
    ("no_budget", 10),
    ("spam", 5),
]


def add_the_loop(url: str, *, seed: int = 12) -> dict[str, int]:
    """Stage changes for every lead and sales feedback for 60 % of the SQLs (bulk inserts)."""
    from sqlalchemy import func, insert, select, update

    from app.db import make_engine
    from app.models import Lead, LeadFeedback, StageChange, Submission

    rng = random.Random(seed)
    engine = make_engine(url)
    with engine.begin() as conn:
        first = (
            select(Submission.lead_id, func.min(Submission.id).label("sid"))
            .where(Submission.verdict == "accepted", Submission.lead_id.is_not(None))
            .group_by(Submission.lead_id)
            .subquery()
        )
        rows = conn.execute(
            select(Lead.id, Lead.stage, Submission.id, Submission.received_at)
            .join(first, first.c.lead_id == Lead.id)
            .join(Submission, Submission.id == first.c.sid)
        ).all()
        changes = [
            {"lead_id": lead, "submission_id": sid, "from_stage": None, "to_stage": stage, "reason": "bench",
             "actor": "bench", "at": at}
            for lead, stage, sid, at in rows
        ]  # fmt: skip
        for i in range(0, len(changes), 5000):
            conn.execute(insert(StageChange), changes[i : i + 5000])
        sqls = [(lead, at) for lead, stage, _, at in rows if stage == "SQL" and rng.random() < 0.6]
        outcomes, weights = zip(*OUTCOMES, strict=True)
        feedback, touches = [], []
        for lead, at in sqls:
            outcome = rng.choices(outcomes, weights)[0]
            when = at + timedelta(minutes=5 + rng.random() * 3 * 24 * 60)
            feedback.append({"lead_id": lead, "outcome": outcome, "note": "", "source": "bench", "at": when})
            if outcome in ("contacted", "won"):
                touches.append((lead, when))
        for i in range(0, len(feedback), 5000):
            conn.execute(insert(LeadFeedback), feedback[i : i + 5000])
        for lead, when in touches:
            conn.execute(update(Lead).where(Lead.id == lead).values(first_touch_at=when))
    engine.dispose()
    return {"stage_changes": len(changes), "feedback": len(feedback), "touched": len(touches)}


def median_ms(action: Callable[[], Any], runs: int) -> float:
    action()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def measure(url: str, n: int, *, runs: int, redis_url: str, tmp: Path) -> dict[str, Any]:
    from sqlalchemy import select, text

    from app import create_app
    from app.accounts.users import set_user
    from app.db import session_scope
    from app.leads.classification import record_feedback
    from app.models import Lead
    from app.reporting.loop import report
    from app.runtime.sweeper import refresh_rollups
    from config import load_config

    loaded = load(url, n)
    loaded.update(add_the_loop(url))
    app = create_app(load_config(app_env(database_url=url, redis_url=redis_url, instance=tmp / "instance")))
    result: dict[str, Any] = {"n": n, "rows": loaded}
    with app.app_context(), session_scope() as session:
        if url.startswith("postgresql"):
            session.execute(text("ANALYZE"))
            session.commit()
        set_user(session, email="bench@example.com", password="bench password 123", role="admin")
        session.commit()
        started = time.perf_counter()
        refresh_rollups(session)
        result["first rollup build s"] = round(time.perf_counter() - started, 2)
        today = date.today()
        result["report, 30 days ms"] = median_ms(lambda: report(session, today - timedelta(days=29), today), runs)
        result["report, 365 days ms"] = median_ms(lambda: report(session, today - timedelta(days=364), today), runs)
        lead = session.scalars(select(Lead).where(Lead.stage == "SQL").limit(1)).one()

        def feedback_then_refresh() -> None:
            record_feedback(session, lead=lead, outcome="contacted", source="bench")
            session.commit()
            refresh_rollups(session)

        result["feedback + rollup refresh ms"] = median_ms(feedback_then_refresh, runs)
    client = app.test_client()
    sign_in(client)
    result["page /admin/reporting ms"] = median_ms(lambda: client.get("/admin/reporting").get_data(), runs)
    result["CSV /admin/reporting.csv ms"] = median_ms(lambda: client.get("/admin/reporting.csv").get_data(), runs)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--n", type=int, action="append", help="submissions to load (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as directory, private_redis(Path(directory)) as redis_url:
        tmp = Path(directory)
        for n in args.n or [10_000]:
            database = postgres(n, False) if args.db == "postgres" else sqlite(n, tmp, False)
            with database as url:
                results.append(measure(url, n, runs=args.runs, redis_url=redis_url, tmp=tmp))
                print(json.dumps(results[-1]), flush=True)
    print(json.dumps({"db": args.db, "machine": machine(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
