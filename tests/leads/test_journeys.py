"""Journeys over HTTP and the admin with a real worker and real receivers: events a routing rule chooses
(sales feedback among them), alerts on promotion to SQL only, a recycled lead's revisit date, a reviewer
approving a held submission as recycled or disqualified, and the loop reported per form and source.

The other examples of issue 12 are journeys elsewhere: tests/leads/test_qualification.py (the Analyst's demo
request, four whitepapers, a double click, a reviewer's MQL), tests/leads/test_feedback_loop.py (not a
fit, spam, won then the newsletter), tests/leads/test_owners.py (an SLA breach's one alert event) and
tests/leads/test_rescore.py (rules changed in the admin re-score leads)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.actions import revisit_due_leads
from app.db import session_scope
from app.forwarding.destinations import create_destination
from app.forwarding.routing import feedback_token
from app.leads.api_tokens import create_token
from app.models import Destination, Form, Lead, ListEntry, StageChange, Submission
from app.runtime.sweeper import run_sweep
from app.screening_context.lists import add_list_entry
from tests.helpers import csrf_from, valid_fields
from tests.receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def settings(settings: dict[str, Any], smtp_server: SmtpReceiver) -> dict[str, Any]:
    """Loopback destinations allowed, lead e-mails to the SMTP receiver, a failed delivery not retried."""
    settings.update(
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
        DELIVERY_BACKOFF=[],
        DELIVERY_TIMEOUT_SECONDS=2.0,
        SMTP_URL=smtp_server.url,
    )
    return settings


def submit(client, slug: str, **fields: Any) -> int:
    response = client.post(f"/f/{slug}", json=valid_fields(slug, **fields))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def add(app, **fields: Any) -> int:
    """A destination made by the service the admin page calls (the page itself is tested below)."""
    with app.app_context(), session_scope() as session:
        row = create_destination(session, actor="test", allowed_private=["127.0.0.1"], **fields)
        session.commit()
        return row.id


def received(receiver: HttpReceiver, path: str) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.effective if r.path == path]


def types(receiver: HttpReceiver, path: str) -> list[str]:
    return [body["type"] for body in received(receiver, path)]


def the_lead(db_session, email: str = "li@initech.com") -> Lead:
    db_session.expire_all()
    return db_session.scalars(select(Lead).where(Lead.email == email)).one()


def link(app, lead_id: int) -> str:
    return f"/feedback/{feedback_token(app.config['SECRET_KEY'], lead_id)}"


# --- A routing rule chooses events ------------------------------------------------------------------


def editor_post(admin, url: str, **fields: Any):
    token = csrf_from(admin.get(url).get_data(as_text=True))
    return admin.post(url, data={"csrf_token": token, **fields})


def test_the_destination_editor_chooses_events_and_the_rule_is_followed(
    app, admin, client, db_session, run_worker, http_receiver
):
    response = editor_post(
        admin,
        "/admin/destinations",
        kind="webhook",
        name="moves",
        target=http_receiver.url("/moves"),
        events=["lead.stage_changed"],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    row = db_session.scalars(select(Destination)).one()
    assert row.events == ["lead.stage_changed"]
    assert "lead.stage_changed" in admin.get("/admin/destinations").get_data(as_text=True)

    submit(client, "newsletter", email="li@initech.com")  # lead.created (a prospect): not chosen
    run_worker()
    submit(client, "whitepaper-lead-quality", email="li@initech.com")  # prospect -> MQL
    run_worker()
    submit(client, "webinar-pipeline-live", email="li@initech.com")  # still MQL: lead.updated
    run_worker()
    assert [(b["type"], b["stage"]) for b in received(http_receiver, "/moves")] == [("lead.stage_changed", "MQL")]

    # The edit page shows the choice; emptying it restores the kind's default (every fill's event).
    url = f"/admin/destinations/{row.id}/edit"
    page = admin.get(url).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="lead.stage_changed"', page)
    assert not re.search(r'<input checked[^>]*value="lead.created"', page)
    assert editor_post(admin, url, name="moves", target=http_receiver.url("/moves"), active="y").status_code == 302
    db_session.expire_all()
    assert db_session.get(Destination, row.id).events == []
    submit(client, "contact-sales", email="li@initech.com")  # MQL -> SQL
    run_worker()
    assert types(http_receiver, "/moves") == ["lead.stage_changed", "lead.stage_changed"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "webhook", "events": ["lead.deleted"]}, "is not a valid choice"),
        ({"kind": "salesforce", "oid": "00D000000000001", "events": ["lead.feedback"]}, "would file the lead again"),
    ],
    ids=["unknown-event", "feedback-to-web-to-lead"],
)
def test_the_editor_refuses_events_a_destination_cannot_take(admin, db_session, http_receiver, fields, message):
    response = editor_post(admin, "/admin/destinations", name="x", target=http_receiver.url("/x"), **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db_session.scalars(select(Destination)).all() == []


# --- lead.feedback -----------------------------------------------------------------------------------


def test_sales_feedback_is_an_event_for_the_destinations_that_choose_it(
    app, client, db_session, run_worker, http_receiver
):
    every = ["lead.created", "lead.stage_changed", "lead.updated", "lead.feedback"]
    add(app, kind="webhook", name="crm", target=http_receiver.url("/crm"), stages=["SQL"], events=every)
    add(app, kind="webhook", name="nurture", target=http_receiver.url("/nurture"), stages=["MQL"], events=every)
    add(app, kind="webhook", name="archive", target=http_receiver.url("/archive"))  # default events
    submit(client, "request-demo")
    run_worker()
    lead = the_lead(db_session)
    assert lead.stage == "SQL"

    # Sales accepts from the signed link: the CRM that routes SQLs hears of it, with who said what.
    assert client.post(link(app, lead.id), data={"outcome": "accepted", "note": "good call"}).status_code == 200
    run_worker()
    [accepted] = [b for b in received(http_receiver, "/crm") if b["type"] == "lead.feedback"]
    assert accepted["feedback"] == {
        "outcome": "accepted",
        "label": "Accepted",
        "note": "good call",
        "source": "feedback link",
        "from_stage": "SQL",
        "to_stage": "SAL",
        "revisit_on": None,
        "at": accepted["feedback"]["at"],
    }
    assert accepted["stage"] == "SAL" and accepted["lead_id"] == lead.id and accepted["id"].startswith("evt_")
    assert accepted["data"]["feedback"]["outcome"] == "accepted"

    # Later the CRM posts "no budget" through the API: a recycled lead is marketing's again.
    with app.app_context(), session_scope() as session:
        _, token = create_token(session, name="crm", scope="feedback", actor="test")
        session.commit()
    body = {"lead_id": lead.id, "outcome": "no_budget", "revisit_on": "2027-03-01"}
    response = client.post("/api/leads/feedback", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    run_worker()
    assert types(http_receiver, "/crm") == ["lead.created", "lead.feedback"]  # SAL -> recycled: not its stages
    [recycled] = received(http_receiver, "/nurture")  # the SQL itself never went to nurture
    assert recycled["type"] == "lead.feedback" and recycled["stage"] == "recycled"
    assert recycled["feedback"]["source"] == "api token crm" and recycled["feedback"]["revisit_on"] == "2027-03-01"
    assert types(http_receiver, "/archive") == ["lead.created"]  # feedback only to those that choose it
    ids = [b["id"] for b in received(http_receiver, "/crm")]
    assert len(set(ids)) == len(ids)


def test_a_feedback_event_is_sent_once_per_use_of_the_link(app, client, db_session, run_worker, http_receiver):
    add(
        app,
        kind="webhook",
        name="crm",
        target=http_receiver.url("/crm"),
        events=["lead.feedback"],
    )
    submit(client, "request-demo")
    run_worker()
    lead = the_lead(db_session)
    for _ in range(2):
        client.post(link(app, lead.id), data={"outcome": "contacted"})
    run_worker()
    run_worker()  # nothing left: each use was sent once
    events = received(http_receiver, "/crm")
    assert [b["feedback"]["outcome"] for b in events] == ["contacted", "contacted"]
    assert len({b["id"] for b in events}) == 2
    assert [r.key for r in http_receiver.requests if r.path == "/crm"] == [r.key for r in http_receiver.effective]


# --- Slack and e-mail alerts ------------------------------------------------------------------------


def mails_to(smtp: SmtpReceiver, address: str) -> list[Any]:
    """Messages to one destination's address (visitors get their own confirmations from the same server)."""
    return [m.message for m in smtp.messages if address in m.rcpt_tos]


