"""Where the checks run: the worker's sweep turn, and `leadsieve sweep` (cron) — the one that can see
that no worker runs."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue
from sqlalchemy import select

from app.cli import cli
from app.models import Alert, utcnow
from app.statuses import Verdict
from tests.alerts.conftest import add_destination, add_submission


def test_the_worker_sweep_turn_runs_the_alert_checks(app, db_session, http_receiver):
    from worker import Sweeper

    add_destination(db_session, target=http_receiver.url("/alerts"), alerts=True)
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    with app.app_context():
        Sweeper(app, 2, app.config["SWEEP_AFTER_SECONDS"])()
    assert db_session.scalars(select(Alert.key)).all() == ["screening.queue_age"]
    assert [r.json()["type"] for r in http_receiver.requests] == ["alert.opened"]


def test_the_sweep_command_tells_that_no_worker_runs(app, db_session, http_receiver):
    app.config["ALERT_WORKERS_GONE_MINUTES"] = 0.0
    add_destination(db_session, target=http_receiver.url("/alerts"), alerts=True)
    Queue("delivery", connection=app.extensions["leadsieve.redis"]).enqueue("app.jobs.deliver", 1)
    result = app.test_cli_runner().invoke(cli, args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "alerts: 1 opened, 0 resolved, 1 notice(s) sent" in result.output
    [event] = [r.json() for r in http_receiver.requests]
    assert event["alert"]["key"] == "workers.gone"
    assert event["alert"]["details"]["queues"]["delivery"]["waiting"] == 1
    assert "No live worker serves the delivery queue(s)" in event["alert"]["summary"]
