"""The reviewer's day: queue, decisions (exactly once), spam folder, lists, leads list, CSV, re-screen."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.users import set_user
from app.db import session_scope
from app.models import AuditEvent, Finding, Form, Lead, ListEntry, StageChange, Submission
from tests.helpers import statements_for


def csrf(client) -> str:
    html = client.get("/admin/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@pytest.fixture
def reviewer(app, client):
    with app.app_context(), session_scope() as session:
        set_user(session, email="rita@example.com", password="reviewer password", role="reviewer")
        session.commit()
    client.post(
        "/admin/login", data={"email": "rita@example.com", "password": "reviewer password", "csrf_token": csrf(client)}
    )
    return client


def held(session, *, email="li@rival.co.uk", verdict="held", category="competitor", slug="request-demo", **extra):
    form = session.scalars(select(Form).where(Form.slug == slug)).one()
    fields = {"first_name": "Li", "company": "Rival Ltd", "status": "screened", **extra}
    submission = Submission(form_id=form.id, email=email, verdict=verdict, reason_category=category, **fields)
    session.add(submission)
    session.flush()
    session.add(
        Finding(
            submission_id=submission.id,
            code="competitor.domain",
            category=category or "risk",
            weight=60,
            evidence=f"domain {email.rpartition('@')[2]} is on the competitor list, added by anna",
        )
    )
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
    assert entries == {
        ("allowed_domain", "partner.example", "rita@example.com"),
        ("blocked_domain", "spammy.example", "rita@example.com"),
    }


def test_unknown_action_is_400(reviewer):
    assert decide(reviewer, action="explode", ids="1").status_code == 400


def test_leads_list_filters_and_paginates_in_sql(reviewer, db_session):
    for i in range(55):
        held(
            db_session, email=f"p{i}@acme.com", verdict="accepted", category=None, utm_source="google" if i % 2 else ""
        )
    page1 = reviewer.get("/admin/submissions").get_data(as_text=True)
    # No count of every match (it would read them all): only a list that fits on one page is counted.
    assert "More than 50 screened submissions match" in page1 and "Page 1</span>" in page1
    following = re.search(r'href="([^"]+)" rel="next"', page1).group(1).replace("&amp;", "&")
    assert reviewer.get(following).get_data(as_text=True).count("@acme.com</a>") == 5
    google = reviewer.get("/admin/submissions?utm_source=google").get_data(as_text=True)
    assert "27 screened submission(s) match" in google
    search = reviewer.get("/admin/submissions?q=p17%40").get_data(as_text=True)
    assert "1 screened submission(s) match" in search


def test_list_pages_do_not_query_per_row(app, reviewer, db_session):
    """Rows spread over every form, half of them with a lead: a lazy load per row would show."""
    engine = app.extensions["leadsieve.engine"]
    urls = ("/admin/", "/admin/submissions", "/admin/rejected")
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
            held(
                db_session, email=f"{prefix}{i}@acme.com", verdict=verdict, slug=slugs[i % len(slugs)], lead_id=lead_id
            )

    add("few", 6)
    few = {url: statements_for(engine, reviewer, url) for url in urls}
    add("many", 45)
    assert {url: statements_for(engine, reviewer, url) for url in urls} == few


def test_csv_export_is_safe_against_formulas(reviewer, db_session):
    held(
        db_session,
        email="evil@acme.com",
        verdict="accepted",
        category=None,
        company='=HYPERLINK("http://x")',
        last_name="+1+1",
        message="@SUM(A1)",
        phone="+1 555 0100",
    )
    response = reviewer.get("/admin/submissions.csv")
    assert response.mimetype == "text/csv"
    [header, row] = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    record = dict(zip(header, row, strict=True))
    assert record["company"] == '\'=HYPERLINK("http://x")'
    assert record["last_name"] == "'+1+1"
    assert record["message"] == "'@SUM(A1)"
    assert record["email"] == "evil@acme.com"
    assert record["phone"] == "+1 555 0100"  # a phone number is not a formula: kept as typed for CRM imports
    assert datetime.fromisoformat(record["received_at"]).utcoffset() == timedelta(0)  # ISO 8601 with its zone


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


def test_reason_note_is_audited_and_shown_on_submission_and_lead(reviewer, db_session):
    approved = held(db_session, email="li@rival.co.uk")
    rejected = held(db_session, email="li@rival.co.uk", slug="whitepaper-lead-quality")
    queue = reviewer.get("/admin/").get_data(as_text=True)
    assert 'name="note"' in queue and "Reason (optional" in queue
    page = reviewer.get(f"/admin/submissions/{rejected}").get_data(as_text=True)
    assert 'name="note"' in page and 'value="reject"' in page and 'name="category"' in page
    decide(reviewer, action="approve", ids=str(approved), note="known <b>customer</b>, spoke on the phone")
    decide(reviewer, action="reject", ids=str(rejected), category="duplicate", note="same person twice")
    events = {e.action: e.details for e in db_session.scalars(select(AuditEvent))}
    assert events["submission.approved"]["note"] == "known <b>customer</b>, spoke on the phone"
    assert events["submission.rejected"] == {"category": "duplicate", "note": "same person twice"}
    history = reviewer.get(f"/admin/submissions/{approved}").get_data(as_text=True)
    assert "known &lt;b&gt;customer&lt;/b&gt;, spoke on the phone" in history and "<b>customer" not in history
    db_session.expire_all()
    lead = db_session.scalars(select(Lead)).one()
    db_session.get(Submission, rejected).lead_id = lead.id  # the same person: both belong on the timeline
    db_session.commit()
    timeline = reviewer.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    assert "Approved</strong>" in timeline and "known &lt;b&gt;customer&lt;/b&gt;, spoke on the phone" in timeline
    assert "Rejected</strong>" in timeline and "(duplicate)" in timeline and "same person twice" in timeline
    assert "by rita@example.com" in timeline


def test_approved_flash_counts_only_what_changed(reviewer, db_session):
    a = held(db_session, email="a@rival.co.uk")
    b = held(db_session, email="b@rival.co.uk")
    decide(reviewer, action="approve", ids=str(a))
    response = decide(reviewer, action="approve", ids=[str(a), str(b)])
    flashed = reviewer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Approved 1 submission(s). 1 had already been decided." in flashed


def test_oldest_received_is_the_oldest_held_not_the_first_row_of_the_page(reviewer, db_session):
    from datetime import datetime, timedelta

    start = datetime(2026, 1, 5, 9, 0)
    for i in range(51):
        held(db_session, email=f"p{i}@rival.co.uk", received_at=start + timedelta(hours=i))
    held(db_session, email="done@rival.co.uk", verdict="accepted", received_at=start - timedelta(days=9))
    for page in ("", "?page=2"):
        html = reviewer.get(f"/admin/{page}").get_data(as_text=True)
        assert "51 held; oldest received 2026-01-05 09:00 UTC" in html, page


def test_freemail_allow_and_block_list_the_address_not_the_provider(reviewer, db_session):
    jo = held(db_session, email="Jo.Smith@Gmail.com")
    partner = held(db_session, email="x@partner.example")
    spam = held(db_session, email="win@outlook.com")
    response = decide(reviewer, action="allow_domain", ids=[str(jo), str(partner)])
    flashed = reviewer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Allowed domain(s): partner.example." in flashed
    assert "Allowed only the address(es) jo.smith@gmail.com: their domain is a free-mail provider" in flashed
    response = decide(reviewer, action="block_domain", ids=str(spam), note="prize spam")
    assert "Blocked only the address(es) win@outlook.com" in reviewer.get(response.headers["Location"]).get_data(
        as_text=True
    )
    entries = {(e.kind, e.value, e.note) for e in db_session.scalars(select(ListEntry))}
    assert entries == {
        ("allowed_email", "jo.smith@gmail.com", "from the screening queue"),
        ("allowed_domain", "partner.example", "from the screening queue"),
        ("blocked_email", "win@outlook.com", "prize spam"),
    }


def test_leads_search_takes_percent_and_underscore_literally(reviewer, db_session):
    for email in ("a_b@acme.com", "axb@acme.com", "100%@acme.com", "100x@acme.com"):
        held(db_session, email=email, verdict="accepted", category=None, company="")
    assert "1 screened submission(s) match" in reviewer.get("/admin/submissions?q=a_b").get_data(as_text=True)
    assert "1 screened submission(s) match" in reviewer.get("/admin/submissions?q=100%25").get_data(as_text=True)
    assert "0 screened submission(s) match" in reviewer.get("/admin/submissions?q=%25%25").get_data(as_text=True)
    assert "0 screened submission(s) match" in reviewer.get("/admin/submissions?q=x_").get_data(as_text=True)


def test_queue_shows_the_evidence_screening_produced_end_to_end(reviewer, client, db_session, run_worker):
    """A real submission, screened by the real worker: the queue shows screening's own words, not a test's."""
    from datetime import datetime

    from tests.helpers import valid_fields

    db_session.add(
        ListEntry(
            kind="competitor_domain",
            value="rival.co.uk",
            note="main rival",
            created_by="anna@example.com",
            created_at=datetime(2026, 11, 3, 10, 0),
        )
    )
    db_session.commit()
    posted = client.post(
        "/f/request-demo", json=valid_fields("request-demo", email="li@eu.rival.co.uk", company="Rival Ltd")
    )
    assert posted.status_code in (200, 202)
    assert db_session.scalars(select(Finding)).first() is None  # nothing inserted by the test
    run_worker()
    db_session.expire_all()
    submission = db_session.scalars(select(Submission)).one()
    assert (submission.status, submission.verdict) == ("screened", "held")
    evidence = [f.evidence for f in db_session.scalars(select(Finding).where(Finding.code == "competitor.domain"))]
    assert evidence == [
        "domain rival.co.uk is on the competitor list (eu.rival.co.uk belongs to it), "
        "added by anna on 3 Nov 2026 (main rival)"
    ]
    html = reviewer.get("/admin/").get_data(as_text=True)
    row = html.split(f'id="row-{submission.id}"')[1].split("</tr>")[0]
    assert "li@eu.rival.co.uk" in row and evidence[0] in row and "competitor.domain" in row


def test_csv_export_streams_every_row_past_one_batch(app, reviewer, db_session):
    """More rows than one fetch batch (500): all of them, each exactly once, from a streamed response."""
    form_id = db_session.scalars(select(Form.id).where(Form.slug == "request-demo")).one()
    db_session.execute(
        Submission.__table__.insert(),
        [
            {
                "form_id": form_id,
                "email": f"bulk{i}@acme.com",
                "status": "screened",
                "verdict": "accepted",
                "raw": {},
                "signals": {},
                "answers": {},
            }
            for i in range(1203)
        ],
    )
    db_session.commit()
    response = reviewer.get("/admin/submissions.csv")
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["email"] for r in rows) == sorted(f"bulk{i}@acme.com" for i in range(1203))


def test_bulk_screen_again_runs_the_screening_once_more(reviewer, db_session, run_worker):
    a = held(db_session, email="fine@acme.com", category="uncertain")
    b = held(db_session, email="also@acme.com", category="uncertain")
    decided = held(db_session, email="done@acme.com", verdict="accepted", category=None)
    response = decide(reviewer, action="rescreen", ids=[str(a), str(b), str(decided), str(a)], note="DNS is back")
    assert response.status_code == 302
    assert "Queued 2 submission(s) for screening again." in reviewer.get("/admin/").get_data(as_text=True)
    run_worker()
    db_session.expire_all()
    assert [db_session.get(Submission, i).verdict for i in (a, b, decided)] == ["accepted"] * 3
    audits = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.rescreen")).all()
    assert sorted(e.subject_id for e in audits) == [a, b] and audits[0].details == {"note": "DNS is back"}


def test_release_from_the_spam_folder_says_released_and_leaves_the_spam_rate(reviewer, db_session):
    from datetime import date

    from app.reporting.dashboard import overview

    spam = held(db_session, email="bot@spam.example", verdict="rejected", category="spam")
    kept = held(db_session, email="bot2@spam.example", verdict="rejected", category="spam")
    response = decide(reviewer, action="approve", ids=str(spam), back="/admin/rejected")
    assert b"Released 1 submission(s)." in reviewer.get(response.headers["Location"]).data
    total = overview(db_session, date.today(), date.today())["total"]
    assert total.categories["spam"] == 1  # only `kept` is still spam; the released one is not
    assert db_session.get(Submission, kept).verdict == "rejected"


def test_reject_without_a_reason_rejects_nothing_and_says_why(reviewer, db_session):
    submission_id = held(db_session)
    response = decide(reviewer, action="reject", ids=str(submission_id), category="")
    assert b"Choose why they are rejected" in reviewer.get(response.headers["Location"]).data
    db_session.expire_all()
    assert db_session.get(Submission, submission_id).verdict == "held"
    page = reviewer.get("/admin/").get_data(as_text=True)
    assert '<select name="category" id="reject-category"><option value="">reason…</option>' in page


def test_screening_again_never_undoes_a_reviewers_rejection_unless_reopened_explicitly(reviewer, db_session):
    rejected = held(db_session, email="li@rival.co.uk")
    decide(reviewer, action="reject", ids=str(rejected), category="competitor")
    by_screening = held(db_session, email="bot@spam.example", verdict="rejected", category="spam")

    response = decide(reviewer, action="rescreen", ids=[str(rejected), str(by_screening)], back="/admin/rejected")
    assert b"1 rejected by a reviewer were left as decided" in reviewer.get(response.headers["Location"]).data
    db_session.expire_all()
    assert db_session.get(Submission, rejected).verdict == "rejected"
    assert db_session.get(Submission, by_screening).status == "received"  # screening's own verdict: redone

    page = reviewer.get(f"/admin/submissions/{rejected}").get_data(as_text=True)
    assert "Reopen the reviewer's decision and screen again" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reviewer.post(f"/admin/submissions/{rejected}/rescreen", data={"csrf_token": token})  # no explicit reopen
    db_session.expire_all()
    assert db_session.get(Submission, rejected).verdict == "rejected"
    reviewer.post(f"/admin/submissions/{rejected}/rescreen", data={"csrf_token": token, "reopen_decision": "1"})
    db_session.expire_all()
    assert db_session.get(Submission, rejected).status == "received"
    reopened = db_session.scalars(
        select(AuditEvent).where(AuditEvent.subject_id == rejected, AuditEvent.action == "submission.rescreen")
    ).one()
    assert reopened.details == {"reopened_decision": True} and reopened.actor == "rita@example.com"
