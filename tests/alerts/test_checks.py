"""Each condition opens an alert when it holds (a hit) and not when it almost does (a near miss).

Every case runs the whole turn, `run_alert_checks(app)`, against the real database and Redis."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from app.alerts import run_alert_checks
from app.alerts.checks import CHECKS, Thresholds
from app.models import Alert, Form, Submission, utcnow
from app.screening_context import dns_health
from app.statuses import DeliveryStatus, Verdict
from tests.alerts.conftest import add_dead_delivery, add_destination, add_submission
from worker import make_worker


def open_keys(db_session: Any) -> list[str]:
    db_session.expire_all()
    return sorted(db_session.scalars(select(Alert.key).where(Alert.resolved_at.is_(None))))


# --- set-ups: each returns (the `now` to check at, the key expected or None) ------------------------------


def dead_delivery(app, db_session, client, redis):
    destination = add_destination(db_session, target="https://crm.example.com/hook", name="CRM")
    add_dead_delivery(db_session, destination)
    return None, f"deliveries.dead:{destination.id}"


def retrying_delivery(app, db_session, client, redis):
    """Still being retried: not dead yet."""
    destination = add_destination(db_session, target="https://crm.example.com/hook")
    add_dead_delivery(db_session, destination, status=DeliveryStatus.RETRYING)
    add_dead_delivery(db_session, destination, status=DeliveryStatus.DELIVERED)
    return None, None


def dead_delivery_of_removed_destination(app, db_session, client, redis):
    """Dead deliveries of a destination that was removed (deactivated) need nobody."""
    destination = add_destination(db_session, target="https://old.example.com/hook", active=False)
    add_dead_delivery(db_session, destination)
    return None, None


def old_queue(app, db_session, client, redis):
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=25))
    add_submission(db_session, verdict=Verdict.HELD, email="new@initech.com")
    return None, "screening.queue_age"


def young_queue(app, db_session, client, redis):
    """Held 23 hours (limit 24), and an older one that was already rejected."""
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=23))
    add_submission(db_session, verdict=Verdict.REJECTED, received_at=utcnow() - timedelta(hours=50))
    return None, None


def dns_down(app, db_session, client, redis):
    dns_health.record(redis, False, "the canary timed out", now=time.time() - 6 * 60)
    dns_health.record(redis, False, "the canary timed out")  # still down: `since` stays six minutes ago
    return None, "dns.unavailable"


def dns_down_briefly(app, db_session, client, redis):
    """Down for two minutes (limit five): one lost probe is not an outage."""
    dns_health.record(redis, False, "the canary timed out", now=time.time() - 2 * 60)
    return None, None


def dns_back(app, db_session, client, redis):
    dns_health.record(redis, False, "the canary timed out", now=time.time() - 2 * 3600)
    dns_health.record(redis, True, "")
    return None, None


def jobs_without_worker(app, db_session, client, redis):
    Queue("screening", connection=redis).enqueue("app.jobs.screen_submission", 1)
    return utcnow() + timedelta(minutes=6), "workers.gone"


def jobs_waiting_briefly(app, db_session, client, redis):
    """Waiting a minute (limit five) with no worker: a restart, not an outage."""
    Queue("screening", connection=redis).enqueue("app.jobs.screen_submission", 1)
    return utcnow() + timedelta(minutes=1), None


def jobs_with_live_worker(app, db_session, client, redis):
    """Jobs waiting past the limit (here 0), but a live worker serves the queue: a backlog, not workers gone."""
    app.config["ALERT_WORKERS_GONE_MINUTES"] = 0.0
    Queue("screening", connection=redis).enqueue("app.jobs.screen_submission", 1)
    make_worker(app).register_birth()
    return utcnow() + timedelta(seconds=30), None


def no_worker_no_jobs(app, db_session, client, redis):
    return utcnow() + timedelta(hours=1), None


def foreign_site(app, db_session, client, redis):
    response = client.post(
        "/f/embedded", json={"email": "kim@vandelay.com"}, headers={"Origin": "https://copy.example.net"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    form_id = db_session.scalar(select(Form.id).where(Form.slug == "embedded"))
    return None, f"form.foreign_origin:{form_id}"


def listed_sites_only(app, db_session, client, redis):
    """Posts from listed origins (exact and wildcard), one without an Origin, and a foreign one two days ago."""
    for origin in ("https://www.example.com", "https://shop.example.org", None):
        headers = {"Origin": origin} if origin else {}
        assert client.post("/f/embedded", json={"email": "kim@vandelay.com"}, headers=headers).status_code < 300
    old = add_submission(db_session, slug="embedded", received_at=utcnow() - timedelta(hours=48))
    old.signals = {"origin": "https://copy.example.net", "origin_allowed": False}
    db_session.commit()
    return None, None


def _rejections(db_session, count, *, hours_ago):
    now = utcnow()
    for i in range(count):
        add_submission(
            db_session,
            verdict=Verdict.REJECTED,
            email=f"spam{i}@spam.example",
            received_at=now - timedelta(hours=hours_ago, seconds=i),
        )


def rejection_wave(app, db_session, client, redis):
    for day in range(1, 8):  # one a day in the week before: an hourly average of 1/24
        _rejections(db_session, 1, hours_ago=24 * day)
    _rejections(db_session, 20, hours_ago=0.5)
    return None, "screening.rejection_spike"


def rejections_under_the_floor(app, db_session, client, redis):
    _rejections(db_session, 19, hours_ago=0.5)
    return None, None


CASES: list[Callable[..., tuple[Any, str | None]]] = [
    dead_delivery,
    retrying_delivery,
    dead_delivery_of_removed_destination,
    old_queue,
    young_queue,
    dns_down,
    dns_down_briefly,
    dns_back,
    jobs_without_worker,
    jobs_waiting_briefly,
    jobs_with_live_worker,
    no_worker_no_jobs,
    foreign_site,
    listed_sites_only,
    rejection_wave,
    rejections_under_the_floor,
]


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_condition_opens_an_alert_only_when_it_holds(case, app, db_session, client):
    redis = Redis.from_url(app.config["REDIS_URL"])
    now, expected = case(app, db_session, client, redis)
    turn = run_alert_checks(app, now=now)
    assert turn.skipped == ()
    assert open_keys(db_session) == ([expected] if expected else [])
    redis.close()


def test_a_rejection_wave_against_a_busy_week_is_not_a_spike(app, db_session):
    """25 in the last hour is 2.5 times an hourly average of 10: under the factor of 3."""
    baseline = [
        Submission(
            form_id=db_session.scalar(select(Form.id).where(Form.slug == "newsletter")),
            email=f"b{i}@spam.example",
            status="screened",
            verdict=Verdict.REJECTED,
            received_at=utcnow() - timedelta(hours=2 + (i % 160)),
        )
        for i in range(7 * 24 * 10)
    ]
    db_session.add_all(baseline)
    db_session.commit()
    _rejections(db_session, 25, hours_ago=0.5)
    checks = CHECKS["screening.rejection_spike"]
    redis = Redis.from_url(app.config["REDIS_URL"])
    assert checks(db_session, redis, Thresholds(), utcnow()) == []
    _rejections(db_session, 6, hours_ago=0.2)  # 31 > 30
    [condition] = checks(db_session, redis, Thresholds(), utcnow())
    assert condition.details["last_hour"] == 31
    assert condition.details["hourly_average"] == 10.0
    redis.close()


def test_adding_the_site_to_the_form_list_clears_the_foreign_origin_alert(app, db_session, client):
    foreign_site(app, db_session, client, None)
    run_alert_checks(app)
    form = db_session.scalars(select(Form).where(Form.slug == "embedded")).one()
    assert open_keys(db_session) == [f"form.foreign_origin:{form.id}"]
    alert = db_session.scalars(select(Alert)).one()
    assert alert.details["origins"] == {"https://copy.example.net": 1}
    form.settings = {
        **form.settings,
        "allowed_origins": [*form.settings["allowed_origins"], "https://copy.example.net"],
    }
    db_session.commit()
    run_alert_checks(app)
    assert open_keys(db_session) == []
