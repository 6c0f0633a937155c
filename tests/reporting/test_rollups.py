"""Daily rollups (app/reporting/rollups.py) agree with a direct count of the rows after real screenings,
decisions, stage changes, sales feedback and purges, whether counted live, from the rollups, or both."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select, update

from app.db import session_scope
from app.jobs import screen_submission
from app.leads.classification import record_feedback
from app.leads.review import approve, reject, reopen_for_screening
from app.models import (
    AuditEvent,
    Delivery,
    DeliveryAttempt,
    Destination,
    Form,
    Lead,
    LeadFeedback,
    ListEntry,
    RollupState,
    StageChange,
    Submission,
    SubmissionRollup,
    utcnow,
)
from app.privacy.erasure import purge_rejected
from app.reporting import rollups
from app.reporting.dashboard import overview
from screening.scoring import stage_rank

# Real screenings against the suite's DNS server (tests/dnsserver.py): accepted, rejected (a domain
# with a null MX, an address that is no address), held (a competitor's domain).
PEOPLE = [  # form, e-mail, utm source, received how many days ago
    ("whitepaper-lead-quality", "ana@acme.com", "google", 5),  # alone on her day
    ("whitepaper-lead-quality", "bo@initech.com", "google", 1),
    ("request-demo", "cy@globex.com", "linkedin", 2),
    ("newsletter", "di@hooli.com", "", 2),
    ("newsletter", "ed@null-mx.example", "google", 1),
    ("request-demo", "fay@stark.com", "linkedin", 0),
    ("request-demo", "gus@stark.com", "", 3),
    ("contact-sales", "not an address", "ads", 1),
]


def direct(session) -> dict[tuple[Any, ...], rollups.Counts]:
    """The measures computed in Python from every row: an independent reading of the rollups' rules."""
    rows = session.execute(select(Submission, Lead).outerjoin(Lead, Lead.id == Submission.lead_id)).all()
    reached: dict[int, set[str]] = defaultdict(set)  # every stage each lead was ever moved to
    for lead_id, stage in session.execute(select(StageChange.lead_id, StageChange.to_stage)):
        reached[lead_id].add(stage)
    told: dict[int, set[str]] = defaultdict(set)  # every outcome sales ever reported for each lead
    for lead_id, outcome in session.execute(select(LeadFeedback.lead_id, LeadFeedback.outcome)):
        told[lead_id].add(outcome)
    reasons = ("not_a_fit", "bad_timing", "no_budget", "duplicate", "already_customer", "spam")
    first: dict[int, tuple[datetime, int]] = {}
    for s, _ in rows:
        if s.verdict == "accepted" and s.lead_id is not None:
            first[s.lead_id] = min(first.get(s.lead_id, (s.received_at, s.id)), (s.received_at, s.id))
    found: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for s, lead in rows:
        c = found[(s.received_at.date(), s.form_id, s.utm_source)]
        c["submissions"] += 1
        c["received"] += s.status == "received"
        if s.verdict in ("accepted", "held", "rejected"):
            c[s.verdict] += 1
        if s.verdict != "accepted" and s.verdict is not None and s.reason_category in rollups.CATEGORIES:
            c[s.reason_category] += 1
        if lead is not None and s.verdict == "accepted" and first[s.lead_id] == (s.received_at, s.id):
            c["leads"] += 1
            c["mql"] += stage_rank(lead.stage) >= stage_rank("MQL")  # or any later stage
            c["sql"] += stage_rank(lead.stage) >= stage_rank("SQL")
            c["won"] += lead.outcome == "won"
            c["reached_mql"] += any(stage_rank(st) >= stage_rank("MQL") for st in reached[lead.id])
            c["reached_sql"] += any(stage_rank(st) >= stage_rank("SQL") for st in reached[lead.id])
            c["sales_accepted"] += bool(told[lead.id] & {"accepted", "meeting_held", "won"})
            c["sales_rejected"] += bool(told[lead.id] & set(reasons))
            c["sales_won"] += "won" in told[lead.id]
            for reason in reasons:
                c[f"rejected_{reason}"] += reason in told[lead.id]
    return {key: rollups.Counts(**c) for key, c in found.items()}


def stored(session) -> dict[tuple[Any, ...], rollups.Counts]:
    """The rollup rows alone, hours added up into their days."""
    found: dict[tuple[Any, ...], rollups.Counts] = {}
    for r in session.scalars(select(SubmissionRollup)):
        key = (r.starts_at.date(), r.form_id, r.utm_source)
        value = rollups.Counts(**{m: getattr(r, m) for m in rollups.MEASURES})
        found[key] = found[key] + value if key in found else value
    return found


