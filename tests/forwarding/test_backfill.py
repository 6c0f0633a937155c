"""A destination added later can be sent the leads that already existed: counted first, each lead once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Delivery, Destination, Form, Lead, Submission


@pytest.fixture
def settings(settings):
    settings["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    return settings


def lead(session, email, *, stage="SQL", slug="request-demo", verdict="accepted", submissions=1):
    form = session.scalars(select(Form).where(Form.slug == slug)).one()
    person = Lead(email=email, stage=stage)
    session.add(person)
    session.flush()
    for _ in range(submissions):
        session.add(Submission(form_id=form.id, email=email, status="screened", verdict=verdict, lead_id=person.id))
    session.commit()
    return person.id


def token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_existing_leads_matching_the_rule_are_counted_then_sent_once(admin, db_session, run_worker, http_receiver):
    sql = lead(db_session, "li@initech.com", submissions=2)  # two fills: sent once, with the latest
    lead(db_session, "jo@acme.com", stage="MQL")  # the rule says SQL only
    lead(db_session, "bo@hooli.com", slug="newsletter")  # the rule names the demo form only
    destination = Destination(
        name="CRM", kind="webhook", target=http_receiver.url(), secret="s", stages=["SQL"], forms=["request-demo"]
    )
    db_session.add(destination)
    db_session.commit()

    page = admin.get(f"/admin/destinations/{destination.id}/send-existing").get_data(as_text=True)
    assert "<strong>1</strong> lead(s) match" in page
    assert admin.post(f"/admin/destinations/{destination.id}/send-existing").status_code == 400  # no CSRF token
    response = admin.post(f"/admin/destinations/{destination.id}/send-existing", data={"csrf_token": token(page)})
    assert response.status_code == 302
    run_worker()

    [body] = [r.json() for r in http_receiver.requests]
    assert body["lead_id"] == sql and body["email"] == "li@initech.com"
    latest = db_session.scalars(select(Submission.id).where(Submission.lead_id == sql).order_by(Submission.id)).all()
    assert body["submission_id"] == latest[-1] and "/feedback/" in body["feedback_url"]
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "destination.backfilled")).one()
    assert audit.details == {"leads": 1} and audit.actor == "anna@example.com"

    again = admin.get(f"/admin/destinations/{destination.id}/send-existing").get_data(as_text=True)
    assert "No existing lead matches" in again  # never twice to the same destination
    admin.post(f"/admin/destinations/{destination.id}/send-existing", data={"csrf_token": token(page)})
    assert len(db_session.scalars(select(Delivery).where(Delivery.destination_id == destination.id)).all()) == 1


def test_reviewers_cannot_send_existing_leads(client, app, db_session):
    from app.accounts.users import set_user
    from app.db import session_scope

    with app.app_context(), session_scope() as session:
        set_user(session, email="rita@example.com", password="reviewer password", role="reviewer")
        session.commit()
    page = client.get("/admin/login").get_data(as_text=True)
    client.post(
        "/admin/login", data={"email": "rita@example.com", "password": "reviewer password", "csrf_token": token(page)}
    )
    db_session.add(Destination(name="CRM", kind="webhook", target="https://example.com/h", secret="s"))
    db_session.commit()
    assert client.get("/admin/destinations/1/send-existing").status_code == 403
