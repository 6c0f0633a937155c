"""Privacy: consent with its version, erasure (CLI and admin), retention purge, IP truncation.

Real app, real Redis, real database, real worker; every failure path too.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import func, inspect, select, text

from app.accounts.users import set_user
from app.capture.service import consent_version
from app.cli import cli
from app.db import session_scope
from app.forwarding.adapters.email import outbox_dir
from app.models import (
    AuditEvent,
    Delivery,
    DeliveryAttempt,
    Destination,
    Finding,
    Lead,
    Submission,
    utcnow,
)
from app.privacy.erasure import InvalidEmail, email_hash, erase_person, purge_if_due, purge_rejected, truncate_ip
from app.runtime.seed import CONSENT
from tests.helpers import csrf_from, sign_in, valid_fields
from tests.receivers import HttpReceiver

PERSON = "Jane.Doe@Acme.com"


def submit(client, slug, ip="203.0.113.77", **fields):
    response = client.post(f"/f/{slug}", json=valid_fields(slug, **fields), environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def everything_stored(app) -> str:
    """Every row of every table as text: what a breach would expose."""
    engine = app.extensions["leadsieve.engine"]
    chunks = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            chunks += [repr(tuple(row)) for row in connection.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(chunks).lower()


@pytest.fixture
def person_with_history(app, client, db_session, run_worker):
    """Jane: two accepted submissions (one delivered to a webhook), one rejected; plus Sam, untouched."""
    receiver = HttpReceiver().start()
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    with app.app_context(), session_scope() as session:
        session.add(Destination(name="crm", kind="webhook", target=receiver.url(), secret="s"))
        session.commit()
    fields = {
        "email": PERSON,
        "first_name": "Janelle",
        "last_name": "Doerington",
        "company": "Acme",
        "phone": "+1 555 0199",
        "job_title": "VP Sales",
        "message": "Call Janelle on +1 555 0199",
    }
    submit(client, "request-demo", **fields, page_url="https://www.example.com/demo?email=jane.doe%40acme.com")
    submit(client, "whitepaper-lead-quality", email="jane.doe@acme.com", first_name="Janelle")
    submit(client, "newsletter", ip="198.51.100.5", email="sam@hooli.com")
    run_worker()
    receiver.stop()
    assert len(receiver.requests) == 3
    # A rejected one from the same person (as if a reviewer had rejected it), with evidence naming her.
    rejected_id = submit(client, "contact-sales", email=PERSON, first_name="Janelle")
    row = db_session.get(Submission, rejected_id)
    row.status, row.verdict, row.reason_category = "screened", "rejected", "spam"
    db_session.add(
        Finding(
            submission_id=rejected_id,
            code="velocity.email",
            category="spam",
            weight=10,
            evidence=f"{PERSON.lower()} sent 4 forms in 10 minutes",
        )
    )
    db_session.commit()
    return fields


def test_consent_is_stored_with_the_exact_text_and_its_version(client, db_session):
    submission_id = submit(client, "whitepaper-lead-quality")
    submission = db_session.get(Submission, submission_id)
    assert submission.consent_given is True
    assert submission.consent_text == CONSENT
    assert submission.consent_text_version == hashlib.sha256(CONSENT.encode()).hexdigest()[:16]
    assert consent_version(CONSENT + " ") != submission.consent_text_version  # any edit is a new version


def test_erase_cli_removes_personal_data_and_keeps_counts(app, db_session, person_with_history):
    before = {
        row.id: (row.form_id, row.status, row.verdict, row.stage, row.reason_category)
        for row in db_session.scalars(select(Submission))
    }
    lead_before = db_session.scalars(select(Lead).where(Lead.email == "jane.doe@acme.com")).one()
    stage, score = lead_before.stage, lead_before.score

    result = app.test_cli_runner().invoke(cli, ["erase", "  JANE.DOE@acme.com "])
    assert result.exit_code == 0, result.output
    assert "erased 3 submission(s), 1 lead(s)" in result.output

    stored = everything_stored(app)
    for secret in ("jane.doe@acme.com", "janelle", "doerington", "555 0199", "203.0.113.77", "jane.doe%40"):
        assert secret not in stored, secret
    assert "sam@hooli.com" in stored  # someone else's data is untouched

    db_session.expire_all()
    after = {
        row.id: (row.form_id, row.status, row.verdict, row.stage, row.reason_category)
        for row in db_session.scalars(select(Submission))
    }
    assert after == before  # the dashboard counts exactly what it counted before
    lead = db_session.get(Lead, lead_before.id)
    assert (lead.stage, lead.score) == (stage, score)
    assert lead.erased_at is not None and lead.email.endswith("@erased.invalid")
    assert lead.first_name == lead.company == lead.phone == ""
    erased = db_session.scalars(select(Submission).where(Submission.erased_at.is_not(None))).all()
    assert len(erased) == 3
    assert all(s.raw == {} and s.answers == {} and s.ip is None and s.message == "" for s in erased)
    deliveries = db_session.scalars(select(Delivery).join(Submission).where(Submission.erased_at.is_not(None))).all()
    assert deliveries and all(d.payload == {"erased": True} for d in deliveries)
    assert all(
        a.response_excerpt == ""
        for a in db_session.scalars(select(DeliveryAttempt)).all()
        if a.delivery_id in {d.id for d in deliveries}
    )

    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased")).all()
    assert event.actor == "cli" and event.details["email_sha256"] == email_hash(PERSON)
    assert event.details["found"] is True and event.details["submissions"] == 3


def test_erase_twice_is_harmless_and_the_second_finds_nothing(app, person_with_history):
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["erase", PERSON]).exit_code == 0
    again = runner.invoke(cli, ["erase", PERSON])
    assert again.exit_code == 1 and "no personal data found" in again.output


def test_erase_of_an_unknown_address_fails_changes_nothing_and_is_audited(app, client, db_session):
    submit(client, "newsletter")
    result = app.test_cli_runner().invoke(cli, ["erase", "nobody@nowhere.example"])
    assert result.exit_code == 1
    assert "no personal data found" in result.output
    assert db_session.scalars(select(Submission)).one().email == "sam@hooli.com"
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased")).all()
    assert event.details["found"] is False
    assert "nobody@nowhere.example" not in repr(event.details)


@pytest.mark.parametrize("value", ["", "not-an-address", "@acme.com", "jane@", "jane doe@acme.com"])
def test_erase_refuses_what_is_not_an_address(app, db_session, value):
    with pytest.raises(InvalidEmail):
        erase_person(db_session, email=value, actor="test")
        db_session.commit()
    result = app.test_cli_runner().invoke(cli, ["erase", value])
    assert result.exit_code != 0 and "not an e-mail address" in result.output


def test_pending_deliveries_of_an_erased_person_are_never_sent(app, client, db_session, run_worker):
    with app.app_context(), session_scope() as session:
        session.add(Destination(name="crm", kind="webhook", target="http://127.0.0.1:9/hook", secret="s"))
        session.commit()
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    submit(client, "request-demo")
    redis = Redis.from_url(app.config["REDIS_URL"])
    # Screen only: the delivery exists, pending, when the person is erased.
    from rq import Queue as RQQueue
    from rq import SimpleWorker

    with app.app_context():
        # A demo request is screened in the sales lane (app/runtime/queues.py).
        SimpleWorker([RQQueue("screening-sales", connection=redis)], connection=redis).work(burst=True)
    assert db_session.scalars(select(Delivery)).one().status == "pending"
    erase_person(db_session, email="li@initech.com", actor="test")
    db_session.commit()
    run_worker()
    db_session.expire_all()
    delivery = db_session.scalars(select(Delivery)).one()
    assert delivery.status == "erased" and delivery.attempts == 0


@pytest.fixture
def outbox_mail(app, client, run_worker):
    """Jane and Sam each forwarded to an e-mail destination; no SMTP_URL, so both sit in the outbox."""
    outbox = outbox_dir(app.config["SMTP_URL"])
    assert outbox is not None  # the development default: a file:// outbox under the instance
    with app.app_context(), session_scope() as session:
        session.add(Destination(name="sales inbox", kind="email", target="sales@example.com"))
        session.commit()
    submit(client, "request-demo", email=PERSON, first_name="Janelle", last_name="Doerington")
    submit(client, "newsletter", ip="198.51.100.5", email="sam@hooli.com")
    run_worker()
    files = sorted(outbox.glob("lead-*.eml"))
    assert len(files) == 2 and any("jane.doe@acme.com" in f.read_text().lower() for f in files)
    return outbox


def test_erase_removes_the_persons_e_mails_from_the_file_outbox(app, db_session, outbox_mail):
    result = app.test_cli_runner().invoke(cli, ["erase", PERSON])
    assert result.exit_code == 0, result.output
    [left] = outbox_mail.glob("lead-*.eml")
    kept = left.read_text().lower()
    assert "sam@hooli.com" in kept and "jane.doe@acme.com" not in kept and "doerington" not in kept
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased")).all()
    assert event.details["outbox_files"] == 1


def test_erase_leaves_files_alone_when_smtp_url_is_not_a_file_outbox(db_session, outbox_mail):
    report = erase_person(db_session, email=PERSON, actor="test", smtp_url="smtp://mail.example:25")
    db_session.commit()
    assert report.submissions == 1 and report.outbox_files == 0
    assert len(list(outbox_mail.glob("lead-*.eml"))) == 2


# --- the admin action ------------------------------------------------------------------------------


@pytest.fixture
def people(app):
    with app.app_context(), session_scope() as session:
        set_user(session, email="admin@example.com", password="admin password here", role="admin")
        session.commit()
        set_user(session, email="rita@example.com", password="reviewer password", role="reviewer")
        session.commit()


def lead_id_of(db_session, email):
    return db_session.scalars(select(Lead.id).where(Lead.email == email)).one()


def test_admin_erases_from_the_lead_page(app, client, db_session, person_with_history, people):
    sign_in(client, "admin@example.com", "admin password here")
    lead_id = lead_id_of(db_session, "jane.doe@acme.com")
    page = client.get(f"/admin/leads/{lead_id}").get_data(as_text=True)
    assert "Erase personal data" in page
    token = csrf_from(page)

    wrong = client.post(f"/admin/leads/{lead_id}/erase", data={"csrf_token": token, "confirm_email": "sam@hooli.com"})
    assert wrong.status_code == 302
    db_session.expire_all()
    assert db_session.get(Lead, lead_id).erased_at is None

    done = client.post(
        f"/admin/leads/{lead_id}/erase", data={"csrf_token": token, "confirm_email": PERSON}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "Personal data erased: 3 submission(s)" in done.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Lead, lead_id).erased_at is not None
    assert "jane.doe@acme.com" not in everything_stored(app)
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased")).one()
    assert event.actor == "admin@example.com"
    assert "Erase personal data</button>" not in client.get(f"/admin/leads/{lead_id}").get_data(as_text=True)


def test_reviewers_cannot_erase(app, client, db_session, person_with_history, people):
    sign_in(client, "rita@example.com", "reviewer password")
    lead_id = lead_id_of(db_session, "jane.doe@acme.com")
    page = client.get(f"/admin/leads/{lead_id}").get_data(as_text=True)
    assert "Erase personal data</button>" not in page
    response = client.post(
        f"/admin/leads/{lead_id}/erase", data={"csrf_token": csrf_from(page), "confirm_email": PERSON}
    )
    assert response.status_code == 403
    db_session.expire_all()
    assert db_session.get(Lead, lead_id).erased_at is None


def test_erase_needs_a_csrf_token_and_a_login(app, client, db_session, person_with_history, people):
    lead_id = lead_id_of(db_session, "jane.doe@acme.com")
    anonymous = client.post(f"/admin/leads/{lead_id}/erase", data={"confirm_email": PERSON})
    assert anonymous.status_code == 400  # CSRF protection answers before the login check
    sign_in(client, "admin@example.com", "admin password here")
    forged = client.post(f"/admin/leads/{lead_id}/erase", data={"confirm_email": PERSON})
    assert forged.status_code == 400
    db_session.expire_all()
    assert db_session.get(Lead, lead_id).erased_at is None


def rejected_only(client, db_session, email="rex@globex.com"):
    """A person whose only submission a reviewer rejected: no lead, so no lead page."""
    submission_id = submit(
        client, "contact-sales", ip="192.0.2.44", email=email, first_name="Rexford", message="Rexford here, call me"
    )
    row = db_session.get(Submission, submission_id)
    row.status, row.verdict, row.reason_category = "screened", "rejected", "spam"
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 0
    return submission_id


def test_admin_erases_a_rejected_only_person_from_the_submission_page(app, client, db_session, people):
    submission_id = rejected_only(client, db_session)
    submit(client, "newsletter", ip="198.51.100.5", email="sam@hooli.com")
    sign_in(client, "admin@example.com", "admin password here")
    url = f"/admin/submissions/{submission_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Erase personal data</button>" in page
    token = csrf_from(page)

    forged = client.post(f"{url}/erase", data={"confirm_email": "rex@globex.com"})
    assert forged.status_code == 400
    wrong = client.post(
        f"{url}/erase", data={"csrf_token": token, "confirm_email": "sam@hooli.com"}, follow_redirects=True
    )
    assert "does not match" in wrong.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Submission, submission_id).erased_at is None

    done = client.post(
        f"{url}/erase", data={"csrf_token": token, "confirm_email": " Rex@Globex.com "}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "Personal data erased: 1 submission(s)" in done.get_data(as_text=True)
    db_session.expire_all()
    erased = db_session.get(Submission, submission_id)
    assert erased.erased_at is not None and erased.verdict == "rejected"
    stored = everything_stored(app)
    assert "rex@globex.com" not in stored and "rexford" not in stored and "192.0.2.44" not in stored
    assert "sam@hooli.com" in stored
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased")).one()
    assert event.actor == "admin@example.com" and event.details["email_sha256"] == email_hash("rex@globex.com")
    assert "Erase personal data</button>" not in client.get(url).get_data(as_text=True)


def test_reviewers_cannot_erase_from_the_submission_page(app, client, db_session, people):
    submission_id = rejected_only(client, db_session)
    sign_in(client, "rita@example.com", "reviewer password")
    page = client.get(f"/admin/submissions/{submission_id}").get_data(as_text=True)
    assert "Erase personal data</button>" not in page
    response = client.post(
        f"/admin/submissions/{submission_id}/erase",
        data={"csrf_token": csrf_from(page), "confirm_email": "rex@globex.com"},
    )
    assert response.status_code == 403
    db_session.expire_all()
    assert db_session.get(Submission, submission_id).erased_at is None


# --- retention --------------------------------------------------------------------------------------


def age(db_session, submission_id, days, verdict):
    row = db_session.get(Submission, submission_id)
    row.status, row.verdict, row.received_at = "screened", verdict, utcnow() - timedelta(days=days)
    db_session.commit()


@pytest.fixture
def aged(client, db_session):
    """An old rejected, a recent rejected, an old accepted and an old held submission."""
    ids = {
        name: submit(client, "newsletter", email=f"{name}@hooli.com")
        for name in ("old_rejected", "new_rejected", "old_accepted", "old_held")
    }
    age(db_session, ids["old_rejected"], 40, "rejected")
    db_session.add(
        Finding(submission_id=ids["old_rejected"], code="spam.links", category="spam", weight=50, evidence="3 links")
    )
    db_session.commit()
    age(db_session, ids["new_rejected"], 5, "rejected")
    age(db_session, ids["old_accepted"], 400, "accepted")
    age(db_session, ids["old_held"], 400, "held")
    return ids


def remaining(db_session):
    db_session.expire_all()
    return {email.split("@")[0] for email in db_session.scalars(select(Submission.email))}


def test_purge_command_removes_only_old_rejected_submissions(app, db_session, aged):
    app.config["RETENTION_REJECTED_DAYS"] = 30
    result = app.test_cli_runner().invoke(cli, ["purge"])
    assert result.exit_code == 0 and "purged 1 rejected submission(s)" in result.output
    assert remaining(db_session) == {"new_rejected", "old_accepted", "old_held"}
    assert db_session.scalar(select(func.count()).select_from(Finding)) == 0
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.purged")).one()
    assert event.details["deleted"] == 1 and event.actor == "cli"


def test_retention_off_by_default(app, db_session, aged):
    result = app.test_cli_runner().invoke(cli, ["purge"])
    assert result.exit_code == 0 and "retention is off" in result.output
    assert purge_rejected(db_session, older_than_days=0, actor="test") == 0
    assert len(remaining(db_session)) == 4


def test_purge_days_option_overrides_the_setting(app, db_session, aged):
    result = app.test_cli_runner().invoke(cli, ["purge", "--days", "3"])
    assert "purged 2 rejected submission(s)" in result.output
    assert remaining(db_session) == {"old_accepted", "old_held"}


def test_the_worker_sweeper_runs_retention_once_per_period(app, db_session, aged):
    from worker import Sweeper

    app.config["RETENTION_REJECTED_DAYS"] = 30
    redis = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        Sweeper(app, interval=60, older_than=120).retain()
    assert remaining(db_session) == {"new_rejected", "old_accepted", "old_held"}
    newer = db_session.scalars(select(Submission.id).where(Submission.email == "new_rejected@hooli.com")).one()
    age(db_session, newer, 40, "rejected")
    # Another worker, same hour: the lock in Redis says it already ran.
    with app.app_context(), session_scope() as session:
        assert purge_if_due(session, redis, older_than_days=30) is None
    assert "new_rejected" in remaining(db_session)
    redis.delete("leadsieve:retention:last-run")  # an hour later
    with app.app_context(), session_scope() as session:
        assert purge_if_due(session, redis, older_than_days=30) == 1


# --- IP truncation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "truncated"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("10.1.2.3", "10.1.2.0"),
        ("2001:db8:abcd:12:34::1", "2001:db8:abcd::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
        (None, None),
        ("", None),
        ("not an ip", None),
    ],
)
def test_truncate_ip(ip, truncated):
    assert truncate_ip(ip) == truncated


@pytest.mark.parametrize(
    ("setting", "remote", "stored"),
    [
        (False, "203.0.113.77", "203.0.113.77"),
        (True, "203.0.113.77", "203.0.113.0"),
        (True, "2001:db8:abcd:12::1", "2001:db8:abcd::"),
    ],
)
def test_ip_truncation_at_capture(app, client, db_session, setting, remote, stored):
    app.config["IP_TRUNCATE"] = setting
    response = client.post("/f/newsletter", json=valid_fields("newsletter"), environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 202
    assert db_session.get(Submission, response.get_json()["id"]).ip == stored
