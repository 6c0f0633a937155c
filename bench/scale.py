"""Growth: every admin page, /metrics, the sweeper's turn, a search and the CSV export at N submissions.

    .venv/bin/python -m bench.scale --db postgres --n 10000 --n 1000000
    .venv/bin/python -m bench.scale --db sqlite --n 10000
    .venv/bin/python -m bench.scale --db postgres --n 1000000 --keep      # leave the database for re-runs
    .venv/bin/python -m bench.scale --url postgresql+psycopg://postgres@127.0.0.1/leadsieve_scale_...  # time it
    .venv/bin/python -m bench.scale --pair SMALL_URL LARGE_URL --runs 15    # alternate two kept databases

For each N a database is created (SQLite file, or a PostgreSQL database `leadsieve_scale_<n>_<pid>`
on 127.0.0.1:5432, dropped afterwards unless --keep), migrated, and loaded through the real schema with
bulk Core inserts: a year of submissions over six forms (every kind), utm sources and campaigns with a
long tail, people who come back, companies (a few named Acme), verdicts and reasons (held only in the
last week, as a worked queue is), findings, one audit event per screening and some reviewer decisions,
a lead per person accepted (stage from the forms they used, some won or lost), a delivery and its
attempt per accepted submission (a few dead or failed), a handful of DNS holds and of submissions not
yet screened. Then ANALYZE, the first rollup build, and the timings: the median of --runs runs after
one warm-up, through the Flask test client signed in as an admin (template rendering included), the
sweeper's turn (`run_sweep`, no DNS probe), and the export twice: in process (rows/s) and from a
gunicorn sync worker with gunicorn's default 30 s time-out, whose VmRSS/VmHWM are read before and after.

"before" rows time the statements the code ran before this change (dashboard scans, exact counts,
LIKE on lower(), the GROUP BY of /metrics, the DNS-hold query with its correlated subqueries) on the
same data, so old and new are compared within one run.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import io
import json
import os
import random
import re
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import PG_ADMIN_URL, Gunicorn, app_env, machine, private_redis, rss_kib

FORMS = [  # slug, name, kind, share of submissions
    ("whitepaper-lead-quality", "Whitepaper: The Lead Quality Playbook", "download", 30),
    ("webinar-pipeline-live", "Webinar: Pipeline Live", "webinar", 15),
    ("request-demo", "Request a demo", "demo", 9),
    ("contact-sales", "Contact sales", "contact_sales", 5),
    ("newsletter", "Newsletter", "newsletter", 36),
    ("pricing-guide", "Pricing guide", "download", 5),
]
INTENT = {"download": 1, "webinar": 1, "demo": 2, "contact_sales": 2, "newsletter": 0}
STAGES = ("prospect", "MQL", "SQL")
SOURCES = [("google", 28), ("", 20), ("linkedin", 18), ("newsletter", 9), ("facebook", 7), ("bing", 5)] + [
    (f"partner-{i}", 1) for i in range(13)
]
FIRST = "ana bo cy di ed fay gus hal ida jo kim li max ned olga pia quinn raj sam tia uma vic wei xena yan zoe".split()
LAST = (
    "smith jones patel garcia muller rossi novak kowalski silva dubois jansen berg costa lopez wei tanaka kim "
    "singh cohen meyer fischer weber wagner becker hoffmann schulz koch richter klein wolf"
).split()
WORDS = (
    "north blue river stone bright peak summit harbor iron green oak cedar delta prime nova vertex pixel "
    "quantum atlas orbit lumen apex"
).split()
NOUNS = "systems labs logistics foods health media bank works analytics robotics energy retail".split()
REJECT_REASONS = [("spam", 45), ("invalid", 22), ("disposable", 12), ("competitor", 6), ("student", 10), ("vendor", 5)]
HELD_REASONS = [("uncertain", 60), ("competitor", 20), ("student", 20)]
DAY = 86400.0
YEAR = 365 * DAY


def weighted(rng: random.Random, table: list[tuple[Any, int]]) -> Callable[[], Any]:
    """A picker over (value, weight) pairs."""
    values = [v for v, _ in table]
    weights = [w for _, w in table]
    return lambda: rng.choices(values, weights)[0]


class Population:
    """People and companies, generated once per N (same seed, same data)."""

    def __init__(self, n: int, rng: random.Random) -> None:
        companies = max(60, n // 30)
        self.companies = []
        for c in range(companies):
            first_word = "Acme" if c % 211 == 7 else rng.choice(WORDS).title()
            self.companies.append(f"{first_word} {rng.choice(NOUNS).title()} {c}")
        self.domains = [re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".com" for name in self.companies]
        self.people = max(100, n // 2)
        self.first = array("i", (rng.randrange(len(FIRST)) for _ in range(self.people)))
        self.last = array("i", (rng.randrange(len(LAST)) for _ in range(self.people)))
        self.company = array("i", (int(companies * rng.random() ** 1.3) for _ in range(self.people)))

    def email(self, person: int) -> str:
        """Mostly lower case, sometimes as typed."""
        local = f"{FIRST[self.first[person]]}.{LAST[self.last[person]]}{person}"
        if person % 17 == 0:
            local = local.title()
        return f"{local}@{self.domains[self.company[person]]}"


@contextmanager
def postgres(n: int, keep: bool) -> Iterator[str]:
    """A new, migrated PostgreSQL database for this run."""
    import psycopg

    from app.runtime.migrations import upgrade

    name = f"leadsieve_scale_{n}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        if keep:
            print(f"kept: {url}", flush=True)
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite(n: int, directory: Path, keep: bool) -> Iterator[str]:
    """A new, migrated SQLite file for this run."""
    from app.runtime.migrations import upgrade

    path = (Path(tempfile.gettempdir()) if keep else directory) / f"leadsieve_scale_{n}_{os.getpid()}.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    yield url
    if keep:
        print(f"kept: {url}", flush=True)


def load(url: str, n: int, *, seed: int = 15) -> dict[str, int]:
    """Fill the database with n submissions and everything that goes with them; returns row counts."""
    from sqlalchemy import insert, text

    from app.db import make_engine
    from app.models import (
        AuditEvent,
        Delivery,
        DeliveryAttempt,
        Destination,
        Finding,
        Form,
        Lead,
        Submission,
        utcnow,
    )

    rng = random.Random(seed)
    people = Population(n, rng)
    now = utcnow().replace(microsecond=0)
    pick_form = weighted(rng, [(i, share) for i, (*_, share) in enumerate(FORMS)])
    pick_source = weighted(rng, SOURCES)
    pick_reject = weighted(rng, REJECT_REASONS)
    pick_held = weighted(rng, HELD_REASONS)
    campaigns = [f"{q}-{topic}" for q in ("q1", "q2", "q3", "q4") for topic in WORDS[:12]] + ["spring-rare"]

    # Plan every submission first (small arrays), so leads exist before the submissions that point at them.
    # Oldest first, as they arrive: ids grow with time, and a day's rows sit together as in production.
    age = array("d", sorted((60 + rng.random() * YEAR for _ in range(n)), reverse=True))  # seconds before now
    person = array("i")
    form = array("b")
    verdict = array("b")  # 0 received, 1 accepted, 2 held, 3 rejected
    for i in range(n):
        person.append(int(people.people * rng.random() ** 1.6))
        form.append(pick_form())
        roll = rng.random()
        recent = age[i] < 7 * DAY
        verdict.append(2 if recent and roll < 0.08 else 1 if roll < 0.64 else 3)
    for i in range(max(0, n - 20), n):  # captured in the last minute, not screened yet
        age[i], verdict[i] = 50 * (n - i) / 20, 0

    stage: dict[int, int] = {}
    first_seen: dict[int, float] = {}
    for i in range(n):
        if verdict[i] == 1:
            p = person[i]
            stage[p] = max(stage.get(p, 0), INTENT[FORMS[form[i]][2]])
            first_seen[p] = max(first_seen.get(p, 0.0), age[i])
    engine = make_engine(url)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for slug, name, kind, _ in FORMS:
            conn.execute(insert(Form), {"slug": slug, "name": name, "kind": kind, "settings": {}, "active": True})
        form_ids = [row[0] for row in conn.execute(text("SELECT id FROM forms ORDER BY id"))]
        destination_id = conn.execute(
            insert(Destination).returning(Destination.id),
            {"name": "CRM", "kind": "webhook", "target": "https://crm.example/hook", "secret": "s", "options": {}},
        ).scalar_one()
    lead_of: dict[int, int] = {}
    with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        persons = sorted(stage)
        for k, p in enumerate(persons):
            created = now - timedelta(seconds=first_seen[p])
            outcome = None
            if stage[p] == 2:
                outcome = "won" if k % 19 == 0 else "lost" if k % 23 == 0 else None
            batch.append(
                {
                    "email": people.email(p).lower(),
                    "stage": STAGES[stage[p]],
                    "first_name": FIRST[people.first[p]].title(),
                    "last_name": LAST[people.last[p]].title(),
                    "company": people.companies[people.company[p]],
                    "score": 10 + 20 * stage[p],
                    "fit": (k * 7) % 70 - 20,
                    "score_breakdown": {},
                    "engagement_key": float(k % 997) / 10,  # spread, as real leads' keys are
                    "last_activity_at": created,
                    "outcome": outcome,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if len(batch) == 5000 or k == len(persons) - 1:
                created_leads = conn.execute(insert(Lead).returning(Lead.id, Lead.email), batch).all()
                by_email = {email: lead_id for lead_id, email in created_leads}
                for q in persons[k + 1 - len(batch) : k + 1]:
                    lead_of[q] = by_email[people.email(q).lower()]
                batch = []
        counts["leads"] = len(lead_of)

    totals = {"submissions": 0, "findings": 0, "audit_events": 0, "deliveries": 0, "delivery_attempts": 0}
    chunk = 5000
    for start in range(0, n, chunk):
        subs = []
        for i in range(start, min(n, start + chunk)):
            p, v = person[i], verdict[i]
            received = now - timedelta(seconds=age[i])
            category = None
            if v == 3:
                category = pick_reject()
            elif v == 2:
                category = pick_held()
            kind_verdict = (None, "accepted", "held", "rejected")[v]
            subs.append(
                {
                    "form_id": form_ids[form[i]],
                    "lead_id": lead_of.get(p) if v == 1 else None,
                    "raw": {},
                    "email": people.email(p) if not (v == 3 and category == "invalid" and i % 3 == 0) else "no-at",
                    "first_name": FIRST[people.first[p]].title(),
                    "last_name": LAST[people.last[p]].title(),
                    "company": people.companies[people.company[p]],
                    "job_title": "Head of Marketing" if i % 5 == 0 else "",
                    "country": "DE" if i % 3 == 0 else "US",
                    "message": "Please send pricing." if FORMS[form[i]][2] == "contact_sales" else "",
                    "answers": {},
                    "ip": f"203.0.{i % 250}.{(i // 250) % 250}",
                    "user_agent": "Mozilla/5.0",
                    "utm_source": pick_source(),
                    "utm_medium": "cpc" if i % 2 else "email",
                    "utm_campaign": campaigns[int(len(campaigns) * rng.random() ** 2)] if i % 4 else "",
                    "signals": {},
                    "received_at": received,
                    "screened_at": None if v == 0 else received + timedelta(seconds=2),
                    "status": "received" if v == 0 else "screened",
                    "verdict": kind_verdict,
                    "reason_category": category,
                    "score": None if v == 0 else (10 if v == 1 else 70),
                    "stage": None,
                    "dns_held_at": received if v == 2 and category == "uncertain" and i % 10 == 0 else None,
                }
            )
        with engine.begin() as conn:
            ids = [
                row[0]
                for row in conn.execute(insert(Submission).returning(Submission.id, sort_by_parameter_order=True), subs)
            ]
            findings, audits, deliveries = [], [], []
            for sid, row in zip(ids, subs, strict=True):
                if row["status"] == "received":
                    continue
                at = row["screened_at"]
                audits.append(
                    {
                        "at": at,
                        "actor": "screening",
                        "action": "screened",
                        "subject_type": "submission",
                        "subject_id": sid,
                        "details": {"verdict": row["verdict"]},
                    }
                )
                # Decided by a reviewer a day later (held rows of the last days are still waiting).
                if sid % 29 == 0 and row["verdict"] != "held" and at < now - timedelta(days=2):
                    audits.append(
                        {
                            "at": at + timedelta(days=1),
                            "actor": "rita@example.com",
                            "action": "submission.approved" if row["verdict"] == "accepted" else "submission.rejected",
                            "subject_type": "submission",
                            "subject_id": sid,
                            "details": {},
                        }
                    )
                if row["dns_held_at"] and at < now - timedelta(hours=1):  # retried by the sweeper, used up
                    audits += [
                        {
                            "at": at + timedelta(minutes=15 * k),
                            "actor": "sweeper",
                            "action": "submission.dns_retry",
                            "subject_type": "submission",
                            "subject_id": sid,
                            "details": {"attempt": k, "of": 3},
                        }
                        for k in (1, 2, 3)
                    ]
                if row["verdict"] != "accepted":
                    code = "dns.unknown" if row["dns_held_at"] else f"{row['reason_category']}.signal"
                    findings.append(
                        {
                            "submission_id": sid,
                            "code": code,
                            "category": row["reason_category"],
                            "weight": 60,
                            "evidence": "generated",
                            "created_at": at,
                        }
                    )
                else:
                    deliveries.append(
                        {
                            "submission_id": sid,
                            "destination_id": destination_id,
                            "idempotency_key": f"k{sid}",
                            "status": "dead" if sid % 211 == 0 else "failed" if sid % 97 == 0 else "delivered",
                            "payload": {},
                            "attempts": 1,
                            "delivered_at": at + timedelta(seconds=1),
                            "created_at": at,
                        }
                    )
            if findings:
                conn.execute(insert(Finding), findings)
            if audits:
                conn.execute(insert(AuditEvent), audits)
            if deliveries:
                delivery_ids = [
                    row[0]
                    for row in conn.execute(
                        insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True), deliveries
                    )
                ]
                conn.execute(
                    insert(DeliveryAttempt),
                    [
                        {
                            "delivery_id": did,
                            "at": d["delivered_at"],
                            "ok": d["status"] == "delivered",
                            "status_code": {"delivered": 200, "failed": 400, "dead": 503}[d["status"]],
                            "latency_ms": 80,
                        }
                        for did, d in zip(delivery_ids, deliveries, strict=True)
                    ],
                )
        totals["submissions"] += len(subs)
        totals["findings"] += len(findings)
        totals["audit_events"] += len(audits)
        totals["deliveries"] += len(deliveries)
        totals["delivery_attempts"] += len(deliveries)
        if (start // chunk) % 20 == 0:
            print(f"  loaded {totals['submissions']:,} / {n:,} submissions", flush=True)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()
    return {**counts, **totals}


def median_ms(action: Callable[[], Any], runs: int) -> dict[str, float]:
    """Median and best of `runs` timed calls after one warm-up."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "best_ms": round(min(times), 1)}


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, "no CSRF token on the sign-in page"
    return found.group(1)


