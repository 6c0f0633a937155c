"""Forwarding end to end: capture -> worker -> real receivers; retries, dead letters, replay, the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.cli import cli
from app.db import session_scope
from app.forwarding.adapters import verify_signature
from app.forwarding.destinations import create_destination
from app.jobs import deliver
from app.models import Delivery, DeliveryAttempt, Destination, utcnow
from tests.conftest import free_port
from tests.helpers import valid_fields
from tests.receivers import HttpReceiver, Reply


def submit(client, slug, **fields):
    response = client.post(f"/f/{slug}", json=valid_fields(slug, **fields))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def add_destination(app, kind, target, **kwargs):
    """Save a destination through the service (SSRF check included); returns (id, secret)."""
    with app.app_context(), session_scope() as session:
        destination = create_destination(
            session,
            kind=kind,
            target=target,
            actor="test",
            allowed_private=app.config["ALLOWED_PRIVATE_DESTINATIONS"],
            **kwargs,
        )
        session.commit()
        return destination.id, destination.secret


def deliveries(db_session):
    db_session.expire_all()
    return db_session.scalars(select(Delivery).order_by(Delivery.id)).all()


def attempts(db_session, delivery_id):
    return db_session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
    ).all()


def make_due(app, delivery_id):
    """Pretend the retry time has come."""
    with app.app_context(), session_scope() as session:
        session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()


def test_sql_to_sales_webhook_and_inbox_mql_to_marketing(
    app, client, db_session, run_worker, http_receiver, smtp_receiver
):
    _, secret = add_destination(app, "webhook", http_receiver.url("/sales"), stages=["SQL"])
    add_destination(app, "email", "sales@example.com", stages=["SQL"])
    add_destination(app, "hubspot", http_receiver.url("/marketing"), stages=["MQL"])
    add_destination(app, "slack", http_receiver.url("/demo-channel"), forms=["request-demo"])
    submit(client, "request-demo", company="Initech", message="Call me")
    submit(client, "whitepaper-lead-quality")
    run_worker()

    by_path = {r.path: r for r in http_receiver.requests}
    assert sorted(by_path) == ["/demo-channel", "/marketing", "/sales"]
    assert len(http_receiver.requests) == 3 and not http_receiver.duplicates
    sales = by_path["/sales"]
    assert verify_signature(secret, sales.headers["x-leadsieve-signature"], sales.body)
    lead = sales.json()
    assert (lead["stage"], lead["email"], lead["company"], lead["form"]["slug"]) == (
        "SQL",
        "li@initech.com",
        "Initech",
        "request-demo",
    )
    assert lead["feedback_url"].startswith("http") and "/feedback/" in lead["feedback_url"]
    marketing = {f["name"]: f["value"] for f in by_path["/marketing"].json()["fields"]}
    assert (marketing["email"], marketing["lifecyclestage"]) == ("jane@acme.com", "marketingqualifiedlead")
    assert by_path["/demo-channel"].json()["text"].startswith("*SQL lead:* Li Wei at Initech")

    # The download's visitor gets the confirmation the form promised; the sales inbox gets the SQL only.
    [mail] = [m for m in smtp_receiver.messages if m.rcpt_tos == ["sales@example.com"]]
    assert [m.rcpt_tos for m in smtp_receiver.messages if m is not mail] == [["jane@acme.com"]]
    assert mail.message["Subject"] == "SQL lead: Li Wei (Initech)"
    assert "Call me" in mail.message.get_body(("plain",)).get_content()

    rows = deliveries(db_session)
    assert [(d.status, d.attempts) for d in rows] == [("delivered", 1)] * 4
    keys = {d.idempotency_key for d in rows}
    assert {sales.headers["idempotency-key"], by_path["/marketing"].headers["idempotency-key"]} <= keys
    attempt = attempts(db_session, rows[0].id)[0]
    assert attempt.ok and attempt.status_code in (200, 250) and attempt.latency_ms >= 0


def test_demo_request_without_smtp_reaches_the_outbox_inbox(app, client, db_session, run_worker):
    """A plain `make run` has no SMTP_URL: the lead e-mail becomes an .eml under instance/outbox/."""
    import email
    import email.policy
    from pathlib import Path

    from config import TestConfig

    instance = Path(app.config["INSTANCE_PATH"])
    app.config["SMTP_URL"] = TestConfig.from_env({"LEADSIEVE_INSTANCE": str(instance)})["SMTP_URL"]
    add_destination(app, "email", "sales@example.com", stages=["SQL"])
    submit(client, "request-demo", company="Initech", message="Call me")
    run_worker()
    run_worker()
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    [path] = (instance / "outbox").glob("*.eml")
    assert attempts(db_session, delivery.id)[0].response_excerpt == f"written to {path}"
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert (mail["Subject"], mail["To"]) == ("SQL lead: Li Wei (Initech)", "sales@example.com")
    assert "Call me" in mail.get_body(("plain",)).get_content()


def test_worker_running_twice_sends_once(app, client, db_session, run_worker, http_receiver):
    add_destination(app, "webhook", http_receiver.url())
    submit(client, "request-demo")
    run_worker()
    [delivery] = deliveries(db_session)
    with app.app_context():
        assert deliver(delivery.id) == "not due"
    run_worker()
    assert len(http_receiver.requests) == 1


def test_retries_on_500_then_exactly_one_effective_delivery(app, client, db_session, run_worker, http_receiver):
    add_destination(app, "webhook", http_receiver.url())
    http_receiver.script(500, 503)
    submit(client, "request-demo")
    run_worker()  # backoff [0, 0, 0]: the retries run in the same burst
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert [(a.ok, a.status_code) for a in attempts(db_session, delivery.id)] == [
        (False, 500),
        (False, 503),
        (True, 200),
    ]
    assert {r.key for r in http_receiver.requests} == {delivery.idempotency_key}
    assert len(http_receiver.effective) == 1


def test_timeout_then_retry_is_deduplicated_by_the_receiver(app, client, db_session, run_worker, http_receiver):
    """The receiver processed the timed-out request; the retry carries the same key and is dropped."""
    app.config["DELIVERY_TIMEOUT_SECONDS"] = 0.3
    add_destination(app, "webhook", http_receiver.url())
    http_receiver.script(Reply(200, delay=0.8))
    submit(client, "request-demo")
    run_worker()
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    first, second = attempts(db_session, delivery.id)
    assert (first.ok, first.error) == (False, "timed out after 0.3 s")
    assert second.ok and second.response_excerpt == "duplicate"
    assert len(http_receiver.effective) == 1 and len(http_receiver.duplicates) == 1


def test_receiver_down_for_a_while(app, client, db_session, run_worker):
    """Connection refused is retried later; once the receiver is back the lead arrives once."""
    app.config["DELIVERY_BACKOFF"] = [60, 300]
    port = free_port()
    add_destination(app, "webhook", f"http://127.0.0.1:{port}/hook")
    submit(client, "request-demo")
    run_worker()
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert "ConnectionRefusedError" in delivery.last_error
    assert timedelta(seconds=50) < delivery.next_attempt_at - utcnow() <= timedelta(seconds=60)
    with app.app_context():
        assert deliver(delivery.id) == "not due"  # not before its time
    receiver = HttpReceiver(port).start()
    try:
        make_due(app, delivery.id)
        with app.app_context():
            assert deliver(delivery.id) == "delivered"
    finally:
        receiver.stop()
    assert len(receiver.effective) == 1 and receiver.effective[0].key == delivery.idempotency_key


@pytest.mark.parametrize(("status", "retry_after"), [(429, "90"), (408, "120"), (503, "3600")])
def test_retry_after_sets_the_next_attempt(app, client, db_session, run_worker, http_receiver, status, retry_after):
    add_destination(app, "webhook", http_receiver.url())
    http_receiver.script(Reply(status, headers={"Retry-After": retry_after}))
    submit(client, "request-demo")
    run_worker()  # backoff is 0 s, but the receiver asked for more
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    wait = (delivery.next_attempt_at - utcnow()).total_seconds()
    assert int(retry_after) - 10 < wait <= int(retry_after)
    make_due(app, delivery.id)
    with app.app_context():
        assert deliver(delivery.id) == "delivered"
    assert len(http_receiver.requests) == 2 and len(http_receiver.effective) == 1


def test_client_error_fails_at_once(app, client, db_session, run_worker, http_receiver):
    add_destination(app, "webhook", http_receiver.url())
    http_receiver.script(Reply(400, body='{"error": "unknown field"}\x00'))
    submit(client, "request-demo")
    run_worker()
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "HTTP 400 Bad Request")
    # The excerpt is stored; a NUL (which PostgreSQL text refuses) becomes a replacement character.
    assert attempts(db_session, delivery.id)[0].response_excerpt == '{"error": "unknown field"}\ufffd'
    assert len(http_receiver.requests) == 1


def test_dead_after_the_schedule_then_replay_delivers_once(app, client, db_session, run_worker, http_receiver):
    app.config["DELIVERY_BACKOFF"] = [0, 0]
    add_destination(app, "webhook", http_receiver.url())
    http_receiver.script(500, 500, 500)
    submit(client, "request-demo")
    run_worker()
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("dead", 3)
    assert http_receiver.effective == []

    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["deliveries", "replay", str(delivery.id)])
    assert result.exit_code == 0 and result.output.strip() == "replaying 1 delivery"
    run_worker()
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    assert len(http_receiver.requests) == 4 and len(http_receiver.effective) == 1
    assert {r.key for r in http_receiver.requests} == {delivery.idempotency_key}

    again = runner.invoke(cli, ["deliveries", "replay", "--all-dead", str(delivery.id)])
    assert "replaying 0 deliveries; not dead or failed" in again.output
    run_worker()
    assert len(http_receiver.requests) == 4


def test_replay_starts_a_fresh_retry_schedule(app, client, db_session, run_worker, http_receiver):
    """A replayed delivery gets the whole DELIVERY_BACKOFF again, not one last try."""
    from rq.registry import FinishedJobRegistry

    from app.runtime.queues import DELIVERY, get_queue

    app.config["DELIVERY_BACKOFF"] = [0, 0]
    add_destination(app, "webhook", http_receiver.url())
    http_receiver.script(500, 500, 500, 500, 500)  # dead after 3; after the replay: 500, 500, then 200
    submit(client, "request-demo")
    run_worker()
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("dead", 3)
    first_key = delivery.idempotency_key

    assert app.test_cli_runner().invoke(cli, ["deliveries", "replay", str(delivery.id)]).exit_code == 0
    run_worker()
    [delivery] = deliveries(db_session)
    assert (delivery.status, delivery.attempts) == ("delivered", 6)
    assert [a.status_code for a in attempts(db_session, delivery.id)] == [500] * 5 + [200]  # log kept
    assert {r.key for r in http_receiver.requests} == {first_key}
    assert len(http_receiver.effective) == 1
    with app.app_context():
        finished = FinishedJobRegistry(queue=get_queue(DELIVERY)).get_job_ids()
    assert sorted(finished) == sorted(f"deliver-{delivery.id}-{n}" for n in range(6))  # one job id per try


def test_send_time_check_refuses_a_host_that_is_no_longer_allowed(app, client, db_session, run_worker, http_receiver):
    """Saved while allowed (localhost -> 127.0.0.1); sent after the setting changed: refused, nothing sent."""
    add_destination(app, "webhook", http_receiver.url(host="localhost"))
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = []
    submit(client, "request-demo")
    run_worker()
    [delivery] = deliveries(db_session)
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("refused: localhost resolves to loopback address 127.0.0.1")
    assert http_receiver.requests == []


def test_cli_add_refuses_private_unless_allowed(app, db_session):
    runner = app.test_cli_runner()
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = []
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
    ):
        result = runner.invoke(cli, ["destinations", "add", "--kind", "webhook", "--url", url])
        assert result.exit_code != 0 and "refused:" in result.output, result.output
    bad = runner.invoke(cli, ["destinations", "add", "--kind", "slack", "--url", "file:///etc/passwd"])
    assert bad.exit_code != 0 and "only http:// and https://" in bad.output
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    ok = runner.invoke(cli, ["destinations", "add", "--kind", "webhook", "--url", "http://127.0.0.1:8080/hook"])
    assert ok.exit_code == 0, ok.output
    metadata = runner.invoke(cli, ["destinations", "add", "--kind", "webhook", "--url", "http://169.254.169.254/"])
    assert metadata.exit_code != 0
    assert db_session.scalars(select(Destination.target)).all() == ["http://127.0.0.1:8080/hook"]


def test_cli_add_then_test_reaches_the_receiver_signed(app, http_receiver, smtp_receiver):
    runner = app.test_cli_runner()
    added = runner.invoke(
        cli, ["destinations", "add", "--kind", "webhook", "--url", http_receiver.url(), "--stages", "SQL"]
    )
    assert added.exit_code == 0, added.output
    destination_id = added.output.split()[2].rstrip(":")
    secret = added.output.rsplit("Signing secret (shown once): ", 1)[1].strip()
    tested = runner.invoke(cli, ["destinations", "test", destination_id])
    assert tested.exit_code == 0 and tested.output.startswith("OK status=200"), tested.output
    [request] = http_receiver.requests
    assert verify_signature(secret, request.headers["x-leadsieve-signature"], request.body)
    assert request.json()["email"] == "test.lead@example.com"

    mail = runner.invoke(cli, ["destinations", "add", "--kind", "email", "--url", "inbox@example.com"])
    assert runner.invoke(cli, ["destinations", "test", mail.output.split()[2].rstrip(":")]).exit_code == 0
    assert smtp_receiver.messages[0].rcpt_tos == ["inbox@example.com"]

    http_receiver.script(Reply(404, body="no such hook"))
    failed = runner.invoke(cli, ["destinations", "test", destination_id])
    assert failed.exit_code == 1 and "FAILED status=404" in failed.output


@pytest.mark.parametrize(
    "target",
    ["sales@example.com\r\nBcc: victim@example.net", "Sales <sales@example.com>", "sales@example.com, nobody", " , "],
)
def test_cli_add_refuses_bad_email_destinations(app, db_session, target):
    result = app.test_cli_runner().invoke(cli, ["destinations", "add", "--kind", "email", "--url", target])
    assert result.exit_code != 0 and "comma-separated" in result.output, result.output
    assert db_session.scalars(select(Destination)).all() == []


def test_salesforce_without_oid_is_refused_at_save(app, db_session):
    from app.forwarding.destinations import InvalidDestination

    runner = app.test_cli_runner()
    url = "http://127.0.0.1:9/servlet/servlet.WebToLead?encoding=UTF-8"
    for options in ([], ["--option", "oid="], ["--option", "lead_source=Web"]):
        result = runner.invoke(cli, ["destinations", "add", "--kind", "salesforce", "--url", url, *options])
        assert result.exit_code != 0 and "needs its organisation id" in result.output, result.output
    with pytest.raises(InvalidDestination, match="oid=00D"):
        add_destination(app, "salesforce", url)
    assert db_session.scalars(select(Destination)).all() == []
    ok = runner.invoke(
        cli, ["destinations", "add", "--kind", "salesforce", "--url", url, "--option", "oid=00D000000000001"]
    )
    assert ok.exit_code == 0, ok.output
    assert db_session.scalars(select(Destination.options)).all() == [{"oid": "00D000000000001"}]


def test_rotate_secret_prints_the_new_one_once_and_signs_with_it(app, client, db_session, run_worker, http_receiver):
    destination_id, old = add_destination(app, "webhook", http_receiver.url())
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["destinations", "rotate-secret", str(destination_id)])
    assert result.exit_code == 0, result.output
    new = result.output.split("(shown once): ", 1)[1].split()[0]
    assert new != old and len(new) >= 40
    assert db_session.get(Destination, destination_id).secret == new
    assert new not in runner.invoke(cli, ["destinations", "list"]).output

    submit(client, "request-demo")
    run_worker()
    [request] = http_receiver.requests
    signature = request.headers["x-leadsieve-signature"]
    assert verify_signature(new, signature, request.body)
    assert not verify_signature(old, signature, request.body)

    mail_id, _ = add_destination(app, "email", "sales@example.com")
    for args in ([str(mail_id)], ["9999"]):
        refused = runner.invoke(cli, ["destinations", "rotate-secret", *args])
        assert refused.exit_code != 0 and (
            "only webhooks are signed" in refused.output or "no destination 9999" in refused.output
        )