def test_slack_and_email_alert_on_promotion_to_sql_not_on_every_fill(
    app, client, db_session, run_worker, http_receiver, smtp_receiver
):
    add(app, kind="slack", name="sales channel", target=http_receiver.url("/slack"), stages=["SQL"])
    add(app, kind="email", name="sales inbox", target="sales@example.com", stages=["SQL"])
    for slug in ("newsletter", "whitepaper-lead-quality", "webinar-pipeline-live"):  # prospect, MQL, MQL again
        submit(client, slug, email="li@initech.com", first_name="Li", last_name="Wei", company="Initech")
        run_worker()
    assert the_lead(db_session).stage == "MQL"
    assert received(http_receiver, "/slack") == [] and mails_to(smtp_receiver, "sales@example.com") == []

    submit(client, "request-demo")  # the promotion
    run_worker()
    assert the_lead(db_session).stage == "SQL"
    [alert] = received(http_receiver, "/slack")
    assert alert["text"].startswith("*SQL lead:* Li Wei")
    assert [m["Subject"] for m in mails_to(smtp_receiver, "sales@example.com")] == ["SQL lead: Li Wei (Initech)"]

    # More fills by the SQL, and by the SAL sales made of it: updates, no second alert.
    submit(client, "contact-sales", email="li@initech.com", first_name="Li", company="Initech")
    run_worker()
    client.post(link(app, the_lead(db_session).id), data={"outcome": "accepted"})
    submit(client, "whitepaper-lead-quality", email="li@initech.com", first_name="Li", company="Initech")
    run_worker()
    assert the_lead(db_session).stage == "SAL"
    assert len(received(http_receiver, "/slack")) == 1 and len(mails_to(smtp_receiver, "sales@example.com")) == 1