def capture(session, slug: str, email: str, source: str, *, days_ago: int = 0) -> int:
    form_id = session.scalars(select(Form.id).where(Form.slug == slug)).one()
    row = Submission(
        form_id=form_id,
        email=email,
        first_name="Pat",
        utm_source=source,
        received_at=utcnow() - timedelta(days=days_ago, minutes=5),
    )
    session.add(row)
    session.commit()
    return row.id


def refresh(app, *, now: datetime | None = None) -> int:
    with app.app_context(), session_scope() as session:
        days = rollups.refresh(session, now=now)
        session.commit()
    return days


@pytest.fixture
def mixed(app, db_session) -> dict[str, int]:
    """Eight people over three days, screened for real, then decided on by a reviewer and sales."""
    db_session.add(ListEntry(kind="competitor_domain", value="stark.com", created_by="test"))
    db_session.commit()
    ids = {email: capture(db_session, slug, email, source, days_ago=days) for slug, email, source, days in PEOPLE}
    with app.app_context():
        verdicts = {email: screen_submission(submission_id) for email, submission_id in ids.items()}
    # Ana's demo request of the day before, held for a reviewer: approved later, it becomes her first.
    form_id = db_session.scalars(select(Form.id).where(Form.slug == "request-demo")).one()
    older = Submission(
        form_id=form_id,
        email="ana@acme.com",
        status="screened",
        verdict="held",
        reason_category="uncertain",
        received_at=utcnow() - timedelta(days=6),
    )
    db_session.add(older)
    db_session.commit()
    ids["ana, held"] = older.id
    assert verdicts == {
        "ana@acme.com": "accepted",
        "bo@initech.com": "accepted",
        "cy@globex.com": "accepted",
        "di@hooli.com": "accepted",
        "ed@null-mx.example": "rejected",
        "fay@stark.com": "held",
        "gus@stark.com": "held",
        "not an address": "rejected",
    }
    return ids


def decide(app, db_session, mixed: dict[str, int]) -> None:
    """A reviewer approves one held, rejects the other (alone on its day, no lead) as spam, releases a
    rejected one and approves Ana's older request (now her first: the day that counted her no longer
    does); the newsletter reader of two days ago comes back through the demo form (prospect -> SQL)."""
    with app.app_context(), session_scope() as session:
        assert approve(session, submission_ids=[mixed["fay@stark.com"]], actor="rita").changed == 1
        assert reject(session, submission_ids=[mixed["gus@stark.com"]], actor="rita", category="spam") == 1
        assert approve(session, submission_ids=[mixed["ed@null-mx.example"]], actor="rita").released == 1
        assert approve(session, submission_ids=[mixed["ana, held"]], actor="rita").changed == 1
        session.commit()
    again = capture(db_session, "request-demo", "di@hooli.com", "linkedin")
    with app.app_context():
        assert screen_submission(again) == "accepted"
    db_session.expire_all()
    assert db_session.scalars(select(Lead.stage).where(Lead.email == "di@hooli.com")).one() == "SQL"


def as_if_long_ago(db_session) -> None:
    """Move every recorded change an hour back, to long before the last sweep turn: the next turn must find
    the next change by itself, not because the previous ones fall in its overlap."""
    hour = timedelta(hours=1)
    db_session.expire_all()
    for event in db_session.scalars(select(AuditEvent)):
        event.at -= hour
    for change in db_session.scalars(select(StageChange)):
        change.at -= hour
    for lead in db_session.scalars(select(Lead)):
        db_session.execute(update(Lead).where(Lead.id == lead.id).values(updated_at=lead.updated_at - hour))
    db_session.commit()


def won(app, email: str, outcome: str = "won") -> None:
    """Sales report the lead won (or another outcome): only the lead's rows change."""
    with app.app_context(), session_scope() as session:
        lead = session.scalars(select(Lead).where(Lead.email == email)).one()
        record_feedback(session, lead=lead, outcome=outcome, source="sales")
        session.commit()


def test_live_counts_agree_with_a_direct_count_before_any_refresh(app, db_session, mixed):
    decide(app, db_session, mixed)
    won(app, "di@hooli.com")
    db_session.expire_all()
    assert db_session.scalar(select(RollupState)) is None
    assert rollups.counts(db_session, by=rollups.GROUPS) == direct(db_session)


