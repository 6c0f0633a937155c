"""Admin settings pages: forms (editor, embed panel, preview), lists, dashboard; roles."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.users import set_user
from app.db import session_scope
from app.models import AuditEvent, Delivery, Destination, Form, Lead, ListEntry, Submission, utcnow
from tests.helpers import csrf_from, fetch_token, sign_in, statements_for


@pytest.fixture
def admin(app, client):
    with app.app_context(), session_scope() as session:
        set_user(session, email="anna@example.com", password="admin password", role="admin")
        session.commit()
    return sign_in(client, "anna@example.com", "admin password")


@pytest.fixture
def reviewer(app, client):
    with app.app_context(), session_scope() as session:
        set_user(session, email="rita@example.com", password="reviewer password", role="reviewer")
        session.commit()
    return sign_in(client, "rita@example.com", "reviewer password")


def token_of(client, url="/admin/forms/new"):
    return csrf_from(client.get(url).get_data(as_text=True))


def new_form(client, **fields):
    data = {
        "name": "Q4 pricing guide",
        "slug": "q4-pricing",
        "kind": "download",
        "active": "y",
        "shown": ["email", "first_name", "company", "job_title"],
        "required": ["email", "company"],
        "thank_you": "Thanks — check your inbox.",
        "allowed_origins": "https://www.example.org\nhttps://*.example.net",
        "csrf_token": token_of(client),
        **fields,
    }
    return client.post("/admin/forms/new", data=data)


def test_reviewers_cannot_open_settings_pages(reviewer, db_session):
    form_id = db_session.scalars(select(Form.id)).first()
    for url in (
        "/admin/forms",
        "/admin/forms/new",
        f"/admin/forms/{form_id}",
        "/admin/lists",
        "/admin/lists/competitor_domain.csv",
    ):
        assert reviewer.get(url).status_code == 403, url
    token = csrf_from(reviewer.get("/admin/").get_data(as_text=True))
    assert (
        reviewer.post(
            "/admin/lists", data={"csrf_token": token, "kind": "blocked_domain", "values": "spam.example"}
        ).status_code
        == 403
    )
    assert reviewer.post(f"/admin/forms/{form_id}/active", data={"csrf_token": token, "active": "0"}).status_code == 403
    assert db_session.scalars(select(ListEntry)).first() is None
    assert reviewer.get("/admin/dashboard").status_code == 200


def test_create_form_and_capture_uses_its_fields(admin, client, db_session):
    response = new_form(admin)
    assert response.status_code == 302
    form = db_session.scalars(select(Form).where(Form.slug == "q4-pricing")).one()
    assert form.settings["shown"] == ["email", "first_name", "company", "job_title"]
    assert form.settings["required"] == ["email", "company"]
    assert form.settings["allowed_origins"] == ["https://www.example.org", "https://*.example.net"]
    created = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "form.created", AuditEvent.subject_id == form.id)
    ).one()
    assert created.actor == "anna@example.com"
    page = client.get("/f/q4-pricing").get_data(as_text=True)
    assert 'name="job_title"' in page and 'name="last_name"' not in page
    token = fetch_token(client, "q4-pricing")
    missing = client.post(
        "/f/q4-pricing", data={"email": "jo@acme.com", "token": token}, headers={"Accept": "application/json"}
    )
    assert missing.status_code == 400 and "company" in missing.get_json()["fields"]
    ok = client.post("/f/q4-pricing", data={"email": "jo@acme.com", "company": "Acme", "token": token})
    assert ok.status_code == 303 and "check your inbox" in client.get(ok.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"slug": "Bad Slug!"}, "slug", "lower-case letters"),
        ({"slug": "request-demo"}, "slug", "already uses /f/request-demo"),
        ({"allowed_origins": "www.example.org"}, "allowed_origins", "is not an origin"),
        ({"redirect_url": "javascript:alert(1)"}, "redirect_url", "http:// or https://"),
        ({"name": ""}, "name", "Give the form a name"),
    ],
)
def test_form_editor_rejects_bad_values_field_by_field(admin, db_session, fields, field, message):
    before = db_session.scalars(select(Form.id)).all()
    response = new_form(admin, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert db_session.scalars(select(Form.id)).all() == before


def test_edit_page_has_embed_panel_and_deactivation_closes_the_form(admin, client, db_session):
    form = db_session.scalars(select(Form).where(Form.slug == "request-demo")).one()
    html = admin.get(f"/admin/forms/{form.id}").get_data(as_text=True)
    assert (
        "data-leadsieve-form=&#34;request-demo&#34;" in html or "data-leadsieve-form=&quot;request-demo&quot;" in html
    )
    assert "/embed.js?v=" in html and "/f/request-demo/embed" in html
    assert 'data-copy="snippet-script"' in html and 'data-copy="snippet-iframe"' in html
    token = csrf_from(html)
    assert admin.post(f"/admin/forms/{form.id}/active", data={"csrf_token": token, "active": "0"}).status_code == 302
    assert client.get("/f/request-demo").status_code == 410
    admin.post(f"/admin/forms/{form.id}/active", data={"csrf_token": token, "active": "1"})
    assert client.get("/f/request-demo").status_code == 200


def test_edit_keeps_settings_it_does_not_show_and_renames_routes(admin, db_session):
    db_session.add(
        Destination(
            name="Sales hook", kind="webhook", target="http://127.0.0.1:9/x", stages=["SQL"], forms=["request-demo"]
        )
    )
    db_session.commit()
    form = db_session.scalars(select(Form).where(Form.slug == "request-demo")).one()
    html = admin.get(f"/admin/forms/{form.id}").get_data(as_text=True)
    assert "Sales hook" in html and "checked" in html.split("Sales hook")[0].rsplit("<li>", 1)[-1]
    data = {
        "name": "Request a demo",
        "slug": "demo-request",
        "kind": "demo",
        "active": "y",
        "shown": ["email"],
        "required": ["email", "company"],
        "destinations": [str(db_session.scalars(select(Destination.id)).one())],
        "csrf_token": csrf_from(html),
    }
    assert admin.post(f"/admin/forms/{form.id}", data=data).status_code == 302
    db_session.expire_all()
    assert db_session.scalars(select(Destination.forms)).one() == ["demo-request"]
    assert db_session.get(Form, form.id).settings["shown"] == ["email", "company"]


def test_unticking_an_all_forms_destination_excludes_only_this_form(admin, db_session):
    db_session.add(Destination(name="Everything", kind="webhook", target="http://127.0.0.1:9/x", stages=[], forms=[]))
    db_session.commit()
    assert new_form(admin).status_code == 302
    db_session.expire_all()
    forms = db_session.scalars(select(Destination.forms)).one()
    assert "q4-pricing" not in forms and "request-demo" in forms


def test_live_preview_renders_unsaved_values_escaped_and_needs_csrf(admin):
    token = token_of(admin)
    response = admin.post(
        "/admin/forms/preview",
        data={
            "csrf_token": token,
            "name": "<img src=x onerror=alert(1)>",
            "kind": "webinar",
            "shown": ["email", "phone"],
            "required": ["email"],
            "intro": "Join <b>us</b>",
            "webinar_title": "Live",
            "webinar_starts_at": "Dec 10",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert 'name="phone"' in html and "Dec 10" in html and 'type="button"' in html and "data-preview" in html
    assert admin.post("/admin/forms/preview", data={"name": "x"}).status_code == 400


def test_lists_bulk_import_reports_bad_lines_and_normalises(admin, db_session):
    token = token_of(admin, "/admin/lists")
    text = "value,note\nRival.co.uk,main rival\nnot a domain\n@Eu.Rival.Com\n\nrival.co.uk\n"
    response = admin.post(
        "/admin/lists?kind=competitor_domain",
        data={"csrf_token": token, "kind": "competitor_domain", "values": text, "note": "from sales"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Added 2; 1 already listed." in html and "line 3: &#39;not a domain&#39; is not a domain name" in html
    rows = db_session.execute(select(ListEntry.value, ListEntry.note, ListEntry.created_by)).all()
    assert sorted(rows) == [
        ("eu.rival.com", "from sales", "anna@example.com"),
        ("rival.co.uk", "main rival", "anna@example.com"),
    ]
    response = admin.post(
        "/admin/lists?kind=blocked_ip",
        data={"csrf_token": token, "kind": "blocked_ip", "values": "203.0.113.7\n198.51.100.0/24\n10.0.0.300"},
        follow_redirects=True,
    )
    assert "line 3" in response.get_data(as_text=True)
    assert set(db_session.scalars(select(ListEntry.value).where(ListEntry.kind == "blocked_ip"))) == {
        "203.0.113.7",
        "198.51.100.0/24",
    }


def test_list_remove_with_note_is_audited_and_export_is_formula_safe(admin, db_session):
    token = token_of(admin, "/admin/lists")
    admin.post(
        "/admin/lists",
        data={"csrf_token": token, "kind": "competitor_name", "values": '"=HYPERLINK(""http://x"")",bad\nRival Inc'},
    )
    entries = {e.value: e.id for e in db_session.scalars(select(ListEntry))}
    exported = admin.get("/admin/lists/competitor_name.csv").get_data(as_text=True)
    values = [row[0] for row in csv.reader(io.StringIO(exported))][1:]
    assert sorted(values) == ['\'=HYPERLINK("http://x")', "Rival Inc"]
    response = admin.post(
        f"/admin/lists/{entries['Rival Inc']}/remove", data={"csrf_token": token, "note": "acquired by us"}
    )
    assert response.status_code == 302
    event_row = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "list.removed")).one()
    assert event_row.details == {"kind": "competitor_name", "value": "Rival Inc", "note": "acquired by us"}
    assert admin.post(f"/admin/lists/{entries['Rival Inc']}/remove", data={"csrf_token": token}).status_code == 404
    assert admin.post(f"/admin/lists/{entries['Rival Inc']}/remove", data={}).status_code == 400


def _submission(session, form_id, *, verdict, category=None, source="", lead=None, days_ago=0):
    last_id = session.scalar(select(Submission.id).order_by(Submission.id.desc())) or 0
    session.add(
        Submission(
            form_id=form_id,
            email=f"x{last_id}@acme.com",
            status="screened",
            verdict=verdict,
            reason_category=category,
            utm_source=source,
            lead_id=lead.id if lead else None,
            received_at=utcnow() - timedelta(days=days_ago),
        )
    )
    session.commit()


def test_dashboard_counts_the_funnel_and_rates(admin, db_session):
    forms = {f.slug: f.id for f in db_session.scalars(select(Form))}
    sql_lead = Lead(email="won@acme.com", stage="SQL", outcome="won")
    mql_lead = Lead(email="mql@acme.com", stage="MQL")
    db_session.add_all([sql_lead, mql_lead])
    db_session.commit()
    _submission(db_session, forms["request-demo"], verdict="accepted", source="<b>ads</b>", lead=sql_lead)
    _submission(db_session, forms["request-demo"], verdict="accepted", source="<b>ads</b>", lead=sql_lead)
    _submission(db_session, forms["whitepaper-lead-quality"], verdict="accepted", lead=mql_lead)
    _submission(db_session, forms["whitepaper-lead-quality"], verdict="rejected", category="spam")
    _submission(db_session, forms["request-demo"], verdict="held", category="competitor")
    _submission(db_session, forms["request-demo"], verdict="accepted", days_ago=90)  # outside the period
    html = admin.get("/admin/dashboard").get_data(as_text=True)
    funnel = html.split('aria-labelledby="funnel-h"')[1]
    for label, value in [("Submissions", 5), ("Accepted", 3), ("MQL", 2), ("SQL", 1), ("Won", 1)]:
        assert f"<title>{label}: {value}</title>" in funnel
    assert "20.0%" in html  # spam rate 1/5, competitor rate 1/5
    assert "&lt;b&gt;ads&lt;/b&gt;" in html and "<b>ads</b>" not in html
    assert "Screening queue</span><strong>1</strong>" in html
    old = admin.get(f"/admin/dashboard?since={(utcnow() - timedelta(days=100)).date()}&until=not-a-date")
    assert "<title>Submissions: 6</title>" in old.get_data(as_text=True)


def test_settings_pages_do_not_query_per_row(app, admin, db_session):
    engine = app.extensions["leadsieve.engine"]
    urls = ("/admin/forms", "/admin/dashboard", "/admin/lists?kind=blocked_domain", "/admin/destinations")
    few = {url: len(statements_for(engine, admin, url)) for url in urls}
    form_id = db_session.scalars(select(Form.id)).first()
    for i in range(30):
        db_session.add(Form(slug=f"extra-{i}", name=f"Extra {i}", kind="newsletter", settings={}))
        db_session.add(ListEntry(kind="blocked_domain", value=f"spam{i}.example"))
        db_session.add(Submission(form_id=form_id, email=f"p{i}@acme.com", verdict="accepted", utm_source=f"s{i}"))
        db_session.add(Destination(name=f"d{i}", kind="webhook", target=f"http://127.0.0.1:9/{i}"))
    db_session.commit()
    assert {url: len(statements_for(engine, admin, url)) for url in urls} == few


def add_destination(client, **fields):
    token = token_of(client, "/admin/destinations")
    return client.post("/admin/destinations", data={"csrf_token": token, "kind": "webhook", **fields})


def test_destination_to_a_private_address_is_refused_unless_allowed(admin, db_session, settings):
    for target in (
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "ftp://example.com/x",
    ):
        response = add_destination(admin, target=target)
        assert response.status_code == 400, target
        assert 'id="target-error"' in response.get_data(as_text=True)
    assert db_session.scalars(select(Destination)).first() is None


def test_add_destination_shows_secret_once_then_test_lead_and_replay(app, admin, db_session, http_receiver, run_worker):
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    response = add_destination(admin, name="CRM", target=http_receiver.url(), stages=["SQL"])
    html = response.get_data(as_text=True)
    destination = db_session.scalars(select(Destination)).one()
    assert response.status_code == 200 and destination.secret and destination.secret in html
    assert destination.secret not in admin.get("/admin/destinations").get_data(as_text=True)

    token = token_of(admin, "/admin/destinations")
    followed = admin.post(
        f"/admin/destinations/{destination.id}/test", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Test lead delivered to “CRM”" in followed
    assert http_receiver.effective[-1].json()["email"] == "test.lead@example.com"

    http_receiver.script(400)
    failed = admin.post(
        f"/admin/destinations/{destination.id}/test", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Test lead to “CRM” failed: HTTP 400" in failed

    form_id = db_session.scalars(select(Form.id)).first()
    submission = Submission(form_id=form_id, email="dead@acme.com", verdict="accepted")
    db_session.add(submission)
    db_session.flush()
    db_session.add(
        Delivery(
            submission_id=submission.id,
            destination_id=destination.id,
            idempotency_key="k-dead",
            status="dead",
            attempts=3,
            payload={"email": "dead@acme.com", "stage": "SQL"},
        )
    )
    db_session.commit()
    log = admin.get(f"/admin/destinations/{destination.id}").get_data(as_text=True)
    assert "dead@acme.com" in log and "Replay all dead (1)" in log
    admin.post(f"/admin/destinations/{destination.id}/replay", data={"csrf_token": token})
    run_worker()
    db_session.expire_all()
    assert db_session.scalars(select(Delivery.status)).one() == "delivered"
    assert [r.key for r in http_receiver.effective].count("k-dead") == 1


def test_reviewer_gets_403_on_every_settings_route(app, reviewer, db_session):
    """Walk the URL map: every route marked admin-only refuses a reviewer, GET and POST (with a valid token)."""
    from flask import url_for

    settings_rules = [
        r for r in app.url_map.iter_rules() if getattr(app.view_functions[r.endpoint], "admin_only", False)
    ]
    endpoints = {r.endpoint for r in settings_rules}
    assert {
        "admin.destinations",
        "admin.destination",
        "admin.destination_edit",
        "admin.destination_test",
        "admin.destination_remove",
        "admin.destination_replay",
        "admin.forms",
        "admin.form_new",
        "admin.form_edit",
        "admin.form_active",
        "admin.form_preview",
        "admin.lists",
        "admin.list_remove",
        "admin.list_export",
        "admin.list_suggestion",
    } <= endpoints
    db_session.add(Destination(name="Hook", kind="webhook", target="http://127.0.0.1:9/x"))
    db_session.add(ListEntry(kind="blocked_domain", value="spam.example"))
    db_session.commit()
    ids = {
        "destination_id": db_session.scalars(select(Destination.id)).one(),
        "form_id": db_session.scalars(select(Form.id)).first(),
        "entry_id": db_session.scalars(select(ListEntry.id)).one(),
        "kind": "blocked_domain",
    }
    token = csrf_from(reviewer.get("/admin/").get_data(as_text=True))
    for rule in settings_rules:
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: ids.get(arg, 1) for arg in rule.arguments})
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = reviewer.open(
                url,
                method=method,
                data={
                    "csrf_token": token,
                    "target": "https://example.com/x",
                    "kind": "blocked_domain",
                    "values": "x.example",
                    "domain": "spam.example",
                    "action": "block",
                    "name": "x",
                    "slug": "x",
                },
            )
            assert response.status_code == 403, f"{method} {url} answered {response.status_code}"
    db_session.expire_all()
    assert db_session.scalars(select(Destination.target)).one() == "http://127.0.0.1:9/x"
    assert db_session.scalars(select(ListEntry.value)).all() == ["spam.example"]


def test_edit_destination_revalidates_target_and_is_audited(app, admin, db_session):
    db_session.add(
        Destination(
            name="CRM",
            kind="webhook",
            target="https://crm.example.com/hook",
            secret="s3",
            stages=["SQL"],
            forms=[],
            options={"lifecycle": "off"},
        )
    )
    db_session.commit()
    destination = db_session.scalars(select(Destination)).one()
    url = f"/admin/destinations/{destination.id}/edit"
    page = admin.get(url).get_data(as_text=True)
    assert 'value="https://crm.example.com/hook"' in page and "lifecycle = off" in page
    assert f'href="{url}"' in admin.get("/admin/destinations").get_data(as_text=True)
    token = csrf_from(page)
    for target in ("http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data", "ftp://example.com/x"):
        refused = admin.post(url, data={"csrf_token": token, "target": target, "stages": ["SQL"], "active": "y"})
        assert refused.status_code == 400, target
        assert 'id="target-error"' in refused.get_data(as_text=True)
    bad_options = admin.post(
        url, data={"csrf_token": token, "target": "https://crm.example.com/hook", "options": "no equals sign"}
    )
    assert bad_options.status_code == 400 and 'id="options-error"' in bad_options.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Destination, destination.id).target == "https://crm.example.com/hook"

    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]  # the loopback receiver stands in for a CRM
    saved = admin.post(
        url,
        data={
            "csrf_token": token,
            "name": "CRM <b>EU</b>",
            "target": "http://127.0.0.1:9/eu",
            "stages": ["MQL", "SQL"],
            "forms": ["request-demo"],
            "oid": "00D1",
            "options": "lead_source = Website",
        },
    )  # active unticked
    assert saved.status_code == 302, re.findall(r'class="error"[^<]*<', saved.get_data(as_text=True))
    db_session.expire_all()
    row = db_session.get(Destination, destination.id)
    assert (row.name, row.target, row.stages, row.forms, row.active, row.secret) == (
        "CRM <b>EU</b>",
        "http://127.0.0.1:9/eu",
        ["MQL", "SQL"],
        ["request-demo"],
        False,
        "s3",
    )
    assert row.options == {"lead_source": "Website", "oid": "00D1"}
    event_row = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "destination.updated")).one()
    assert event_row.actor == "anna@example.com"
    assert event_row.details["changed"]["target"] == {
        "from": "https://crm.example.com/hook",
        "to": "http://127.0.0.1:9/eu",
    }
    html = admin.get(f"/admin/destinations/{destination.id}").get_data(as_text=True)
    assert "CRM &lt;b&gt;EU&lt;/b&gt;" in html and "<b>EU</b>" not in html
    still_refused = admin.post(url, data={"csrf_token": token, "target": "http://169.254.169.254/latest/meta-data"})
    assert still_refused.status_code == 400
    assert admin.get("/admin/destinations/999999/edit").status_code == 404


def test_replay_ignores_deliveries_of_other_destinations(admin, db_session):
    mine = Destination(name="Mine", kind="webhook", target="https://a.example.com/h")
    theirs = Destination(name="Theirs", kind="webhook", target="https://b.example.com/h")
    db_session.add_all([mine, theirs])
    db_session.flush()
    submission = Submission(form_id=db_session.scalars(select(Form.id)).first(), email="d@acme.com", verdict="accepted")
    db_session.add(submission)
    db_session.flush()
    other = Delivery(
        submission_id=submission.id,
        destination_id=theirs.id,
        idempotency_key="k-theirs",
        status="dead",
        attempts=3,
        payload={},
    )
    db_session.add(other)
    db_session.commit()
    token = token_of(admin, "/admin/destinations")
    response = admin.post(
        f"/admin/destinations/{mine.id}/replay",
        data={"csrf_token": token, "ids": [str(other.id)]},
        follow_redirects=True,
    )
    assert "Replaying 0 delivery(ies)." in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Delivery, other.id).status == "dead"
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "delivery.replayed")).first() is None


def test_dashboard_draws_rate_charts_per_form_and_source(admin, db_session):
    forms = {f.slug: f.id for f in db_session.scalars(select(Form))}
    for category in ("spam", "competitor", None, None):
        _submission(
            db_session,
            forms["request-demo"],
            verdict="rejected" if category else "accepted",
            category=category,
            source="<script>alert(1)</script>",
        )
    _submission(db_session, forms["newsletter"], verdict="rejected", category="student", source="news")
    html = admin.get("/admin/dashboard").get_data(as_text=True)
    per_form = html.split('data-chart="rates-form"')[1].split("</figure>")[0]
    per_source = html.split('data-chart="rates-source"')[1].split("</figure>")[0]
    assert "<svg" in per_form and "<svg" in per_source
    assert "<title>Request a demo — spam: 25.0%</title>" in per_form
    assert "<title>Request a demo — competitor: 25.0%</title>" in per_form
    assert "<title>Newsletter — student: 100.0%</title>" in per_form
    assert "&lt;script&gt;alert(1)&lt;/script&gt; — spam: 25.0%" in per_source
    assert "<script>alert(1)" not in html
    for chart in (per_form, per_source):  # drawn in the page: nothing to fetch
        assert "src=" not in chart and "href=" not in chart and "<script" not in chart


def test_sales_spam_suggestions_can_be_blocked_or_dismissed(admin, db_session):
    from app.leads.classification import record_feedback

    for email in ("bad@spammy.example", "other@spammy.example", "jo@gmail.com", "ok@meh.example"):
        lead = Lead(email=email, stage="MQL")
        db_session.add(lead)
        db_session.commit()
        record_feedback(db_session, lead=lead, outcome="spam", source="crm")
        db_session.commit()
    html = admin.get("/admin/lists?kind=blocked_domain").get_data(as_text=True)
    section = html.split('id="suggestions-h"')[1].split("</section>")[0]
    assert "spammy.example" in section and "2 time(s)" in section
    assert "gmail.com" in section and "jo@gmail.com" in section and "Block 1 address(es)" in section
    token = csrf_from(html)
    blocked = admin.post(
        "/admin/lists/suggestions",
        data={"csrf_token": token, "domain": "spammy.example", "action": "block"},
        follow_redirects=True,
    )
    assert "Blocked spammy.example." in blocked.get_data(as_text=True)
    freemail = admin.post(
        "/admin/lists/suggestions",
        data={"csrf_token": token, "domain": "gmail.com", "action": "block"},
        follow_redirects=True,
    )
    assert "Blocked only the address(es) jo@gmail.com" in freemail.get_data(as_text=True)
    dismissed = admin.post(
        "/admin/lists/suggestions",
        data={"csrf_token": token, "domain": "meh.example", "action": "dismiss", "note": "a real customer"},
        follow_redirects=True,
    )
    assert "Dismissed the suggestion to block meh.example." in dismissed.get_data(as_text=True)
    block_entries = select(ListEntry.kind, ListEntry.value).where(
        ListEntry.kind.in_(("blocked_domain", "blocked_email"))
    )
    assert set(db_session.execute(block_entries).all()) == {
        ("blocked_domain", "spammy.example"),
        ("blocked_email", "jo@gmail.com"),
    }
    event_row = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "domain.review_dismissed")).one()
    assert (event_row.actor, event_row.details) == (
        "anna@example.com",
        {"domain": "meh.example", "note": "a real customer"},
    )
    assert 'id="suggestions-h"' not in admin.get("/admin/lists").get_data(as_text=True)
    again = admin.post(
        "/admin/lists/suggestions",
        data={"csrf_token": token, "domain": "meh.example", "action": "dismiss"},
        follow_redirects=True,
    )
    assert "meh.example is not waiting for review" in again.get_data(as_text=True)
    assert (
        admin.post(
            "/admin/lists/suggestions", data={"csrf_token": token, "domain": "x.example", "action": "explode"}
        ).status_code
        == 400
    )


def test_lists_page_is_paginated_and_import_is_one_transaction(app, admin, db_session):
    from sqlalchemy import event

    engine = app.extensions["leadsieve.engine"]
    token = token_of(admin, "/admin/lists")
    commits = []

    def count(_conn):
        commits.append(1)

    event.listen(engine, "commit", count)
    try:
        admin.post(
            "/admin/lists",
            data={
                "csrf_token": token,
                "kind": "blocked_domain",
                "values": "\n".join(f"spam{i}.example" for i in range(120)),
            },
        )
    finally:
        event.remove(engine, "commit", count)
    assert db_session.scalar(select(func.count()).select_from(ListEntry)) == 120
    assert len(commits) == 1
    page1 = admin.get("/admin/lists?kind=blocked_domain").get_data(as_text=True)
    assert "(120)" in page1 and "Page 1 of 2" in page1 and page1.count("<code>spam") == 100
    page2 = admin.get("/admin/lists?kind=blocked_domain&page=2").get_data(as_text=True)
    assert page2.count("<code>spam") == 20
    exported = admin.get("/admin/lists/blocked_domain.csv").get_data(as_text=True)
    assert len(exported.strip().splitlines()) == 121  # the export is the whole list