def test_slack_and_email_that_choose_feedback_say_what_sales_said(
    app, client, db_session, run_worker, http_receiver, smtp_receiver
):
    add(app, kind="slack", name="marketing", target=http_receiver.url("/slack"), events=["lead.feedback"])
    add(app, kind="email", name="ops", target="ops@example.com", events=["lead.feedback"])
    submit(client, "request-demo")
    run_worker()
    lead = the_lead(db_session)
    client.post(link(app, lead.id), data={"outcome": "no_budget", "note": "<!channel> next year"})
    run_worker()
    [message] = received(http_receiver, "/slack")
    assert message["text"].startswith("*Sales feedback (Rejected: no budget):* Li Wei")
    assert "<!channel>" not in message["text"]
    [mail] = mails_to(smtp_receiver, "ops@example.com")
    assert mail["Subject"] == "Sales feedback (Rejected: no budget): Li Wei (Initech)"
    body = mail.get_body(("plain",)).get_content()
    assert "Sales feedback: Rejected: no budget" in body and "Sales note:     <!channel> next year" in body


# --- A recycled lead's revisit date ------------------------------------------------------------------


def revisit_on(app, day: date) -> int:
    with app.app_context(), session_scope() as session:
        return revisit_due_leads(session, today=day)


def test_a_recycled_lead_goes_back_to_nurture_on_its_revisit_date(app, client, db_session, run_worker, http_receiver):
    add(app, kind="webhook", name="sales", target=http_receiver.url("/sales"), stages=["SQL"])
    add(app, kind="webhook", name="nurture", target=http_receiver.url("/nurture"), stages=["MQL"])
    submit(client, "request-demo")
    run_worker()
    lead = the_lead(db_session)
    client.post(link(app, lead.id), data={"outcome": "bad_timing", "note": "call in March", "revisit_on": "2027-03-01"})
    run_worker()

    assert revisit_on(app, date(2027, 2, 28)) == 0
    assert the_lead(db_session).stage == "recycled"
    assert revisit_on(app, date(2027, 3, 1)) == 1
    run_worker()
    lead = the_lead(db_session)
    assert (lead.stage, lead.revisit_on, lead.stage_set_by) == ("MQL", None, "revisit date")
    assert lead.stage_reason.startswith("revisit date 2027-03-01 reached: back to nurture (recycled: sales feedback")
    assert "call in March" in lead.stage_reason
    change = db_session.scalars(select(StageChange).order_by(StageChange.id.desc())).first()
    assert (change.from_stage, change.to_stage, change.actor) == ("recycled", "MQL", "revisit date")
    [event] = received(http_receiver, "/nurture")
    assert (event["type"], event["stage"]) == ("lead.stage_changed", "MQL")
    assert event["stage_change"] == {"from_stage": "recycled", "to_stage": "MQL", "reason": lead.stage_reason}
    assert types(http_receiver, "/sales") == ["lead.created"]  # not handed to sales again
    assert revisit_on(app, date(2027, 3, 2)) == 0  # the date is used up: once

    submit(client, "contact-sales", email="li@initech.com", first_name="Li", company="Initech")  # asks again
    run_worker()
    assert the_lead(db_session).stage == "SQL"
    assert types(http_receiver, "/sales") == ["lead.created", "lead.stage_changed"]