def test_rollups_agree_with_a_direct_count_after_screenings_and_decisions(app, db_session, mixed):
    assert refresh(app) > 0  # the first turn counts every day
    assert stored(db_session) == direct(db_session)

    as_if_long_ago(db_session)
    decide(app, db_session, mixed)  # changes on days the rollups already cover, and a lead moving stage
    refresh(app)
    db_session.expire_all()
    assert rollups.counts(db_session, by=rollups.GROUPS) == direct(db_session)
    as_if_long_ago(db_session)
    won(app, "di@hooli.com")  # two days after its first submission: only the lead row changes
    won(app, "cy@globex.com", outcome="not_a_fit")  # the loop: a rejection, counted with its reason
    refresh(app)
    db_session.expire_all()
    expected = direct(db_session)
    # The newest minutes stay live; rows and live part together are the whole.
    assert rollups.counts(db_session, by=rollups.GROUPS) == expected
    refresh(app, now=utcnow() + timedelta(minutes=1))  # past every row: all of it in the rollups
    db_session.expire_all()
    assert stored(db_session) == expected
    funnel = overview(db_session, date.today() - timedelta(days=7), date.today())["total"]
    whole = sum(expected.values(), rollups.Counts())
    assert (funnel.submissions, funnel.accepted, funnel.mql, funnel.sql, funnel.won) == (
        whole.submissions,
        whole.accepted,
        whole.mql,
        whole.sql,
        whole.won,
    )
    # Six people were accepted (two of them twice): six leads, each counted once; stages are classification's.
    assert (whole.submissions, whole.accepted, whole.leads, whole.won) == (10, 8, 6, 1)
    assert funnel.categories["spam"] == 1 and funnel.held == 0 and whole.sql >= 1
    assert (whole.sales_won, whole.sales_rejected, whole.rejected_not_a_fit) == (1, 1, 1)
    assert whole.reached_sql > whole.sql  # the rejected SQL is no SQL now, but it was handed to sales


def test_a_reopened_and_rescreened_submission_moves_between_rows(app, db_session, mixed):
    refresh(app)
    with app.app_context(), session_scope() as session:
        assert reopen_for_screening(session, submission_id=mixed["gus@stark.com"], actor="rita")
        session.commit()
    refresh(app)
    db_session.expire_all()
    assert rollups.counts(db_session, by=rollups.GROUPS) == direct(db_session)
    key = next(k for k, v in stored(db_session).items() if v.received)
    assert key[1] == db_session.get(Submission, mixed["gus@stark.com"]).form_id
    db_session.execute(delete(ListEntry))  # no longer a competitor: screened again, accepted
    db_session.commit()
    with app.app_context():
        assert screen_submission(mixed["gus@stark.com"]) == "accepted"
    refresh(app)
    db_session.expire_all()
    assert rollups.counts(db_session, by=rollups.GROUPS) == direct(db_session)
    assert sum(v.received for v in stored(db_session).values()) == 0


def test_a_purge_of_old_rejects_is_counted_out(app, db_session, mixed):
    db_session.execute(
        update(Submission).where(Submission.verdict == "rejected").values(received_at=utcnow() - timedelta(days=40))
    )
    db_session.commit()
    refresh(app)
    assert sum(v.rejected for v in stored(db_session).values()) == 2
    with app.app_context(), session_scope() as session:
        assert purge_rejected(session, older_than_days=30, actor="retention") == 2
    refresh(app)
    db_session.expire_all()
    assert sum(v.rejected for v in stored(db_session).values()) == 0
    assert rollups.counts(db_session, by=rollups.GROUPS) == direct(db_session)


def test_new_submissions_show_before_the_next_turn(app, db_session, mixed):
    refresh(app)
    before = rollups.counts(db_session, by=())[()].submissions
    capture(db_session, "newsletter", "new@acme.com", "", days_ago=0)
    db_session.execute(update(Submission).where(Submission.email == "new@acme.com").values(received_at=utcnow()))
    db_session.commit()
    assert rollups.counts(db_session, by=())[()].submissions == before + 1


def test_rebuild_counts_rows_written_behind_the_rollups_back(app, db_session, mixed):
    refresh(app)
    # A row written straight into an old day (an import), no audit event: only a rebuild sees it.
    capture(db_session, "newsletter", "imported@acme.com", "", days_ago=20)
    with app.app_context(), session_scope() as session:
        rollups.rebuild(session)
        session.commit()
    db_session.expire_all()
    assert rollups.counts(db_session, by=rollups.GROUPS) == direct(db_session)


