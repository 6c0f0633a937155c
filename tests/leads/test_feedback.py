"""The sales feedback loop: signed link (page and API), forged and expired links refused."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from app.forwarding.routing import FEEDBACK_SALT, feedback_token
from app.models import AuditEvent, Lead, LeadFeedback


@pytest.fixture
def lead(db_session):
    lead = Lead(email="li@initech.com", stage="SQL", first_name="Li", company="<b>Initech</b>")
    db_session.add(lead)
    db_session.commit()
    return lead


def test_feedback_page_shows_lead_and_records_outcome(app, client, db_session, lead):
    token = feedback_token(app.config["SECRET_KEY"], lead.id)
    page = client.get(f"/feedback/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "li@initech.com" in html and "&lt;b&gt;Initech" in html
    response = client.post(f"/feedback/{token}", data={"outcome": "won", "note": "signed 40 seats"})
    assert response.status_code == 200 and "recorded as <strong>Won</strong>" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).outcome == "won"
    assert db_session.scalars(select(LeadFeedback.note)).one() == "signed 40 seats"


def test_feedback_api_and_spam_flags_the_domain(app, client, db_session, lead):
    token = feedback_token(app.config["SECRET_KEY"], lead.id)
    response = client.post(f"/api/feedback/{token}", json={"outcome": "spam"})
    assert response.status_code == 200 and response.get_json() == {"lead_id": lead.id, "outcome": "spam"}
    review = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "domain.review_suggested")).one()
    assert review.details["domain"] == "initech.com"


@pytest.mark.parametrize("body", [{"outcome": "maybe"}, {}, None])
def test_feedback_api_rejects_unknown_outcomes(app, client, lead, body):
    token = feedback_token(app.config["SECRET_KEY"], lead.id)
    response = (
        client.post(f"/api/feedback/{token}", json=body)
        if body is not None
        else client.post(f"/api/feedback/{token}", data="x", content_type="application/json")
    )
    assert response.status_code == 400
    assert "outcome" in response.get_json()["fields"]


def test_forged_link_is_refused(app, client, db_session, lead):
    forged = feedback_token("someone-elses-key", lead.id)
    assert client.get(f"/feedback/{forged}").status_code == 403
    response = client.post(f"/api/feedback/{forged}", json={"outcome": "won"})
    assert response.status_code == 403 and "not valid" in response.get_json()["message"]
    assert db_session.scalars(select(LeadFeedback)).all() == []


def test_expired_link_is_refused(app, client, db_session, lead):
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=FEEDBACK_SALT)
    signer = serializer.make_signer()
    old_time = int(time.time()) - app.config["FEEDBACK_LINK_MAX_AGE"] - 10
    signer.get_timestamp = lambda: old_time  # type: ignore[method-assign]
    payload = serializer.dump_payload({"lead": lead.id})
    expired = signer.sign(payload).decode()
    page = client.post(f"/feedback/{expired}", data={"outcome": "won"})
    assert page.status_code == 403 and "expired" in page.get_data(as_text=True)
    assert db_session.scalars(select(LeadFeedback)).all() == []


def test_link_for_a_missing_lead_is_404(app, client):
    assert client.get(f"/feedback/{feedback_token(app.config['SECRET_KEY'], 99999)}").status_code == 404
