"""The screening queue and spam folder: search, filter by form and reason, order, and local times."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from app.models import Destination, Finding, Form, Submission


def put(session, *, email, slug="request-demo", verdict="held", category="competitor", company="Rival Ltd", **extra):
    form = session.scalars(select(Form).where(Form.slug == slug)).one()
    submission = Submission(
        form_id=form.id, email=email, company=company, status="screened", verdict=verdict,
        reason_category=category, **extra,
    )  # fmt: skip
    session.add(submission)
    session.flush()
    session.add(Finding(submission_id=submission.id, code="x", category=category, weight=60, evidence="why"))
    session.commit()
    return submission.id


def shown(admin, url):
    page = admin.get(url).get_data(as_text=True)
    return [email for email in ("li@rival.co.uk", "jo@acme.com", "bot@spam.example") if email in page]


def test_search_form_reason_and_order(admin, db_session):
    put(db_session, email="li@rival.co.uk", received_at=datetime(2026, 1, 1, 9, 0))
    put(db_session, email="jo@acme.com", company="Acme", category="uncertain", slug="newsletter",
        received_at=datetime(2026, 1, 2, 9, 0))  # fmt: skip
    put(db_session, email="bot@spam.example", verdict="rejected", category="spam")

    assert shown(admin, "/admin/") == ["li@rival.co.uk", "jo@acme.com"]
    assert shown(admin, "/admin/?q=ACME") == ["jo@acme.com"]  # any case, in the company too
    assert shown(admin, "/admin/?q=rival.co") == ["li@rival.co.uk"]
    assert shown(admin, "/admin/?form=newsletter") == ["jo@acme.com"]
    assert shown(admin, "/admin/?category=competitor") == ["li@rival.co.uk"]
    page = admin.get("/admin/?sort=newest").get_data(as_text=True)
    assert page.index("jo@acme.com") < page.index("li@rival.co.uk")
    assert shown(admin, "/admin/rejected?q=spam.example") == ["bot@spam.example"]
    assert shown(admin, "/admin/?q=%25") == []  # a % is a character to find, not a wildcard
    assert admin.get("/admin/?q=%00&form=%00&category=%00").status_code == 200


@pytest.fixture
def settings(settings):
    settings["ADMIN_TIME_ZONE"] = "Europe/Berlin"
    return settings


def test_times_are_shown_in_the_admin_time_zone(admin, db_session):
    put(db_session, email="li@rival.co.uk", received_at=datetime(2026, 7, 1, 9, 30))
    page = admin.get("/admin/").get_data(as_text=True)
    assert "2026-07-01 11:30 CEST" in page  # 09:30 UTC in Berlin's summer time


def test_the_salesforce_oid_is_only_offered_for_salesforce(admin, db_session):
    db_session.add(Destination(name="hook", kind="webhook", target="https://example.com/h", secret="s"))
    db_session.add(Destination(name="sf", kind="salesforce", target="https://example.com/sf", secret="s"))
    db_session.commit()
    hook, sf = db_session.scalars(select(Destination).order_by(Destination.id)).all()
    assert 'name="oid"' not in admin.get(f"/admin/destinations/{hook.id}/edit").get_data(as_text=True)
    assert 'name="oid"' in admin.get(f"/admin/destinations/{sf.id}/edit").get_data(as_text=True)
    assert 'data-kind-only="salesforce"' in admin.get("/admin/destinations").get_data(as_text=True)


def test_reviewers_assign_held_submissions_to_themselves(admin, db_session):
    from app.models import AuditEvent, User

    mine = put(db_session, email="li@rival.co.uk")
    put(db_session, email="jo@acme.com", category="uncertain")
    page = admin.get("/admin/").get_data(as_text=True)
    token = __import__("re").search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = admin.post("/admin/decide", data={"csrf_token": token, "action": "assign_me", "ids": str(mine)})
    assert b"Assigned to you: 1 submission(s)." in admin.get(response.headers["Location"]).data
    anna = db_session.scalars(select(User).where(User.email == "anna@example.com")).one()
    db_session.expire_all()
    assert db_session.get(Submission, mine).assigned_to_id == anna.id
    assert shown(admin, "/admin/?assignee=me") == ["li@rival.co.uk"]
    assert shown(admin, "/admin/?assignee=nobody") == ["jo@acme.com"]
    assert '<span class="pill" title="Assigned">you</span>' in admin.get("/admin/").get_data(as_text=True)
    admin.post("/admin/decide", data={"csrf_token": token, "action": "unassign", "ids": str(mine)})
    db_session.expire_all()
    assert db_session.get(Submission, mine).assigned_to_id is None
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_type == "submission", AuditEvent.subject_id == mine)
    ).all()
    assert actions == ["submission.assigned", "submission.unassigned"]