def test_a_lead_recycled_before_it_was_an_mql_goes_back_as_a_prospect(app, client, db_session, run_worker):
    submit(client, "newsletter", email="sam@hooli.com")
    run_worker()
    lead = the_lead(db_session, "sam@hooli.com")
    assert lead.stage == "prospect"
    client.post(link(app, lead.id), data={"outcome": "no_budget", "revisit_on": "2027-01-10"})
    assert revisit_on(app, date(2027, 6, 1)) == 1  # a date long past is surfaced all the same
    assert the_lead(db_session, "sam@hooli.com").stage == "prospect"


def test_the_sweep_surfaces_revisits_due_today_and_leaves_other_leads_alone(app, client, db_session, run_worker):
    submit(client, "request-demo")
    submit(client, "whitepaper-lead-quality")
    run_worker()
    li, jane = the_lead(db_session), the_lead(db_session, "jane@acme.com")
    today = datetime.now(UTC).date()
    client.post(link(app, li.id), data={"outcome": "lost", "revisit_on": today.isoformat()})
    client.post(
        link(app, jane.id), data={"outcome": "bad_timing", "revisit_on": today.replace(year=today.year + 1).isoformat()}
    )
    with app.app_context(), session_scope() as session:
        result = run_sweep(session, older_than_seconds=60, dns_retry_after_seconds=60, dns_retry_limit=10)
    assert result.revisits == 1
    assert (the_lead(db_session).stage, the_lead(db_session, "jane@acme.com").stage) == ("MQL", "recycled")


# --- A reviewer approves a held submission as recycled or disqualified -----------------------------


def hold(app, client, run_worker, **fields: Any) -> int:
    """A demo request held by screening: its domain is on the competitor list (taken off once held)."""
    with app.app_context(), session_scope() as session:
        add_list_entry(session, kind="competitor_domain", value="initech.com", actor="test")
        session.commit()
    submission_id = submit(client, "request-demo", **fields)
    run_worker()
    with app.app_context(), session_scope() as session:
        assert session.get(Submission, submission_id).verdict == "held"
        for entry in session.scalars(select(ListEntry).where(ListEntry.kind == "competitor_domain")):
            session.delete(entry)
        session.commit()
    return submission_id


