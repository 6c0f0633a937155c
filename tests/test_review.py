"""The reviewer's day: queue, decisions (exactly once), spam folder, lists, leads list, CSV, re-screen."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.models import AuditEvent, Finding, Form, Lead, ListEntry, StageChange, Submission
from app.users import set_user
from tests.helpers import statements_for


def csrf(client) -> str:
    html = client.get("/admin/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@pytest.fixture
def reviewer(app, client):
    with app.app_context(), session_scope() as session:
        set_user(session, email="rita@example.com", password="reviewer password", role="reviewer")
    client.post("/admin/login", data={"email": "rita@example.com", "password": "reviewer password",
                                      "csrf_token": csrf(client)})
    return client


def held(session, *, email="li@rival.co.uk", verdict="held", category="competitor", slug="request-demo", **extra):
    form = session.scalars(select(Form).where(Form.slug == slug)).one()
    fields = {"first_name": "Li", "company": "Rival Ltd", "status": "screened", **extra}
    submission = Submission(form_id=form.id, email=email, verdict=verdict, reason_category=category, **fields)
    session.add(submission)
    session.flush()
    session.add(Finding(submission_id=submission.id, code="competitor.domain", category=category or "risk", weight=60,
                        evidence=f"domain {email.rpartition('@')[2]} is on the competitor list, added by anna"))
    session.commit()
    return submission.id


def decide(client, **data):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/").get_data(as_text=True)).group(1)
    return client.post("/admin/decide", data={"csrf_token": token, **data})


def test_queue_lists_held_oldest_first_with_reasons(reviewer, db_session):
    from datetime import timedelta

    from app.models import utcnow

    newer = held(db_session, email="new@rival.co.uk")
    older = held(db_session, email="old@rival.co.uk", received_at=utcnow() - timedelta(days=2))
    html = reviewer.get("/admin/").get_data(as_text=True)
    assert html.index("old@rival.co.uk") < html.index("new@rival.co.uk")
    assert "is on the competitor list, added by anna" in html
    assert f'value="{older}"' in html and f'value="{newer}"' in html
    assert "2 held" in html


def test_approve_classifies_and_routes_exactly_once(reviewer, db_session):
    submission_id = held(db_session)
    for _ in range(2):  # a double click
        response = decide(reviewer, action="approve", ids=str(submission_id))
        assert response.status_code == 302
    db_session.expire_all()
    submission = db_session.get(Submission, submission_id)
    assert submission.verdict == "accepted"
    lead = db_session.scalars(select(Lead)).one()
    assert (lead.email, lead.stage) == ("li@rival.co.uk", "SQL")
    assert db_session.scalar(select(func.count()).select_from(StageChange)) == 1
    approvals = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.approved")).all()
    assert [a.actor for a in approvals] == ["rita@example.com"]
    assert "li@rival.co.uk" not in reviewer.get("/admin/").get_data(as_text=True)


def test_approve_with_stage_moves_forward_only(reviewer, db_session):
    submission_id = held(db_session, slug="whitepaper-lead-quality")
    decide(reviewer, action="approve", ids=str(submission_id), stage="SQL", note="called us")
    db_session.expire_all()
    lead = db_session.scalars(select(Lead)).one()
    assert lead.stage == "SQL"
    last = db_session.scalars(select(StageChange).order_by(StageChange.id.desc())).first()
    assert last.reason == "set by reviewer rita@example.com: called us"


def test_reject_then_find_in_spam_folder_and_release_once(reviewer, db_session):
    a = held(db_session, email="a@rival.co.uk")
    b = held(db_session, email="b@uni.ac.uk", category="student")
    decide(reviewer, action="reject", ids=[str(a), str(b)], category="competitor")
    db_session.expire_all()
    assert {s.verdict for s in db_session.scalars(select(Submission))} == {"rejected"}
    folder = reviewer.get("/admin/rejected?category=competitor").get_data(as_text=True)
    assert "a@rival.co.uk" in folder and "b@uni.ac.uk" in folder
    decide(reviewer, action="approve", ids=str(a))
    decide(reviewer, action="approve", ids=str(a))
    db_session.expire_all()
    assert db_session.get(Submission, a).verdict == "accepted"
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 1
    released = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.released")).all()
    assert len(released) == 1


def test_reject_needs_a_known_category(reviewer, db_session):
    submission_id = held(db_session)
    response = decide(reviewer, action="reject", ids=str(submission_id), category="meh")
    assert response.status_code == 302
    assert "category must be one of" in reviewer.get("/admin/").get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Submission, submission_id).verdict == "held"


def test_allow_and_block_domain_create_list_entries(reviewer, db_session):
    a = held(db_session, email="x@partner.example")
    b = held(db_session, email="y@spammy.example")
    decide(reviewer, action="allow_domain", ids=str(a))
    decide(reviewer, action="block_domain", ids=str(b), note="crypto spam")
    entries = {(e.kind, e.value, e.created_by) for e in db_session.scalars(select(ListEntry))}
    assert entries == {("allowed_domain", "partner.example", "rita@example.com"),
                       ("blocked_domain", "spammy.example", "rita@example.com")}


def test_unknown_action_is_400(reviewer):
    assert decide(reviewer, action="explode", ids="1").status_code == 400


def test_leads_list_filters_and_paginates_in_sql(reviewer, db_session):
    for i in range(55):
        held(db_session, email=f"p{i}@acme.com", verdict="accepted", category=None, utm_source="google" if i % 2 else "")
    page1 = reviewer.get("/admin/leads").get_data(as_text=True)
    assert "55 screened submission(s) match" in page1 and "Page 1 of 2" in page1
    assert reviewer.get("/admin/leads?page=2").get_data(as_text=True).count("@acme.com</a>") == 5
    google = reviewer.get("/admin/leads?utm_source=google").get_data(as_text=True)
    assert "27 screened submission(s) match" in google
    search = reviewer.get("/admin/leads?q=p17%40").get_data(as_text=True)
    assert "1 screened submission(s) match" in search


def test_list_pages_do_not_query_per_row(app, reviewer, db_session):
    """Rows spread over every form, half of them with a lead: a lazy load per row would show."""
    engine = app.extensions["leadsieve.engine"]
    urls = ("/admin/", "/admin/leads", "/admin/rejected")
    slugs = db_session.scalars(select(Form.slug).order_by(Form.id)).all()

    def add(prefix, n):
        for i in range(n):
            verdict = ("held", "rejected", "accepted")[i % 3]
            lead_id = None
            if verdict == "accepted":
                lead = Lead(email=f"{prefix}{i}@acme.com", stage="MQL")
                db_session.add(lead)
                db_session.flush()
                lead_id = lead.id
            held(db_session, email=f"{prefix}{i}@acme.com", verdict=verdict, slug=slugs[i % len(slugs)],
                 lead_id=lead_id)

    add("few", 6)
    few = {url: statements_for(engine, reviewer, url) for url in urls}
    add("many", 45)
    assert {url: statements_for(engine, reviewer, url) for url in urls} == few


def test_csv_export_is_safe_against_formulas(reviewer, db_session):
    held(db_session, email="evil@acme.com", verdict="accepted", category=None, company="=HYPERLINK(\"http://x\")",
         last_name="+1+1", message="@SUM(A1)")
    response = reviewer.get("/admin/leads.csv")
    assert response.mimetype == "text/csv"
    [header, row] = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    record = dict(zip(header, row, strict=True))
    assert record["company"] == "'=HYPERLINK(\"http://x\")"
    assert record["last_name"] == "'+1+1"
    assert record["message"] == "'@SUM(A1)"
    assert record["email"] == "evil@acme.com"


def test_rescreen_runs_the_screening_again(reviewer, db_session, run_worker):
    submission_id = held(db_session, email="fine@acme.com")
    html = reviewer.get(f"/admin/submissions/{submission_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = reviewer.post(f"/admin/submissions/{submission_id}/rescreen", data={"csrf_token": token})
    assert response.status_code == 302
    run_worker()
    db_session.expire_all()
    submission = db_session.get(Submission, submission_id)
    assert (submission.status, submission.verdict) == ("screened", "accepted")
    assert db_session.scalars(select(Finding).where(Finding.submission_id == submission_id)).all() == []
