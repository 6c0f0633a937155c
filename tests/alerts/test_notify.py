"""Alert events reach the destinations marked for alerts, once each way, or once a day as a digest."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.actions import replay_deliveries
from app.alerts import run_alert_checks
from app.alerts.checks import Condition
from app.alerts.service import apply_conditions, digest_window
from app.forwarding.adapters.webhook import verify_signature
from app.models import Alert, AlertNotice, Delivery, utcnow
from app.statuses import DeliveryStatus, Verdict
from tests.alerts.conftest import add_dead_delivery, add_destination, add_submission
from tests.receivers import Reply


def alert_requests(receiver, path="/alerts"):
    return [request for request in receiver.requests if request.path == path]


def test_an_open_alert_is_sent_once_to_alerts_destinations_only_then_resolved(app, db_session, http_receiver):
    add_destination(db_session, target=http_receiver.url("/alerts"), alerts=True, secret="s3cret")
    leads_only = add_destination(db_session, target=http_receiver.url("/leads"), name="CRM")
    add_dead_delivery(db_session, leads_only)

    turn = run_alert_checks(app)
    assert (turn.opened, turn.queued, turn.delivered) == (1, 1, 1)
    [sent] = alert_requests(http_receiver)
    event = sent.json()
    assert event["type"] == "alert.opened"
    assert event["alert"]["key"] == f"deliveries.dead:{leads_only.id}"
    assert event["alert"]["severity"] == "critical"
    assert "1 delivery to “CRM” ran out of retries" in event["alert"]["summary"]
    assert event["alert"]["details"]["latest_error"] == "HTTP 503 Service Unavailable"
    assert event["admin_url"] == "https://leads.example.com/admin/alerts"
    assert verify_signature("s3cret", sent.headers["x-leadsieve-signature"], sent.body)
    assert alert_requests(http_receiver, "/leads") == []  # the dead destination is not an alerts destination

    # Found again on later turns, and worse: still one alert, nothing sent again.
    add_dead_delivery(db_session, leads_only)
    for _ in range(3):
        turn = run_alert_checks(app)
        assert (turn.opened, turn.queued) == (0, 0)
    assert len(alert_requests(http_receiver)) == 1
    alert = db_session.scalars(select(Alert)).one()
    db_session.refresh(alert)
    assert alert.resolved_at is None and alert.notified_at is not None
    assert alert.details["dead"] == 2

    # Replayed: the condition clears, the alert resolves, and the destination is told.
    dead = db_session.scalars(select(Delivery.id).where(Delivery.destination_id == leads_only.id)).all()
    with app.app_context():
        replay_deliveries(db_session, delivery_ids=list(dead), actor="anna@example.com")
    turn = run_alert_checks(app)
    assert turn.resolved == 1
    opened, resolved = alert_requests(http_receiver)
    assert resolved.json()["type"] == "alert.resolved"
    assert resolved.json()["alert"]["id"] == opened.json()["alert"]["id"]
    assert resolved.json()["alert"]["resolved_at"]
    assert resolved.key != opened.key


def test_a_condition_that_returns_opens_a_new_alert_and_is_sent_again(app, db_session, http_receiver):
    add_destination(db_session, target=http_receiver.url("/alerts"), alerts=True)
    held = add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    run_alert_checks(app)
    held.verdict = Verdict.ACCEPTED
    db_session.commit()
    run_alert_checks(app)
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30), email="x@acme.com")
    run_alert_checks(app)
    assert [r.json()["type"] for r in alert_requests(http_receiver)] == [
        "alert.opened",
        "alert.resolved",
        "alert.opened",
    ]
    assert len(db_session.scalars(select(Alert)).all()) == 2


def test_a_flapping_condition_resolves_only_after_it_stayed_clear(app, db_session, http_receiver):
    """ALERT_RESOLVE_AFTER_MINUTES: clear for a turn or two is not yet resolved (nothing re-sent)."""
    app.config["ALERT_RESOLVE_AFTER_MINUTES"] = 10.0
    add_destination(db_session, target=http_receiver.url("/alerts"), alerts=True)
    held = add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    run_alert_checks(app)
    held.verdict = Verdict.ACCEPTED
    db_session.commit()
    assert run_alert_checks(app, now=utcnow() + timedelta(minutes=5)).resolved == 0
    assert run_alert_checks(app, now=utcnow() + timedelta(minutes=11)).resolved == 1
    assert [r.json()["type"] for r in alert_requests(http_receiver)] == ["alert.opened", "alert.resolved"]


def test_an_alert_a_check_could_not_decide_stays_open(app, db_session):
    """A check that could not run (Redis away) resolves nothing: its kind was not checked."""
    now = utcnow()
    found = Condition(key="dns.unavailable", severity="critical", summary="DNS unavailable")
    apply_conditions(
        db_session, conditions=[found], checked_kinds={"dns.unavailable"}, now=now, resolve_after=timedelta()
    )
    changes = apply_conditions(
        db_session,
        conditions=[],
        checked_kinds={"deliveries.dead"},
        now=now + timedelta(hours=1),
        resolve_after=timedelta(),
    )
    assert changes.resolved == []
    changes = apply_conditions(
        db_session,
        conditions=[],
        checked_kinds={"dns.unavailable"},
        now=now + timedelta(hours=1),
        resolve_after=timedelta(),
    )
    assert [a.key for a in changes.resolved] == ["dns.unavailable"]


def test_a_failed_notice_is_retried_and_sent_once(app, db_session, http_receiver):
    add_destination(db_session, target=http_receiver.url("/alerts"), alerts=True)
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    http_receiver.script(Reply(503))
    assert run_alert_checks(app).delivered == 0
    notice = db_session.scalars(select(AlertNotice)).one()
    assert notice.status == DeliveryStatus.RETRYING
    assert run_alert_checks(app).delivered == 1  # DELIVERY_BACKOFF is 0 here
    db_session.refresh(notice)
    assert (notice.status, notice.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [r.status for r in alert_requests(http_receiver)] == [503, 200]
    assert len(http_receiver.effective) == 1


def test_alerts_read_well_by_email_and_slack(app, db_session, http_receiver, smtp_receiver):
    add_destination(db_session, kind="email", target="ops@example.com", alerts=True)
    add_destination(db_session, kind="slack", target=http_receiver.url("/slack"), alerts=True)
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    assert run_alert_checks(app).delivered == 2

    [mail] = smtp_receiver.messages
    assert mail.rcpt_tos == ["ops@example.com"]
    subject = str(mail.message["Subject"])
    assert subject.startswith("Alert (warning): 1 held submission waits for review; the oldest for 30.0 h")
    body = mail.message.get_body(("plain",)).get_content()
    assert "Condition:" in body and "screening.queue_age" in body
    assert "https://leads.example.com/admin/alerts" in body
    assert "lead" not in subject.lower()

    [slack] = alert_requests(http_receiver, "/slack")
    text = slack.json()["text"]
    assert text.startswith("*Alert (warning): 1 held submission waits for review")
    assert "<https://leads.example.com/admin/alerts|Open the alerts page>" in text


def test_a_daily_digest_lists_several_alerts_in_one_message(app, db_session, http_receiver):
    app.config["ALERT_DIGEST_HOUR"] = 8
    app.config["ADMIN_TIME_ZONE"] = "Europe/Berlin"
    add_destination(db_session, target=http_receiver.url("/digest"), alerts=True, alert_digest=True)
    add_destination(db_session, target=http_receiver.url("/each"), alerts=True)
    crm = add_destination(db_session, target="https://crm.example.com/hook", name="CRM")
    add_dead_delivery(db_session, crm)
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))

    now = utcnow()
    _, end, _ = digest_window(now, hour=8, time_zone="Europe/Berlin")  # the last digest hour before now
    run_alert_checks(app, now=now)  # both open within the period that ends at the next digest hour
    assert len(alert_requests(http_receiver, "/each")) == 2
    assert alert_requests(http_receiver, "/digest") == []

    next_digest = end + timedelta(days=1, minutes=1)
    for _ in range(3):  # the turns after the digest hour send it once
        run_alert_checks(app, now=next_digest)
    [digest] = alert_requests(http_receiver, "/digest")
    payload = digest.json()
    assert payload["type"] == "alert.digest"
    assert sorted(a["kind"] for a in payload["opened"]) == ["deliveries.dead", "screening.queue_age"]
    assert payload["resolved"] == [] and payload["still_open"] == []
    assert payload["period"]["to"].startswith((end + timedelta(days=1)).isoformat()[:16])
    assert len(alert_requests(http_receiver, "/each")) == 2  # the per-alert destination got nothing more

    # The next day: both still open, one resolves that day; one message again.
    held_alert = db_session.scalars(select(Alert).where(Alert.kind == "screening.queue_age")).one()
    held_alert.resolved_at = next_digest + timedelta(hours=2)
    db_session.commit()
    run_alert_checks(app, now=next_digest + timedelta(days=1))
    _, second = alert_requests(http_receiver, "/digest")
    assert [a["kind"] for a in second.json()["still_open"]] == ["deliveries.dead"]
    assert [a["kind"] for a in second.json()["resolved"]] == ["screening.queue_age"]


def test_a_quiet_day_sends_no_digest(app, db_session, http_receiver):
    add_destination(db_session, target=http_receiver.url("/digest"), alerts=True, alert_digest=True)
    run_alert_checks(app, now=utcnow() + timedelta(days=1))
    assert http_receiver.requests == []


def test_digest_window_follows_the_admin_time_zone_across_daylight_saving():
    from datetime import datetime

    # Berlin leaves summer time on 2026-10-25: that day has 25 hours.
    start, end, day = digest_window(datetime(2026, 10, 25, 9, 0), hour=8, time_zone="Europe/Berlin")
    assert (start, end, day) == (datetime(2026, 10, 24, 6, 0), datetime(2026, 10, 25, 7, 0), "2026-10-25")
    start, end, day = digest_window(datetime(2026, 10, 25, 6, 59), hour=8, time_zone="Europe/Berlin")
    assert day == "2026-10-24"


def test_a_failing_destination_is_tried_once_a_turn_and_the_others_still_get_theirs(app, db_session, http_receiver):
    add_destination(db_session, target=http_receiver.url("/failing"), alerts=True)
    add_destination(db_session, target=http_receiver.url("/ok"), alerts=True)
    crm = add_destination(db_session, target="https://crm.example.com/hook", name="CRM")
    add_dead_delivery(db_session, crm)
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    http_receiver.script(Reply(503))  # the first notice goes to /failing: it answers 503 once
    assert run_alert_checks(app).delivered == 2
    assert len(alert_requests(http_receiver, "/failing")) == 1  # its second notice waits for the next turn
    assert len(alert_requests(http_receiver, "/ok")) == 2
    assert run_alert_checks(app).delivered == 2
    assert [r.status for r in alert_requests(http_receiver, "/failing")] == [503, 200, 200]