def approve_as(admin, submission_id: int, stage: str, note: str = ""):
    token = csrf_from(admin.get("/admin/").get_data(as_text=True))
    return admin.post(
        "/admin/decide",
        data={"csrf_token": token, "action": "approve", "ids": str(submission_id), "stage": stage, "note": note},
    )


@pytest.mark.parametrize("stage", ["recycled", "disqualified"])
def test_approving_a_held_demo_request_as_a_side_state_keeps_it_from_sales(
    app, admin, client, db_session, run_worker, http_receiver, stage
):
    add(app, kind="webhook", name="sales", target=http_receiver.url("/sales"), stages=["SQL"])
    add(app, kind="webhook", name="nurture", target=http_receiver.url("/nurture"), stages=["MQL"])
    add(app, kind="slack", name="sales channel", target=http_receiver.url("/slack"))
    submission_id = hold(app, client, run_worker)
    assert approve_as(admin, submission_id, stage, note="real person, not now").status_code == 302
    run_worker()
    lead = the_lead(db_session)
    assert (lead.stage, lead.stage_set_by) == (stage, "reviewer anna@example.com")
    assert lead.stage_reason == "set by reviewer anna@example.com: real person, not now"
    assert received(http_receiver, "/sales") == [] and received(http_receiver, "/slack") == []
    [nurture] = received(http_receiver, "/nurture")
    assert (nurture["type"], nurture["stage"]) == ("lead.created", stage)
    # A later fill does not undo the reviewer's choice nor reach sales.
    submit(client, "whitepaper-lead-quality", email="li@initech.com")
    run_worker()
    assert the_lead(db_session).stage == stage and received(http_receiver, "/sales") == []


def test_approving_as_a_side_state_a_submission_already_on_a_lead_moves_the_lead(app, admin, db_session):
    with app.app_context(), session_scope() as session:
        form = session.scalars(select(Form).where(Form.slug == "request-demo")).one()
        lead = Lead(email="li@initech.com", stage="SQL")
        session.add(lead)
        session.flush()
        # Held again after it had been classified (screened again with a newer list).
        session.add(Submission(form_id=form.id, email=lead.email, lead_id=lead.id, status="screened", verdict="held"))
        session.commit()
        submission_id = session.scalars(select(Submission.id)).one()
    assert approve_as(admin, submission_id, "recycled", note="budget next year").status_code == 302
    lead = the_lead(db_session)
    assert (lead.stage, lead.stage_set_by) == ("recycled", "anna@example.com")
    change = db_session.scalars(select(StageChange)).one()
    assert (change.from_stage, change.to_stage) == ("SQL", "recycled")
    # A funnel stage still only moves forward from the queue.
    with app.app_context(), session_scope() as session:
        session.get(Submission, submission_id).verdict = "held"
        session.get(Lead, lead.id).stage = "SQL"
        session.commit()
    approve_as(admin, submission_id, "MQL")
    assert the_lead(db_session).stage == "SQL"


# --- The loop reported -------------------------------------------------------------------------------

RISKY_SOURCE = '=HYPERLINK("http://evil.example","x")'


