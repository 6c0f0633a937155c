"""Speed to lead on the dashboard: median and 90th percentile per owner and per source, from the first
touches of the period only (app/reporting/speed_to_lead.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from app.leads.speed_to_lead import note_first_touch
from app.models import FirstTouch, Form, Lead, Owner, Submission
from app.reporting.speed_to_lead import duration, percentile, speed_to_lead
from tests.helpers import statements_for

DAY = datetime(2026, 11, 10, 9, 0)


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.5, 0.0),
        ([7], 0.9, 7.0),
        ([1, 2, 3, 4], 0.5, 2.5),
        ([1, 2, 3, 4, 5], 0.5, 3.0),
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9, 91.0),
        ([1, 2], 0.0, 1.0),
        ([1, 2], 1.0, 2.0),
    ],
    ids=["none", "one", "even-median", "odd-median", "p90-of-ten", "lowest", "highest"],
)
def test_percentile(values, share, expected):
    assert percentile(values, share) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("seconds", "shown"), [(90, "2 min"), (3600, "1.0 h"), (5400, "1.5 h"), (86400 * 2.5, "2.5 d")], ids=str
)
def test_duration(seconds, shown):
    assert duration(seconds) == shown


def touched(session, owner, source, minutes, *, at=DAY, due_minutes=120):
    """A lead from `source`, assigned to `owner` at `at` and touched `minutes` later (through the service)."""
    form = session.query(Form).filter_by(slug="request-demo").one()
    lead = Lead(email=f"p{session.query(Lead).count()}@acme.com", stage="SQL", owner_id=owner.id if owner else None)
    lead.assigned_at, lead.sla_due_at = at, at + timedelta(minutes=due_minutes)
    session.add(lead)
    session.flush()
    session.add(Submission(form_id=form.id, email=lead.email, lead_id=lead.id, utm_source=source, received_at=at))
    session.flush()
    note_first_touch(session, lead=lead, at=at + timedelta(minutes=minutes))


@pytest.fixture
def touches(db_session):
    ann, bob = Owner(name="Ann", email="ann@sales.example"), Owner(name="Bob", email="bob@sales.example")
    db_session.add_all([ann, bob])
    db_session.flush()
    for minutes in (10, 20, 30, 40, 300):
        touched(db_session, ann, "google", minutes)
    for minutes in (60, 180):
        touched(db_session, bob, "linkedin", minutes)
    touched(db_session, None, "", 15)
    touched(db_session, ann, "google", 1, at=DAY - timedelta(days=40))  # before the period
    db_session.commit()
    return ann, bob


def test_medians_and_90th_percentiles_per_owner_and_source(db_session, touches):
    speed = speed_to_lead(db_session, date(2026, 11, 1), date(2026, 11, 30))
    owners = {t.key: t for t in speed["by_owner"]}
    assert [t.key for t in speed["by_owner"]] == ["Ann", "Bob", "(no owner)"]  # busiest first
    # Ann: 10, 20, 30, 40 and 300 minutes; the 90th percentile lies 0.6 of the way from 40 to 300.
    assert (owners["Ann"].touches, owners["Ann"].median_seconds) == (5, 1800)
    assert owners["Ann"].p90_seconds == pytest.approx(2400 + 0.6 * (18000 - 2400))
    assert owners["Ann"].within_sla == 4  # 300 minutes is past the 120-minute service level
    assert (owners["Bob"].median_seconds, owners["Bob"].p90_seconds, owners["Bob"].within_sla) == (7200, 10080, 1)
    sources = {t.key: t for t in speed["by_source"]}
    assert set(sources) == {"google", "linkedin", "(none)"}
    assert sources["google"].median_seconds == 1800 and sources["(none)"].median_seconds == 900
    assert speed["total"].touches == 8 and speed["total"].median_seconds == (1800 + 2400) / 2


def test_the_dashboard_shows_them_from_the_touches_of_the_period_only(app, admin, db_session, touches):
    engine = app.extensions["leadsieve.engine"]
    url = "/admin/dashboard?since=2026-11-01&until=2026-11-30"
    html = admin.get(url).get_data(as_text=True)
    assert "8 first touch(es) from 2026-11-01 to 2026-11-30: median 35 min, 90th percentile 3.6 h, 75 % within" in html
    assert "<tr><td>Ann</td><td>5</td><td>30 min</td><td>3.3 h</td><td>80 %</td></tr>" in html
    assert "<tr><td>linkedin</td><td>2</td><td>2.0 h</td><td>2.8 h</td><td>50 %</td></tr>" in html
    mine = [s for s in statements_for(engine, admin, url) if "first_touches" in s]
    assert len(mine) == 1 and "leads" not in mine[0] and "submissions" not in mine[0]
    if engine.dialect.name == "sqlite":  # the plan reads the period's range of the touch-time index
        with engine.connect() as connection:
            plan = connection.execute(text("EXPLAIN QUERY PLAN " + mine[0].replace("?", "'2026-11-01'"))).all()
        assert any("ix_first_touches_touched_at" in str(row) for row in plan), plan


def test_a_first_touch_is_kept_once_and_only_for_an_assigned_lead(db_session):
    lead = Lead(email="li@initech.com", stage="SQL")
    db_session.add(lead)
    db_session.flush()
    note_first_touch(db_session, lead=lead, at=DAY)
    assert db_session.get(FirstTouch, lead.id) is None  # never assigned: no clock to measure
    lead.assigned_at = DAY
    note_first_touch(db_session, lead=lead, at=DAY + timedelta(hours=1))
    note_first_touch(db_session, lead=lead, at=DAY + timedelta(hours=2))
    touch = db_session.get(FirstTouch, lead.id)
    assert (touch.seconds, touch.within_sla, touch.source) == (3600, True, "")