def test_counts_refuse_an_unknown_grouping(db_session):
    with pytest.raises(ValueError, match="cannot group by country"):
        rollups.counts(db_session, by=("country",))


# --- /metrics ------------------------------------------------------------------------------------------


def metrics(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = client.get("/metrics").get_data(as_text=True)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def delivery_figures(found) -> dict[str, float]:
    return {
        **{labels[0][1]: value for (name, labels), value in found.items() if name == "leadsieve_deliveries"},
        **{
            "attempts " + labels[0][1]: value
            for (name, labels), value in found.items()
            if name == "leadsieve_delivery_attempts_total"
        },
    }


def sent(session, submission_id: int, destination_id: int, status: str, codes: list[int | None], days_ago: int):
    """A delivery in `status` after attempts answered with `codes` (None: no answer), days ago."""
    at = utcnow() - timedelta(days=days_ago, minutes=1 if days_ago else 0)
    delivery = Delivery(
        submission_id=submission_id,
        destination_id=destination_id,
        idempotency_key=f"k-{submission_id}-{status}-{days_ago}",
        status=status,
        created_at=at,
    )
    session.add(delivery)
    session.flush()
    for code in codes:
        session.add(DeliveryAttempt(delivery_id=delivery.id, at=at, ok=code == 200, status_code=code))
    session.commit()


def test_metrics_count_submissions_deliveries_and_attempts_from_the_rollups(app, client, db_session, mixed):
    hook = Destination(name="crm", kind="webhook", target="https://crm.example/hook")
    db_session.add(hook)
    db_session.commit()
    accepted = [capture(db_session, "request-demo", f"d{i}@acme.com", "", days_ago=4) for i in range(7)]
    plan = [("delivered", [200], 3), ("delivered", [503, 200], 2), ("dead", [503, None, 503], 2)]
    plan += [("failed", [404], 1), ("retrying", [None], 0), ("pending", [], 0)]
    for submission_id, (status, codes, days) in zip(accepted, plan, strict=False):  # the 7th: later
        sent(db_session, submission_id, hook.id, status, codes, days)
    live = metrics(client)  # before any sweep turn: all of it counted live
    expected = {
        "delivered": 2,
        "dead": 1,
        "failed": 1,
        "retrying": 1,
        "pending": 1,
        "attempts ok": 2,
        "attempts http_5xx": 3,
        "attempts error": 2,
        "attempts http_4xx": 1,
    }
    assert delivery_figures(live) == expected
    refresh(app)
    after = metrics(client)  # from the rollups now, the same figures
    ages = ("leadsieve_held_oldest_age_seconds", ())
    assert {k: v for k, v in after.items() if k != ages} == {k: v for k, v in live.items() if k != ages}
    sent(db_session, accepted[-1], hook.id, "delivered", [200], 0)  # after the turn: counted live
    db_session.expire_all()
    figures = delivery_figures(metrics(client))
    assert (figures["delivered"], figures["attempts ok"]) == (3, 3)
    refresh(app, now=utcnow() + timedelta(minutes=1))
    assert delivery_figures(metrics(client)) == figures
    submissions = {labels: v for (name, labels), v in metrics(client).items() if name == "leadsieve_submissions"}
    by_verdict: Counter[tuple[str, str]] = Counter()
    for s in db_session.scalars(select(Submission)):
        slug = db_session.get(Form, s.form_id).slug
        by_verdict[(slug, s.verdict or "none")] += 1
    assert {(dict(k)["form"], dict(k)["verdict"]): v for k, v in submissions.items() if v} == by_verdict


def test_hours_fold_into_days_once_two_days_old(app, db_session, mixed):
    refresh(app)
    hours = {r.starts_at for r in db_session.scalars(select(SubmissionRollup)) if r.hours == 1}
    assert hours and all(h.minute == h.second == 0 for h in hours)  # yesterday's and today's, by the hour
    assert {r.hours for r in db_session.scalars(select(SubmissionRollup)) if r.starts_at < min(hours)} == {24}
    expected = direct(db_session)
    as_if_long_ago(db_session)
    later = utcnow() + timedelta(days=1)  # a day on: yesterday's hours are two days old, folded into one day
    refresh(app, now=later)
    db_session.expire_all()
    hourly_from = rollups.hourly_from(later - rollups.SETTLE)
    assert {r.hours for r in db_session.scalars(select(SubmissionRollup)) if r.starts_at < hourly_from} == {24}
    assert stored(db_session) == expected