def loop_csv(admin) -> list[dict[str, str]]:
    response = admin.get("/admin/reporting.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def set_first_touch(app, email: str, minutes: int | None) -> None:
    """Sales' first contact `minutes` after the lead's hand-off (None: not yet), so the median is exact."""
    with app.app_context(), session_scope() as session:
        lead = session.scalars(select(Lead).where(Lead.email == email)).one()
        handed = session.scalars(
            select(StageChange.at).where(StageChange.lead_id == lead.id, StageChange.to_stage == "SQL")
        ).one()
        lead.first_touch_at = None if minutes is None else handed + timedelta(minutes=minutes)
        session.commit()


def test_the_loop_per_form_and_source_from_submission_to_won(app, admin, client, db_session, run_worker):
    people = [
        ("request-demo", "li@initech.com", "linkedin", ["contacted", "accepted", "won"], 10),
        ("request-demo", "ken@initech.com", "google", ["accepted"], 50),
        ("contact-sales", "ana@initech.com", "google", ["not_a_fit"], 30),
        ("contact-sales", "bo@initech.com", "google", ["spam"], None),
        ("whitepaper-lead-quality", "jane@acme.com", RISKY_SOURCE, [], None),
    ]
    for slug, email, source, _, _ in people:
        submit(client, slug, email=email, utm_source=source)
    submit(client, "whitepaper-lead-quality", email="li@initech.com", utm_source="linkedin")  # a second fill
    run_worker()
    for _, email, _, outcomes, minutes in people:
        lead = the_lead(db_session, email)
        for outcome in outcomes:
            assert client.post(link(app, lead.id), data={"outcome": outcome}).status_code == 200
        if outcomes:
            set_first_touch(app, email, minutes)
    assert anonymous_is_sent_to_login(app)

    before = loop_csv(admin)  # counted live: the sweep has not run yet
    with app.app_context(), session_scope() as session:
        run_sweep(session, older_than_seconds=60, dns_retry_after_seconds=60, dns_retry_limit=10)
    rows = loop_csv(admin)
    assert rows == before  # the rollups say what the live count said

    by = {(r["group"], r["name"]): r for r in rows}
    total = by[("total", "All")]
    assert [total[k] for k in ("Submissions", "Accepted", "Leads", "MQL", "SQL", "Accepted by sales (SAL)", "Won")] == [
        "6", "6", "5", "5", "4", "2", "1",
    ]  # fmt: skip
    assert (total["sales rejected"], total["rejected: not a fit"], total["rejected: spam"]) == ("2", "1", "1")
    assert (total["median seconds to first touch"], total["hand-offs touched"]) == ("1800", "3")
    google = by[("source", "google")]
    assert (google["Leads"], google["SQL"], google["Accepted by sales (SAL)"], google["sales rejected"]) == (
        "3", "3", "1", "2",
    )  # fmt: skip
    assert google["median seconds to first touch"] == "2400"  # 30 and 50 minutes
    assert by[("source", "linkedin")]["Submissions"] == "2" and by[("source", "linkedin")]["Won"] == "1"
    demo = by[("form", "Request a demo")]
    assert (demo["SQL"], demo["Accepted by sales (SAL)"], demo["median seconds to first touch"]) == ("2", "2", "1800")
    # A source a visitor typed is never a formula in the spreadsheet.
    assert ("source", "'" + RISKY_SOURCE) in by and ("source", RISKY_SOURCE) not in by

    page = admin.get("/admin/reporting").get_data(as_text=True)
    assert "The loop" in page and "Request a demo" in page and "30 min" in page
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in page  # shown escaped, as text


def anonymous_is_sent_to_login(app) -> bool:
    for url in ("/admin/reporting", "/admin/reporting.csv"):
        response = app.test_client().get(url)
        if response.status_code != 302 or "/admin/login" not in response.headers["Location"]:
            return False
    return True


def test_the_loop_for_a_period_without_leads_is_empty_not_an_error(admin):
    page = admin.get("/admin/reporting?since=2020-01-01&until=2020-01-31")
    assert page.status_code == 200 and "No submissions in this period." in page.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(admin.get("/admin/reporting.csv?since=2020-01-01").get_data(as_text=True))))
    assert rows[1][:3] == ["total", "All", "0"] and len(rows) == 2
    assert admin.get("/admin/reporting?since=not-a-date").status_code == 200  # falls back to the last 30 days