def sign_in(client: Any) -> None:
    token = csrf(client.get("/admin/login").get_data(as_text=True))
    answer = client.post(
        "/admin/login", data={"email": "bench@example.com", "password": "bench password 123", "csrf_token": token}
    )
    assert answer.status_code == 302, answer.status_code


def page(client: Any, url: str) -> Callable[[], Any]:
    def get() -> str:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)

    return get


def deep_link(client: Any, url: str, pages: int) -> str:
    """The URL of page `pages` of a list, reached by following Next."""
    for _ in range(pages - 1):
        html = client.get(url).get_data(as_text=True)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    return url


def before_statements(session: Any) -> dict[str, Callable[[], Any]]:
    """The statements the pages ran before this change, on the same data."""
    from sqlalchemy import case, distinct, func, or_, select

    from app.models import AuditEvent, Finding, Form, Lead, Submission, utcnow

    since = utcnow() - timedelta(days=30)
    accepted = Submission.verdict == "accepted"

    def dashboard() -> None:
        reached = Lead.stage.in_(("MQL", "SQL"))
        columns = [
            func.count(Submission.id),
            func.sum(case((accepted, 1), else_=0)),
            func.count(distinct(case((accepted & reached, Submission.lead_id)))),
            func.count(distinct(case((accepted & (Lead.stage == "SQL"), Submission.lead_id)))),
            func.count(distinct(case((accepted & (Lead.outcome == "won"), Submission.lead_id)))),
        ]
        for group in (None, Submission.form_id, Submission.utm_source):
            query = (
                select(*([group] if group is not None else []), *columns)
                .select_from(Submission)
                .outerjoin(Lead, Lead.id == Submission.lead_id)
                .where(Submission.received_at >= since)
            )
            if group is not None:
                query = query.group_by(group)
            session.execute(query).all()
        day = func.date(Submission.received_at)
        session.execute(select(day, func.count()).where(Submission.received_at >= since).group_by(day)).all()

    def count_all() -> None:
        session.scalar(select(func.count()).select_from(Submission).where(Submission.status != "received"))

    def like(q: str) -> Callable[[], None]:
        pattern = f"%{q.lower()}%"
        where = or_(
            func.lower(Submission.email).like(pattern),
            func.lower(Submission.company).like(pattern),
            func.lower(Submission.first_name + " " + Submission.last_name).like(pattern),
        )

        def run() -> None:
            session.scalar(select(func.count()).select_from(Submission).where(where))
            session.execute(select(Submission.id).where(where).order_by(Submission.received_at.desc()).limit(50)).all()

        return run

    def metrics() -> None:
        session.execute(
            select(Form.slug, Submission.status, Submission.verdict, func.count())
            .join(Form, Form.id == Submission.form_id)
            .group_by(Form.slug, Submission.status, Submission.verdict)
        ).all()

    def dns_holds() -> None:
        retries = (
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.subject_type == "submission",
                AuditEvent.subject_id == Submission.id,
                AuditEvent.action == "submission.dns_retry",
            )
            .scalar_subquery()
        )
        unknown = select(Finding.id).where(Finding.submission_id == Submission.id, Finding.code == "dns.unknown")
        session.execute(
            select(Submission.id, retries)
            .where(
                Submission.status == "screened",
                Submission.verdict == "held",
                Submission.screened_at <= utcnow() - timedelta(seconds=900),
                unknown.exists(),
                retries < 3,
            )
            .order_by(Submission.screened_at)
            .limit(200)
        ).all()

    return {
        "dashboard queries": dashboard,
        "leads count(*)": count_all,
        "q=acme (LIKE + count)": like("acme"),
        "metrics GROUP BY": metrics,
        "DNS-hold query": dns_holds,
    }


