"""The feedback loop closed: each outcome moves the stage (audited), the CRM API with scoped tokens, and the
downstream effects on the person's later fills (journeys through the real worker)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.cli import cli
from app.db import session_scope
from app.forwarding.routing import feedback_token
from app.leads.api_tokens import create_token
from app.models import ApiToken, AuditEvent, Delivery, Destination, Lead, LeadFeedback, StageChange, Submission
from tests.helpers import valid_fields


def submit(client, slug, **fields):
    response = client.post(f"/f/{slug}", json=valid_fields(slug, **fields))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def lead(db_session):
    lead = Lead(email="li@initech.com", stage="SQL", first_name="Li")
    db_session.add(lead)
    db_session.commit()
    return lead


def post_link(app, client, lead_id, **data):
    return client.post(f"/feedback/{feedback_token(app.config['SECRET_KEY'], lead_id)}", data=data)


@pytest.mark.parametrize(
    ("outcome", "stage"),
    [
        ("accepted", "SAL"),
        ("meeting_held", "opportunity"),
        ("won", "customer"),
        ("already_customer", "customer"),
        ("not_a_fit", "disqualified"),
        ("spam", "disqualified"),
        ("duplicate", "disqualified"),
        ("bad_timing", "recycled"),
        ("no_budget", "recycled"),
        ("lost", "recycled"),
    ],
)
def test_each_outcome_moves_the_stage_with_a_reason(app, client, db_session, lead, outcome, stage):
    assert post_link(app, client, lead.id, outcome=outcome, note="spoke to Li").status_code == 200
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).stage == stage
    change = db_session.scalars(select(StageChange)).one()
    assert (change.from_stage, change.to_stage, change.actor) == ("SQL", stage, "feedback link")
    assert "sales feedback" in change.reason and "spoke to Li" in change.reason
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.feedback")).one()
    assert audit.details["to_stage"] == stage


def test_contacted_stops_the_clock_once_and_keeps_the_stage(app, client, db_session, lead):
    post_link(app, client, lead.id, outcome="contacted")
    db_session.expire_all()
    first = db_session.get(Lead, lead.id).first_touch_at
    assert first is not None and db_session.get(Lead, lead.id).stage == "SQL"
    post_link(app, client, lead.id, outcome="contacted")
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).first_touch_at == first
    # Reusing the link is allowed and every use is recorded.
    assert db_session.scalars(select(LeadFeedback.outcome)).all() == ["contacted", "contacted"]


def test_bad_timing_keeps_the_revisit_date(app, client, db_session, lead):
    response = post_link(app, client, lead.id, outcome="bad_timing", revisit_on="2027-03-01")
    assert response.status_code == 200 and "2027-03-01" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).revisit_on == date(2027, 3, 1)
    assert post_link(app, client, lead.id, outcome="no_budget", revisit_on="soon").status_code == 400


def test_a_late_accepted_does_not_undo_a_won_deal(app, client, db_session, lead):
    post_link(app, client, lead.id, outcome="won")
    post_link(app, client, lead.id, outcome="accepted")
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).stage == "customer"


def make_token(app, scope="feedback"):
    with app.app_context(), session_scope() as session:
        _, token = create_token(session, name="crm", scope=scope, actor="test")
        session.commit()
    return token


def test_feedback_api_needs_a_feedback_token(app, client, db_session, lead):
    body = {"email": "LI@initech.com", "outcome": "rejected", "reason": "not_a_fit", "note": "student"}
    assert client.post("/api/leads/feedback", json=body).status_code == 401
    assert client.post("/api/leads/feedback", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    with app.app_context(), session_scope() as session:
        session.add(ApiToken(name="other", scope="reports", token_hash=__import__("hashlib").sha256(b"x").hexdigest()))
        session.commit()
    assert client.post("/api/leads/feedback", json=body, headers={"Authorization": "Bearer x"}).status_code == 403
    assert db_session.scalars(select(LeadFeedback)).all() == []
    token = make_token(app)
    response = client.post("/api/leads/feedback", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"lead_id": lead.id, "outcome": "not_a_fit", "stage": "disqualified"}
    by_id = {"lead_id": lead.id, "outcome": "contacted"}
    assert (
        client.post("/api/leads/feedback", json=by_id, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    missing = {"lead_id": 99999, "outcome": "won"}
    assert (
        client.post("/api/leads/feedback", json=missing, headers={"Authorization": f"Bearer {token}"}).status_code
        == 404
    )
    db_session.expire_all()
    assert db_session.scalars(select(ApiToken).where(ApiToken.scope == "feedback")).one().last_used_at is not None


def test_tokens_create_prints_the_token_once(app):
    result = app.test_cli_runner().invoke(cli, ["tokens", "create", "--scope", "feedback", "--name", "hubspot"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with app.app_context(), session_scope() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.scope == "feedback" and token not in row.token_hash


# --- Journeys through the worker ------------------------------------------------------------------------


def add_destinations(app, *destinations):
    with app.app_context(), session_scope() as session:
        session.add_all(destinations)
        session.commit()
    app.config["DELIVERY_BACKOFF"] = []


def deliveries_to(db_session, name):
    return db_session.scalars(
        select(Delivery)
        .join(Destination, Destination.id == Delivery.destination_id)
        .where(Destination.name == name)
        .order_by(Delivery.id)
    ).all()


def test_not_a_fit_then_a_new_fill_is_no_new_sql_event(app, client, db_session, run_worker):
    add_destinations(
        app,
        Destination(name="sales", kind="webhook", target="http://127.0.0.1:9/a", stages=["SQL"]),
        Destination(name="all", kind="webhook", target="http://127.0.0.1:9/b"),
        Destination(name="nurture", kind="webhook", target="http://127.0.0.1:9/c", stages=["MQL"]),
    )
    submit(client, "request-demo")
    run_worker()
    lead = db_session.scalars(select(Lead)).one()
    assert lead.stage == "SQL" and len(deliveries_to(db_session, "sales")) == 1
    assert post_link(app, client, lead.id, outcome="not_a_fit").status_code == 200
    submit(client, "contact-sales", email="li@initech.com", message="Pricing for 12 seats please")
    run_worker()
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).stage == "disqualified"
    assert len(deliveries_to(db_session, "sales")) == 1  # no second hand-off
    assert len(deliveries_to(db_session, "all")) == 1  # a destination that takes SQLs is not marketing
    [update] = deliveries_to(db_session, "nurture")  # marketing hears of the update
    assert update.payload["type"] == "lead.updated" and update.payload["stage"] == "disqualified"


def test_recycled_lead_qualifying_again_is_an_sql_again(app, client, db_session, run_worker):
    add_destinations(app, Destination(name="sales", kind="webhook", target="http://127.0.0.1:9/a", stages=["SQL"]))
    submit(client, "request-demo")
    run_worker()
    lead = db_session.scalars(select(Lead)).one()
    post_link(app, client, lead.id, outcome="bad_timing", revisit_on="2027-01-15")
    submit(client, "whitepaper-lead-quality", email="li@initech.com")
    run_worker()
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).stage == "recycled"
    submit(client, "contact-sales", email="li@initech.com", message="Budget approved, let's talk")
    run_worker()
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).stage == "SQL"
    assert "qualified again after recycling" in db_session.get(Lead, lead.id).stage_reason
    assert len(deliveries_to(db_session, "sales")) == 2


def test_spam_feedback_holds_the_next_submission(app, client, db_session, run_worker):
    submit(client, "whitepaper-lead-quality", email="Jane.Doe+x@gmail.com")
    run_worker()
    lead = db_session.scalars(select(Lead)).one()
    assert post_link(app, client, lead.id, outcome="spam").status_code == 200
    later = submit(client, "webinar-pipeline-live", email="janedoe@gmail.com")
    run_worker()
    db_session.expire_all()
    held = db_session.get(Submission, later)
    assert held.verdict == "held", [(f.code, f.weight) for f in held.findings]
    assert "feedback.spam" in {f.code for f in held.findings}
    # A later other outcome lifts the hold.
    post_link(app, client, lead.id, outcome="contacted")
    again = submit(client, "newsletter", email="janedoe@gmail.com")
    run_worker()
    db_session.expire_all()
    assert db_session.get(Submission, again).verdict == "accepted"


def test_won_customer_newsletter_fill_is_no_sql_alert(app, client, db_session, run_worker, http_receiver):
    add_destinations(
        app,
        Destination(name="slack", kind="slack", target=http_receiver.url("/slack")),
        Destination(name="hook", kind="webhook", target=http_receiver.url("/hook")),
    )
    submit(client, "request-demo")
    run_worker()
    lead = db_session.scalars(select(Lead)).one()
    assert [d.payload["type"] for d in deliveries_to(db_session, "slack")] == ["lead.created"]
    post_link(app, client, lead.id, outcome="won")
    submit(client, "newsletter", email="li@initech.com")
    run_worker()
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).stage == "customer"
    assert len(deliveries_to(db_session, "slack")) == 1  # no alert for a customer's newsletter fill
    hooks = deliveries_to(db_session, "hook")
    assert [(d.payload["type"], d.payload["stage"]) for d in hooks] == [
        ("lead.created", "SQL"),
        ("lead.updated", "customer"),
    ]
