"""E-mails to the visitor: the confirmation a form promises, sent by the worker through the SMTP
receiver (or the file outbox), once, only for accepted submissions; the webinar's .ics read back by
an independent iCalendar parser."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import icalendar
import pytest
from sqlalchemy import select, update

from app.actions import approve_and_forward
from app.db import session_scope
from app.jobs import send_visitor_email
from app.models import Form, Submission, VisitorEmail
from app.runtime.queues import enqueue_visitor_email
from tests.helpers import fetch_token, valid_fields
from tests.receivers import SmtpReceiver

WEBINAR = "webinar-pipeline-live"
DOWNLOAD = "whitepaper-lead-quality"
JOIN_URL = "https://example.com/webinars/pipeline-live"


@pytest.fixture
def settings(settings, smtp_receiver: SmtpReceiver):
    """Visitor e-mails go to the SMTP receiver; retries without waiting."""
    settings.update(
        SMTP_URL=smtp_receiver.url,
        SMTP_FROM="hello@leadsieve.test",
        PUBLIC_BASE_URL="https://forms.example.com",
        DELIVERY_BACKOFF=[0, 0, 0],
        DELIVERY_TIMEOUT_SECONDS=2.0,
    )
    return settings


def post(client, slug, **extra):
    token = fetch_token(client, slug)
    response = client.post(f"/f/{slug}", data=valid_fields(slug, token=token, **extra))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response


def submission_id(db_session, email) -> int:
    db_session.expire_all()
    return db_session.scalars(select(Submission.id).where(Submission.email == email)).one()


def visitor_row(db_session, sid) -> VisitorEmail | None:
    db_session.expire_all()
    return db_session.scalars(select(VisitorEmail).where(VisitorEmail.submission_id == sid)).first()


def calendar_part(message):
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part


def test_webinar_registrant_gets_the_join_link_and_a_valid_ics(client, db_session, run_worker, smtp_receiver):
    post(client, WEBINAR)
    run_worker()  # screening, then the visitor e-mail it enqueued
    [mail] = smtp_receiver.messages
    assert mail.rcpt_tos == ["raj@globex.com"]
    message = mail.message
    assert message["To"] == "raj@globex.com"
    assert message["Subject"] == "You are registered: Pipeline Live"
    assert message["Auto-Submitted"] == "auto-generated"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Raj," in plain and f"Join: {JOIN_URL}" in plain
    assert "Thursday 10 December 2026, 16:00 UTC" in plain
    assert f'href="{JOIN_URL}"' in html

    part = calendar_part(message)
    assert part.get_filename() == "invite.ics"
    assert part.get_param("method") == "PUBLISH"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    [event] = calendar.walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert event["DTEND"].dt == datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    assert str(event["URL"]) == JOIN_URL
    assert str(event["SUMMARY"]) == "Pipeline Live"
    assert str(event["UID"]).endswith("@forms.example.com")
    assert JOIN_URL in str(event["DESCRIPTION"])
    row = visitor_row(db_session, submission_id(db_session, "raj@globex.com"))
    assert row is not None and row.status == "delivered" and row.attempts == 1 and row.sent_at is not None


def test_download_registrant_gets_an_absolute_asset_link(client, db_session, run_worker, smtp_receiver):
    post(client, DOWNLOAD)
    run_worker()
    [mail] = smtp_receiver.messages
    assert mail.rcpt_tos == ["jane@acme.com"]
    assert mail.message["Subject"] == "Your copy of the playbook"
    link = "https://forms.example.com/static/demo/lead-quality-playbook.txt"
    assert link in mail.message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in mail.message.get_body(("html",)).get_content()
    assert not [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]


def test_the_marketers_subject_and_text_are_used_and_escaped(client, db_session, run_worker, smtp_receiver):
    form = db_session.scalars(select(Form).where(Form.slug == DOWNLOAD)).one()
    form.settings = {
        **form.settings,
        "visitor_email": {
            "enabled": True,
            "subject": "Your <b>guide</b>\r\nBcc: x@evil.example",
            "body": "Hi & <b>welcome</b>\n\nEnjoy.",
        },
    }
    db_session.commit()
    post(client, DOWNLOAD)
    run_worker()
    [mail] = smtp_receiver.messages
    assert mail.message["Subject"] == "Your <b>guide</b> Bcc: x@evil.example"
    assert mail.message["Bcc"] is None and mail.rcpt_tos == ["jane@acme.com"]
    html = mail.message.get_body(("html",)).get_content()
    assert "<p>Hi &amp; &lt;b&gt;welcome&lt;/b&gt;</p><p>Enjoy.</p>" in html
    assert "Hi & <b>welcome</b>\n\nEnjoy." in mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_forms_that_do_not_send_one_send_nothing(client, db_session, run_worker, smtp_receiver):
    form = db_session.scalars(select(Form).where(Form.slug == WEBINAR)).one()
    form.settings = {**form.settings, "visitor_email": {"enabled": False}}
    db_session.commit()
    post(client, WEBINAR)
    client.post("/f/request-demo", data=valid_fields("request-demo"))  # a demo form sends none by default
    run_worker()
    assert smtp_receiver.messages == []
    assert db_session.scalars(select(VisitorEmail)).all() == []


def test_a_rejected_submission_gets_nothing(client, db_session, run_worker, smtp_receiver):
    post(client, WEBINAR, website="http://bot.example")  # the honeypot: rejected
    run_worker()
    db_session.expire_all()
    assert db_session.scalars(select(Submission.verdict)).one() == "rejected"
    assert smtp_receiver.messages == []
    assert db_session.scalars(select(VisitorEmail)).all() == []


def test_a_held_submission_gets_it_only_after_approval(app, client, db_session, run_worker, smtp_receiver):
    post(client, WEBINAR, email="raj@servfail.example")  # DNS cannot answer: held, never rejected
    run_worker()
    sid = submission_id(db_session, "raj@servfail.example")
    assert db_session.get(Submission, sid).verdict == "held"
    assert smtp_receiver.messages == []
    assert visitor_row(db_session, sid) is None

    with app.app_context(), session_scope() as session:
        approve_and_forward(session, submission_ids=[sid], actor="anna@example.com")
    run_worker()
    [mail] = smtp_receiver.messages
    assert mail.rcpt_tos == ["raj@servfail.example"]
    assert JOIN_URL in mail.message.get_body(("plain",)).get_content()


def test_a_second_run_does_not_send_twice(app, client, db_session, run_worker, smtp_receiver):
    post(client, WEBINAR)
    run_worker()
    sid = submission_id(db_session, "raj@globex.com")
    assert len(smtp_receiver.messages) == 1
    with app.app_context():
        assert send_visitor_email(sid) == "not due"
        enqueue_visitor_email(sid, 0)  # the same job again, as the sweeper might
        enqueue_visitor_email(sid, 5)
    run_worker()
    assert len(smtp_receiver.messages) == 1
    assert visitor_row(db_session, sid).attempts == 1


def test_a_temporary_smtp_refusal_is_retried_and_sent_once(client, db_session, run_worker, smtp_receiver):
    smtp_receiver.replies.append("451 4.3.0 try again later")
    post(client, WEBINAR)
    run_worker()
    [mail] = smtp_receiver.messages
    assert mail.rcpt_tos == ["raj@globex.com"]
    row = visitor_row(db_session, submission_id(db_session, "raj@globex.com"))
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, "")
    assert mail.message["Message-ID"] == f"<visitor-{row.submission_id}@leadsieve.test>"  # the same on every try


def test_retries_end_dead_and_a_permanent_refusal_fails(client, db_session, run_worker, smtp_receiver):
    smtp_receiver.replies.extend(["451 later"] * 4)
    post(client, WEBINAR)
    run_worker()
    row = visitor_row(db_session, submission_id(db_session, "raj@globex.com"))
    assert (row.status, row.attempts) == ("dead", 4)  # the first try and the three of DELIVERY_BACKOFF
    assert "451" in row.last_error
    smtp_receiver.reset()
    smtp_receiver.replies.append("550 5.1.1 no such user")
    post(client, DOWNLOAD)
    run_worker()
    row = visitor_row(db_session, submission_id(db_session, "jane@acme.com"))
    assert (row.status, row.attempts) == ("failed", 1)
    assert smtp_receiver.messages == []


def test_an_erased_submission_is_not_sent(app, client, db_session, run_worker, smtp_receiver):
    post(client, WEBINAR)
    sid = submission_id(db_session, "raj@globex.com")
    with app.app_context():
        from app.jobs import screen_submission

        screen_submission(sid)  # accepted and planned; the e-mail job waits in the queue
    db_session.execute(update(Submission).where(Submission.id == sid).values(erased_at=datetime(2026, 12, 1)))
    db_session.commit()
    run_worker()
    assert smtp_receiver.messages == []
    row = visitor_row(db_session, sid)
    assert row.status == "failed" and "erased" in row.last_error


def test_the_sweeper_sends_what_redis_missed(app, client, db_session, run_worker, smtp_receiver):
    from redis import Redis

    from app.runtime.sweeper import sweep_visitor_emails

    post(client, WEBINAR)
    sid = submission_id(db_session, "raj@globex.com")
    with app.app_context():
        from app.jobs import screen_submission

        screen_submission(sid)
    Redis.from_url(app.config["REDIS_URL"]).flushdb()  # the e-mail job is lost
    run_worker()
    assert smtp_receiver.messages == []
    with app.app_context(), session_scope() as session:
        assert sweep_visitor_emails(session) == 1
        assert sweep_visitor_emails(session) == 0  # already queued
    run_worker()
    assert len(smtp_receiver.messages) == 1


def test_with_a_file_outbox_one_eml_is_written(request, settings, tmp_path):
    """SMTP_URL=file://… (the development default): the e-mail is a `visitor-…eml` file, written once."""
    outbox = tmp_path / "outbox"
    settings["SMTP_URL"] = outbox.as_uri()
    client = request.getfixturevalue("client")
    run_worker = request.getfixturevalue("run_worker")
    post(client, WEBINAR)
    run_worker()
    run_worker()
    [eml] = list(outbox.glob("visitor-*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "raj@globex.com"
    event = icalendar.Calendar.from_ical(calendar_part(message).get_content()).walk("VEVENT")[0]
    assert event["DTSTART"].dt == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert list(outbox.glob("lead-*.eml")) == []  # no e-mail destination in this test