def export_in_process(client: Any) -> dict[str, Any]:
    started = time.perf_counter()
    response = client.get("/admin/submissions.csv", buffered=False)
    size = 0
    for block in response.response:
        size += len(block)
    response.close()
    seconds = time.perf_counter() - started
    rows = int(response.headers["X-Export-Rows"])
    assert size == int(response.headers["Content-Length"])
    return {"rows": rows, "bytes": size, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


def export_through_gunicorn(env: dict[str, str]) -> dict[str, Any]:
    """GET /admin/submissions.csv from a gunicorn sync worker (default 30 s time-out); its RSS before and after."""
    work = Path(env["LEADSIEVE_INSTANCE"])
    work.mkdir(parents=True, exist_ok=True)
    web = Gunicorn("app:create_app()", env, workers=1, log=work / "gunicorn.log").start("/healthz")
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        token = csrf(opener.open(web.base + "/admin/login").read().decode())
        form = urllib.parse.urlencode(
            {"email": "bench@example.com", "password": "bench password 123", "csrf_token": token}
        ).encode()
        opener.open(web.base + "/admin/login", data=form).read()
        opener.open(web.base + "/admin/submissions").read()  # warm: templates, statements, the export's code
        opener.open(web.base + "/admin/submissions.csv?q=nobody%40nowhere.example").read()
        [pid] = web.worker_pids()
        before = rss_kib(pid)
        started = time.perf_counter()
        rows = size = 0
        complete = False
        try:
            with opener.open(web.base + "/admin/submissions.csv", timeout=120) as answer:
                expected_rows = int(answer.headers["X-Export-Rows"])
                length = int(answer.headers["Content-Length"])
                text = io.TextIOWrapper(answer, encoding="utf-8", newline="")
                for _ in csv.reader(text):
                    rows += 1
                size = length
                complete = rows - 1 == expected_rows
        except Exception as exc:  # noqa: BLE001 - a cut download is the thing being measured
            return {"error": f"{type(exc).__name__}: {exc}", "rows_read": rows}
        seconds = time.perf_counter() - started
        after = rss_kib(pid)
        return {
            "rows": rows - 1,
            "complete": complete,
            "bytes": size,
            "seconds": round(seconds, 2),
            "rss_before_mib": round(before["VmRSS"] / 1024, 1),
            "rss_after_mib": round(after["VmRSS"] / 1024, 1),
            "rss_growth_mib": round((after["VmRSS"] - before["VmRSS"]) / 1024, 1),
            "peak_before_mib": round(before["VmHWM"] / 1024, 1),
            "peak_after_mib": round(after["VmHWM"] / 1024, 1),
            "peak_growth_mib": round((after["VmHWM"] - max(before["VmHWM"], before["VmRSS"])) / 1024, 1),
        }
    finally:
        web.stop()


@dataclass
class Target:
    """One loaded database, ready to time: its app, a signed-in client and the named actions."""

    url: str
    app: Any
    env: dict[str, str]
    client: Any
    actions: dict[str, Callable[[], Any]]
    before: dict[str, Callable[[], Any]]
    built: dict[str, Any] | None


def prepare(url: str, redis_url: str, tmp: Path) -> Target:
    """The app on `url`, an admin signed in, the rollups built if they never were, and every action."""
    from sqlalchemy import func, select

    from app import create_app
    from app.accounts.users import set_user
    from app.db import session_scope
    from app.models import RollupState, Submission, SubmissionRollup
    from app.reporting import rollups
    from app.runtime.sweeper import refresh_rollups, retry_dns_holds, run_sweep, sweep_deliveries
    from config import load_config

    env = app_env(database_url=url, redis_url=redis_url, instance=tmp / "instance")
    app = create_app(load_config(env))
    built = None
    with app.app_context(), session_scope() as session:
        set_user(session, email="bench@example.com", password="bench password 123", role="admin")
        session.commit()
        if session.get(RollupState, rollups.STATE_ID) is None:
            started = time.perf_counter()
            buckets = refresh_rollups(session)
            built = {
                "seconds": round(time.perf_counter() - started, 2),
                "buckets": buckets,
                "rows": session.scalar(select(func.count()).select_from(SubmissionRollup)),
            }
        email = session.scalar(
            select(Submission.email).where(Submission.verdict == "accepted").order_by(Submission.id).offset(77)
        )
        last_name = session.scalar(select(Submission.last_name).order_by(Submission.id).offset(1234))
    assert email is not None

    def sweep_turn() -> None:
        with app.app_context(), session_scope() as session:
            run_sweep(session, older_than_seconds=120, dns_retry_after_seconds=900, dns_retry_limit=3)

    def part(fn: Callable[[Any], Any]) -> Callable[[], None]:
        def run() -> None:
            with app.app_context(), session_scope() as session:
                fn(session)
                session.rollback()

        return run

    client = app.test_client()
    sign_in(client)
    local = email.split("@")[0]
    urls = {
        "dashboard": "/admin/dashboard",
        "leads list (people)": "/admin/leads",
        "leads list, page 20": deep_link(client, "/admin/leads", 20),
        "leads by engagement": "/admin/leads?sort=engagement",
        "leads by fit, page 20": deep_link(client, "/admin/leads?sort=fit", 20),
        "leads at SQL by engagement": "/admin/leads?stage=SQL&sort=engagement",
        "leads won": "/admin/leads?outcome=won",
        "leads by source (rare)": "/admin/leads?source=partner-7",
        "leads by source (common)": "/admin/leads?source=google",
        "leads with no owner": "/admin/leads?owner=none",
        "leads SLA breached": "/admin/leads?sla=breached",
        "submissions list": "/admin/submissions",
        "submissions list, page 20": deep_link(client, "/admin/submissions", 20),
        "submissions by utm_campaign (rare)": "/admin/submissions?utm_campaign=spring-rare",
        "submissions by form": "/admin/submissions?form=request-demo",
        "search: one e-mail": "/admin/submissions?" + urllib.parse.urlencode({"q": email.upper()}),
        "search: e-mail start": "/admin/submissions?" + urllib.parse.urlencode({"q": local + "@"}),
        "search: words (ida.muller3220)": "/admin/submissions?" + urllib.parse.urlencode({"q": local[:-1]}),
        "search: q=acme": "/admin/submissions?q=acme",
        "search: a last name": "/admin/submissions?" + urllib.parse.urlencode({"q": last_name or "smith"}),
        "spam folder": "/admin/rejected",
        "spam folder by category": "/admin/rejected?category=competitor",
        "screening queue": "/admin/",
        "/metrics": "/metrics",
    }
    actions: dict[str, Callable[[], Any]] = {name: page(client, target) for name, target in urls.items()}
    actions["sweeper turn (run_sweep)"] = sweep_turn
    actions["  of which rollup refresh"] = part(lambda s: refresh_rollups(s))
    actions["  of which DNS-hold retries"] = part(lambda s: retry_dns_holds(s, after_seconds=900, limit=3))
    actions["  of which due deliveries"] = part(sweep_deliveries)

    def old(name: str) -> Callable[[], None]:
        def run() -> None:
            with app.app_context(), session_scope() as session:
                before_statements(session)[name]()

        return run

    with app.app_context(), session_scope() as session:
        names = list(before_statements(session))
    before = {f"before: {name}": old(name) for name in names}
    return Target(url, app, env, client, actions, before, built)


def measure(url: str, *, runs: int, export: bool, tmp: Path) -> dict[str, Any]:
    """Every timing for one loaded database."""
    results: dict[str, Any] = {}
    with private_redis(tmp) as redis_url:
        target = prepare(url, redis_url, tmp)
        if target.built:
            results["rollups first build"] = target.built
        for name, action in target.actions.items():
            results[name] = median_ms(action, runs)
            print(f"  {name}: {results[name]}", flush=True)
        for name, action in target.before.items():
            results[name] = median_ms(action, max(1, runs // 2))
            print(f"  {name}: {results[name]}", flush=True)
        if export:
            results["export in process"] = export_in_process(target.client)
            print(f"  export in process: {results['export in process']}", flush=True)
            results["export via gunicorn"] = export_through_gunicorn(target.env)
            print(f"  export via gunicorn: {results['export via gunicorn']}", flush=True)
        target.app.extensions["leadsieve.engine"].dispose()
    return results


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def pair(small: str, large: str, *, runs: int, tmp: Path) -> dict[str, Any]:
    """The same actions on two loaded databases, alternating small and large run by run, so a busy machine
    slows both alike: medians, bests and the large/small ratio of each."""
    results: dict[str, Any] = {}
    (tmp / "a").mkdir(exist_ok=True)
    (tmp / "b").mkdir(exist_ok=True)
    with private_redis(tmp / "a") as redis_a, private_redis(tmp / "b") as redis_b:
        a, b = prepare(small, redis_a, tmp / "a"), prepare(large, redis_b, tmp / "b")
        for target in (a, b):
            if target.built:
                results[f"rollups first build ({target.url.rsplit('/', 1)[-1]})"] = target.built
        for name in [*a.actions, *a.before]:
            first = a.actions.get(name) or a.before[name]
            second = b.actions.get(name) or b.before[name]
            first(), second()  # warm
            times_a, times_b = [], []
            for _ in range(runs if name in a.actions else max(3, runs // 3)):
                times_a.append(timed(first))
                times_b.append(timed(second))
            med_a, med_b = statistics.median(times_a), statistics.median(times_b)
            results[name] = {
                "small_median_ms": round(med_a, 1),
                "large_median_ms": round(med_b, 1),
                "ratio_median": round(med_b / med_a, 2),
                "small_best_ms": round(min(times_a), 1),
                "large_best_ms": round(min(times_b), 1),
                "ratio_best": round(min(times_b) / min(times_a), 2),
            }
            print(f"  {name}: {results[name]}", flush=True)
        for target in (a, b):
            target.app.extensions["leadsieve.engine"].dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--n", type=int, action="append", help="submissions to load (repeatable)")
    parser.add_argument("--url", help="time an already loaded database instead of loading one")
    parser.add_argument(
        "--pair", nargs=2, metavar=("SMALL_URL", "LARGE_URL"), help="two loaded databases, timed alternately"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the loaded database (prints its URL)")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    print("machine:", json.dumps(machine()), flush=True)
    report: dict[str, Any] = {"machine": machine(), "runs": {}}
    with tempfile.TemporaryDirectory(prefix="leadsieve-scale-") as tmp:
        if args.pair:
            report["runs"]["pair"] = {"urls": args.pair, "timings": pair(*args.pair, runs=args.runs, tmp=Path(tmp))}
        if args.url:
            report["runs"][args.url] = {
                "timings": measure(args.url, runs=args.runs, export=not args.no_export, tmp=Path(tmp))
            }
        for n in args.n or ([] if args.url or args.pair else [10_000]):
            work = Path(tmp) / str(n)
            work.mkdir()
            database = postgres(n, args.keep) if args.db == "postgres" else sqlite(n, work, args.keep)
            with database as url:
                print(f"{args.db} n={n:,}: loading", flush=True)
                started = time.perf_counter()
                rows = load(url, n)
                loaded = round(time.perf_counter() - started, 1)
                print(f"  loaded in {loaded} s: {rows}", flush=True)
                timings = measure(url, runs=args.runs, export=not args.no_export, tmp=work)
                report["runs"][f"{args.db} {n}"] = {
                    "load_seconds": loaded,
                    "rows": rows,
                    "timings": timings,
                    "loadavg_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
