"""The admin's Leads page is a list of people: one row per lead, filtered and ordered in SQL, keyset pages;
the lead page answers "why is this an SQL, who owns it, has anyone called, what did sales say"; the CSV of
leads; the list of submissions it used to be lives at /admin/submissions, and old links still arrive."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.forwarding.routing import feedback_token
from app.models import Form, Lead, LeadFeedback, Owner, Submission
from tests.helpers import valid_fields

T0 = datetime(2026, 11, 1, 9, 0)


def emails(html: str) -> list[str]:
    """The people listed, in order."""
    return re.findall(r'<a href="/admin/leads/\d+">([^<]+)</a>', html)


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def breakdown(base: int, at: datetime) -> dict[str, Any]:
    """A stored score breakdown with one engagement line of `base` points earned at `at`."""
    return {
        "fit": [],
        "engagement": [{"rule": "fill.download", "points": base, "base": base, "at": at.isoformat(), "evidence": ""}],
        "at": at.isoformat(),
        "half_life_days": 30.0,
    }


def add_lead(session, email: str, **fields: Any) -> Lead:
    lead = Lead(email=email, **{"last_activity_at": T0, **fields})
    session.add(lead)
    session.flush()
    return lead


def add_submission(session, lead: Lead, **fields: Any) -> Submission:
    form_id = session.scalar(select(Form.id).where(Form.slug == fields.pop("slug", "request-demo")))
    row = Submission(
        form_id=form_id,
        lead_id=lead.id,
        email=lead.email,
        status="screened",
        verdict="accepted",
        **{"received_at": T0, **fields},
    )
    session.add(row)
    session.flush()
    return row


def submit(client, slug: str, **fields: Any) -> int:
    response = client.post(f"/f/{slug}", json=valid_fields(slug, **fields))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


# --- One row per person ----------------------------------------------------------------------------------


def test_several_fills_by_one_person_are_one_row(client, admin, db_session, run_worker):
    for slug in ("whitepaper-lead-quality", "webinar-pipeline-live", "request-demo"):
        submit(client, slug, email="ana@initech.com")
    submit(client, "whitepaper-lead-quality", email="bo@hooli.com")
    run_worker()
    html = admin.get("/admin/leads").get_data(as_text=True)
    assert sorted(emails(html)) == ["ana@initech.com", "bo@hooli.com"]
    submissions = admin.get("/admin/submissions").get_data(as_text=True)
    assert "4 screened submission(s) match" in submissions
    ana = db_session.scalars(select(Lead).where(Lead.email == "ana@initech.com")).one()
    newest = db_session.scalars(select(Submission.received_at).where(Submission.lead_id == ana.id)).all()
    assert ana.last_activity_at == max(newest)


def test_the_list_shows_stage_both_scores_owner_outcome_and_last_activity(admin, db_session):
    owner = Owner(name="Sam <Sales>", email="sam@example.com")
    db_session.add(owner)
    db_session.flush()
    now = datetime.now().replace(microsecond=0)
    add_lead(
        db_session,
        "ana@initech.com",
        stage="SQL",
        fit=35,
        engagement=25,
        score_breakdown=breakdown(25, now - timedelta(days=30)),  # one half-life ago: 12 or 13 now
        owner_id=owner.id,
        outcome="contacted",
        last_activity_at=datetime(2026, 11, 3, 14, 5),
    )
    db_session.commit()
    html = admin.get("/admin/leads").get_data(as_text=True)
    row = html[html.index("ana@initech.com") :]
    row = row[: row.index("</tr>")]
    assert "SQL" in row and '<td class="num">35</td>' in row
    assert re.search(r'<td class="num">1[23]</td>', row)  # engagement decayed as read, not the stored 25
    assert "Sam &lt;Sales&gt;" in row and "<Sales>" not in row
    assert "contacted" in row and "2026-11-03 14:05" in row


# --- Filters ----------------------------------------------------------------------------------------------


@pytest.fixture
def people(db_session) -> dict[str, int]:
    """Leads with one of each thing the list filters on."""
    sam, kim = Owner(name="Sam", email="sam@example.com"), Owner(name="Kim", email="kim@example.com")
    db_session.add_all([sam, kim])
    db_session.flush()
    due = T0 + timedelta(hours=2)
    leads = {
        "open@a.com": add_lead(db_session, "open@a.com", stage="SQL", owner_id=sam.id, sla_due_at=due),
        "breached@a.com": add_lead(
            db_session, "breached@a.com", stage="SQL", owner_id=sam.id, sla_due_at=due, sla_breached_at=due
        ),
        "late@a.com": add_lead(
            db_session,
            "late@a.com",
            stage="SAL",
            owner_id=kim.id,
            sla_due_at=due,
            first_touch_at=due + timedelta(hours=1),
            outcome="accepted",
        ),
        "met@a.com": add_lead(
            db_session,
            "met@a.com",
            stage="SAL",
            owner_id=kim.id,
            sla_due_at=due,
            first_touch_at=due - timedelta(hours=1),
            outcome="contacted",
        ),
        "mql@a.com": add_lead(db_session, "mql@a.com", stage="MQL"),
        "spam@a.com": add_lead(db_session, "spam@a.com", stage="disqualified", outcome="spam"),
    }
    add_submission(db_session, leads["mql@a.com"], utm_source="google")
    add_submission(db_session, leads["mql@a.com"], utm_source="linkedin", received_at=T0 + timedelta(days=1))
    add_submission(db_session, leads["open@a.com"], utm_source="linkedin")
    add_submission(db_session, leads["spam@a.com"], utm_source="")
    db_session.commit()
    return {"sam": sam.id, "kim": kim.id}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stage=SQL", {"open@a.com", "breached@a.com"}),
        ("stage=MQL", {"mql@a.com"}),
        ("stage=customer", set()),
        ("outcome=contacted", {"met@a.com"}),
        ("outcome=spam", {"spam@a.com"}),
        ("outcome=none", {"open@a.com", "breached@a.com", "mql@a.com"}),
        ("source=google", {"mql@a.com"}),
        ("source=linkedin", {"mql@a.com", "open@a.com"}),
        ("source=bing", set()),
        ("owner=none", {"mql@a.com", "spam@a.com"}),
        ("owner=999999", set()),
        ("owner=sam", set()),
        ("sla=open", {"open@a.com"}),
        ("sla=breached", {"breached@a.com", "late@a.com"}),
        ("sla=met", {"met@a.com"}),
        ("sla=none", {"mql@a.com", "spam@a.com"}),
        ("sla=whenever", set()),
        ("stage=SQL&sla=breached", {"breached@a.com"}),
        ("stage=SAL&outcome=accepted&sort=fit", {"late@a.com"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_filter(admin, people, query, expected):
    response = admin.get(f"/admin/leads?{query}")
    assert response.status_code == 200
    assert set(emails(response.get_data(as_text=True))) == expected


def test_owner_filter_by_id(admin, people):
    assert set(emails(admin.get(f"/admin/leads?owner={people['sam']}").get_data(as_text=True))) == {
        "open@a.com",
        "breached@a.com",
    }
    html = admin.get(f"/admin/leads?owner={people['kim']}").get_data(as_text=True)
    assert set(emails(html)) == {"late@a.com", "met@a.com"}
    assert f'<option value="{people["kim"]}" selected>Kim</option>' in html


def test_filters_are_kept_in_the_export_link(admin, people):
    html = admin.get("/admin/leads?stage=SQL&sla=open&sort=fit").get_data(as_text=True)
    export = re.search(r'href="(/admin/leads\.csv\?[^"]+)"', html).group(1).replace("&amp;", "&")
    rows = list(csv.DictReader(io.StringIO(admin.get(export).get_data(as_text=True))))
    assert [r["email"] for r in rows] == ["open@a.com"]


# --- Orders ----------------------------------------------------------------------------------------------


def test_sorted_by_engagement_as_decayed_now_by_fit_and_by_last_activity(admin, db_session):
    now = datetime.now().replace(microsecond=0)
    # Stored engagement says old > recent; decayed now, the recent download is worth more than the old demo.
    add_lead(
        db_session,
        "old@a.com",
        fit=5,
        engagement=25,
        score_breakdown=breakdown(25, now - timedelta(days=120)),
        last_activity_at=now - timedelta(days=120),
    )
    add_lead(
        db_session,
        "recent@a.com",
        fit=30,
        engagement=10,
        score_breakdown=breakdown(10, now - timedelta(days=1)),
        last_activity_at=now - timedelta(days=1),
    )
    add_lead(db_session, "cold@a.com", fit=15, last_activity_at=now - timedelta(days=7))
    db_session.commit()
    assert emails(admin.get("/admin/leads?sort=engagement").get_data(as_text=True)) == [
        "recent@a.com",
        "old@a.com",
        "cold@a.com",
    ]
    assert emails(admin.get("/admin/leads?sort=fit").get_data(as_text=True)) == [
        "recent@a.com",
        "cold@a.com",
        "old@a.com",
    ]
    by_activity = ["recent@a.com", "cold@a.com", "old@a.com"]
    assert emails(admin.get("/admin/leads").get_data(as_text=True)) == by_activity
    assert emails(admin.get("/admin/leads?sort=nonsense").get_data(as_text=True)) == by_activity


# --- Pages -----------------------------------------------------------------------------------------------


@pytest.fixture
def crowd(db_session) -> None:
    """130 leads whose order values often tie (keyset pages go wrong at ties)."""
    for i in range(130):
        add_lead(
            db_session,
            f"p{i:03d}@acme.com",
            fit=i % 4,
            score_breakdown=breakdown(5 + i % 3, T0 + timedelta(days=i % 5)),
            last_activity_at=T0 + timedelta(seconds=i // 7),
        )
    db_session.commit()


@pytest.mark.parametrize("sort", ["activity", "engagement", "fit"])
def test_pages_walk_every_lead_once_forward_and_back(admin, crowd, sort):
    url, forward, pages = f"/admin/leads?sort={sort}", [], []
    while url:
        html = admin.get(url).get_data(as_text=True)
        pages.append(html)
        forward += emails(html)
        url = link(html, "next")
    assert len(pages) == 3 and "Page 3</span>" in pages[-1]
    assert sorted(forward) == [f"p{i:03d}@acme.com" for i in range(130)]
    backward, url = emails(pages[-1]), link(pages[-1], "prev")
    while url:
        html = admin.get(url).get_data(as_text=True)
        backward = emails(html) + backward
        url = link(html, "prev")
    assert backward == forward
    assert "More than" not in pages[0] and " match" not in pages[0]  # nothing is counted


def test_an_unknown_order_pages_in_the_default_order(admin, crowd):
    html = admin.get("/admin/leads?sort=nonsense").get_data(as_text=True)
    second = link(html, "next")
    assert "sort=" not in second
    assert set(emails(admin.get(second).get_data(as_text=True))).isdisjoint(emails(html))


def test_a_malformed_cursor_is_the_first_page(admin, crowd):
    first = emails(admin.get("/admin/leads").get_data(as_text=True))
    for cursor in ("after=nonsense", "after=2026-13-01T00:00:00_1", "before=_", "after=1.5_x"):
        assert emails(admin.get(f"/admin/leads?{cursor}").get_data(as_text=True)) == first, cursor


# --- The lead page ---------------------------------------------------------------------------------------


def test_the_lead_page_answers_why_who_whether_called_and_what_sales_said(app, client, admin, db_session, run_worker):
    first = submit(client, "whitepaper-lead-quality", email="dee@initech.com", utm_source="google")
    second = submit(
        client,
        "request-demo",
        email="dee@initech.com",
        job_title="VP Engineering",
        budget="over_50k",
        timeline="now",
        message="Call me on Tuesday",
    )
    run_worker()
    lead = db_session.scalars(select(Lead)).one()
    lead.owner = Owner(name="Sam Seller", email="sam@example.com")
    lead.company = "<i>Initech</i>"  # what a visitor typed is shown as text
    db_session.get(Submission, second).message = "Call me <script>x</script>"
    db_session.commit()
    token = feedback_token(app.config["SECRET_KEY"], lead.id)
    assert (
        client.post(f"/feedback/{token}", data={"outcome": "contacted", "note": "left a voicemail"}).status_code == 200
    )
    assert client.post(f"/feedback/{token}", data={"outcome": "accepted", "note": "<b>good fit</b>"}).status_code == 200
    html = admin.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    # Why: the stage history with reasons and who, and both scores line by line with their submission.
    history = html[html.index('id="stage-history"') : html.index('id="feedback"')]
    assert "<td>new</td><td>SQL</td><td>sales request on form" in history and "<td>classifier</td>" in history
    assert "<td>SQL</td><td>SAL</td><td>sales feedback via feedback link: Accepted" in history
    for rule in ("title.vp", "answer.budget.over_50k", "fill.demo", "fill.download"):
        assert rule in html, rule
    assert f'href="/admin/submissions/{second}">#{second}</a>' in html
    assert f'href="/admin/submissions/{first}">#{first}</a>' in html
    # Who owns it, whether anyone called, what sales said: every use of the link, with its outcome.
    assert "Sam Seller &lt;sam@example.com&gt;" in html
    assert "not yet" not in html[html.index('id="first-touch"') :][:200]
    feedback = html[html.index('id="feedback"') : html.index('id="submissions"')]
    assert feedback.index("contacted") < feedback.index("accepted")
    assert "left a voicemail" in feedback and "&lt;b&gt;good fit&lt;/b&gt;" in feedback
    # Every answer of every submission, merged, and the submissions and deliveries.
    answers = html[html.index('id="answers"') :]
    assert "budget</dt><dd>over_50k" in answers and "timeline</dt><dd>now" in answers
    assert "&lt;i&gt;Initech&lt;/i&gt;" in html and "<i>Initech" not in html
    assert "Call me &lt;script&gt;" in html and "<script>x" not in html
    assert 'id="deliveries"' in html
    assert db_session.scalar(select(LeadFeedback.id).where(LeadFeedback.outcome == "accepted"))


def test_an_unknown_lead_is_404(admin):
    assert admin.get("/admin/leads/987654").status_code == 404


# --- CSV -------------------------------------------------------------------------------------------------


def test_the_csv_of_leads_has_ids_stage_scores_owner_outcome_answers_touches_and_zoned_times(admin, db_session):
    owner = Owner(name="=cmd|' /C calc'!A0", email="sam@example.com")
    db_session.add(owner)
    db_session.flush()
    lead = add_lead(
        db_session,
        "ana@initech.com",
        first_name="+Ana",
        company="@SUM(1+1)",
        stage="SQL",
        fit=40,
        engagement=0,
        owner_id=owner.id,
        outcome="won",
        outcome_at=T0 + timedelta(days=3),
        created_at=T0,
        last_activity_at=T0 + timedelta(days=3),
    )
    add_submission(
        db_session, lead, slug="whitepaper-lead-quality", utm_source="google", utm_campaign="=spring", answers={}
    )
    add_submission(
        db_session,
        lead,
        utm_source="linkedin",
        utm_campaign="retarget",
        answers={"budget": "over_50k", "need": "-1+1"},
        received_at=T0 + timedelta(days=2),
    )
    add_lead(db_session, "bo@hooli.com", last_activity_at=T0 - timedelta(days=1))
    db_session.commit()
    response = admin.get("/admin/leads.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["X-Export-Rows"] == "2" and "leadsieve-leads-" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["email"] for r in rows] == ["ana@initech.com", "bo@hooli.com"]
    ana = rows[0]
    assert ana["lead_id"] == str(lead.id) and ana["stage"] == "SQL"
    assert (ana["fit"], ana["engagement"], ana["score"]) == ("40", "0", "40")
    assert ana["outcome"] == "won" and ana["owner_email"] == "sam@example.com"
    assert (ana["first_touch_source"], ana["last_touch_source"]) == ("google", "linkedin")
    assert ana["last_touch_campaign"] == "retarget" and ana["submissions"] == "2"
    assert json.loads(ana["answers"]) == {"budget": "over_50k", "need": "-1+1"}
    assert ana["outcome_at"] == "2026-11-04T09:00:00+00:00"
    assert ana["created_at"] == "2026-11-01T09:00:00+00:00"
    assert ana["last_activity_at"] == "2026-11-04T09:00:00+00:00"
    # Formula injection: every cell a spreadsheet could run is made text.
    for name in ("first_name", "company", "owner", "first_touch_campaign"):
        assert ana[name].startswith("'"), (name, ana[name])
    for name, cell in ana.items():
        assert not cell.startswith(("=", "+", "-", "@")), (name, cell)
    bo = rows[1]
    assert (bo["outcome"], bo["owner"], bo["answers"], bo["first_touch_source"], bo["submissions"]) == (
        "",
        "",
        "",
        "",
        "0",
    )


# --- Old links and access ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/leads?q=ana", "/admin/submissions?q=ana"),
        ("/admin/leads?verdict=held&form=request-demo", "/admin/submissions?verdict=held&form=request-demo"),
        ("/admin/leads?utm_source=google", "/admin/submissions?utm_source=google"),
        ("/admin/leads?stage=SQL&since=2026-01-01", "/admin/submissions?stage=SQL&since=2026-01-01"),
        ("/admin/leads.csv?verdict=accepted", "/admin/submissions.csv?verdict=accepted"),
    ],
)
def test_links_to_the_old_list_of_submissions_arrive_there(admin, old, new):
    response = admin.get(old)
    assert response.status_code == 301 and response.headers["Location"] == new
    assert admin.get(new).status_code == 200


def test_a_stage_filter_alone_is_the_people_list(admin, people):
    assert admin.get("/admin/leads?stage=SQL").status_code == 200


@pytest.mark.parametrize("url", ["/admin/leads", "/admin/leads.csv", "/admin/submissions", "/admin/submissions.csv"])
def test_the_lists_need_a_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
