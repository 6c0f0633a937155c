"""The admin in real Chromium: log in, work the queue, see the delivery arrive, edit a form with its live
preview, and prove that hostile submitted text stays text. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.users import set_user
from app.db import session_scope
from app.models import Delivery, Destination, Finding, Form, Submission, utcnow
from tests.system.browser.test_embed_browser import wait_for

XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


@pytest.fixture
def settings(settings):
    settings["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    return settings


@pytest.fixture
def signed_in(app, page, live_server):
    with app.app_context(), session_scope() as session:
        set_user(session, email="anna@example.com", password="admin password", role="admin")
        session.commit()
    page.goto(f"{live_server}/admin/")
    page.fill("#email", "anna@example.com")
    page.fill("#password", "admin password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")
    return page


def held_submission(session, *, email, company="Rival Ltd", days_ago=0, **fields):
    form = session.scalars(select(Form).where(Form.slug == "request-demo")).one()
    submission = Submission(
        form_id=form.id,
        email=email,
        first_name=fields.pop("first_name", "Li"),
        last_name="Wei",
        company=company,
        job_title="Head of Growth",
        status="screened",
        verdict="held",
        reason_category="competitor",
        received_at=utcnow() - timedelta(days=days_ago, minutes=5),
        **fields,
    )
    session.add(submission)
    session.flush()
    session.add(
        Finding(
            submission_id=submission.id,
            code="competitor.domain",
            category="competitor",
            weight=60,
            evidence=f"domain {email.rpartition('@')[2]} is on the competitor list, added by anna on 3 Nov",
        )
    )
    session.commit()
    return submission.id


def test_reviewer_approves_from_the_keyboard_and_the_lead_reaches_the_receiver(
    signed_in, db_session, http_receiver, run_worker, live_server, artifacts
):
    page = signed_in
    db_session.add(
        Destination(
            name="CRM webhook", kind="webhook", target=http_receiver.url(), secret="s3cret", stages=[], forms=[]
        )
    )
    db_session.commit()
    oldest = held_submission(db_session, email="li@partner.example", days_ago=2)
    held_submission(db_session, email="max@rival.co.uk", first_name="Max")
    page.reload()
    rows = page.locator("tr[data-row]")
    assert rows.count() == 2
    assert "li@partner.example" in rows.nth(0).inner_text()  # oldest first
    assert "is on the competitor list, added by anna on 3 Nov" in rows.nth(0).inner_text()
    page.screenshot(path=str(artifacts / "admin-queue.png"), full_page=True)

    page.fill("#note", "partner confirmed by phone")  # the reason goes with the decision
    page.locator("h1").click()  # leave the field: shortcuts are ignored while typing
    page.keyboard.press("j")  # first row
    page.keyboard.press("a")  # approve it
    page.wait_for_selector("text=Approved 1 submission(s).")
    assert page.locator("tr[data-row]").count() == 1
    run_worker()
    assert len(http_receiver.effective) == 1 and http_receiver.effective[0].json()["email"] == "li@partner.example"
    db_session.expire_all()
    assert db_session.scalars(select(Delivery.status)).one() == "delivered"

    lead_id = db_session.get(Submission, oldest).lead_id
    page.goto(f"{live_server}/admin/leads/{lead_id}")
    timeline = page.locator(".timeline").inner_text()
    assert "delivered" in timeline and "CRM webhook" in timeline
    assert "partner confirmed by phone" in timeline
    page.screenshot(path=str(artifacts / "admin-lead-timeline.png"), full_page=True)


def test_form_editor_shows_a_live_preview_and_the_embed_panel(signed_in, live_server, artifacts):
    page = signed_in
    page.goto(f"{live_server}/admin/forms/new")
    page.fill("#name", "Spring webinar")
    page.fill("#slug", "spring-webinar")
    page.select_option("#kind", "webinar")
    page.fill("#fields-6-key", "phone")  # the blank row below the kind's six: a field added
    page.fill("#webinar_starts_at", "2027-03-04 17:00 CET")
    preview = page.locator("#form-preview .preview-card")  # inside the open shadow root
    when = "Thursday 4 March 2027, 17:00 UTC+01:00"  # the start as visitors read it
    wait_for(lambda: "Spring webinar" in preview.inner_text() and when in preview.inner_text())
    assert preview.locator("input[name=phone]").count() == 1
    page.screenshot(path=str(artifacts / "admin-form-editor.png"), full_page=True)

    page.click("text=Create form")
    page.wait_for_selector("text=Saved “Spring webinar”.")
    assert "/f/spring-webinar" in page.locator("#snippet-script").input_value()
    assert "/f/spring-webinar/embed" in page.locator("#snippet-iframe").input_value()
    page.goto(f"{live_server}/f/spring-webinar")
    assert page.locator("input[name=phone]").count() == 1


def test_hostile_text_in_every_field_is_shown_as_text_everywhere(
    signed_in, client, live_server, db_session, run_worker, artifacts
):
    page = signed_in
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server}/f/contact-sales?utm_source={XSS}&utm_campaign={XSS}")
    for name in ("first_name", "last_name", "company", "job_title", "message"):
        page.fill(f"#{name}", XSS)
    page.fill("#email", "eve@acme.com")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Thank you")
    run_worker()
    db_session.expire_all()
    submission = db_session.scalars(select(Submission)).one()
    assert submission.company == XSS
    if submission.verdict != "held":  # put it in the queue too, whatever screening decided
        submission.verdict = "held"
        db_session.commit()
    urls = ["/admin/", "/admin/submissions", f"/admin/submissions/{submission.id}", "/admin/dashboard"]
    if submission.lead_id:
        urls += ["/admin/leads", f"/admin/leads/{submission.lead_id}"]
    for url in urls:
        page.goto(f"{live_server}{url}")
        assert "<img src=x onerror=alert(1)>" in page.locator("main").inner_text() or url == "/admin/dashboard", url
        assert page.locator("main img[src=x]").count() == 0 and page.locator("main script").count() == 0, url
    assert dialogs == []


def test_dashboard_draws_its_charts(signed_in, db_session, live_server, artifacts):
    page = signed_in
    form_ids = list(db_session.scalars(select(Form.id)))
    for i in range(24):
        db_session.add(
            Submission(
                form_id=form_ids[i % len(form_ids)],
                email=f"p{i}@acme.com",
                status="screened",
                verdict=("accepted", "accepted", "held", "rejected")[i % 4],
                reason_category=(None, None, "competitor", "spam")[i % 4],
                utm_source=("google", "linkedin", "newsletter")[i % 3],
                received_at=utcnow() - timedelta(days=i % 9),
            )
        )
    db_session.commit()
    page.goto(f"{live_server}/admin/dashboard")
    assert page.locator("svg.chart").count() >= 3
    assert page.locator("svg.chart rect.bar").count() > 5
    for chart in ("rates-form", "rates-source"):  # spam / competitor / student / invalid shares, drawn in the page
        assert page.locator(f"[data-chart={chart}] svg.chart.rates rect.bar").count() >= 4, chart
    page.set_viewport_size({"width": 1200, "height": 900})
    page.screenshot(path=str(artifacts / "admin-dashboard.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # phone width: still readable, no horizontal page scroll
    for url in (
        "/admin/dashboard",
        "/admin/",
        "/admin/leads",
        "/admin/submissions",
        "/admin/forms/new",
        "/admin/lists",
    ):
        page.goto(f"{live_server}{url}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), url
    page.goto(f"{live_server}/admin/dashboard")
    page.screenshot(path=str(artifacts / "admin-dashboard-phone.png"), full_page=True)


def test_the_queue_works_on_a_phone_and_the_oid_field_follows_the_kind(signed_in, db_session, live_server, artifacts):
    page = signed_in
    for n in range(3):
        held_submission(db_session, email=f"li{n}@rival.co.uk", company="Rival Ltd with a rather long name")
    db_session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/admin/")
    page.screenshot(path=str(artifacts / "queue-phone.png"), full_page=True)
    # Nothing wider than the screen: no sideways scrolling to reach the checkboxes or the actions.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.is_visible("button[value=approve]") and page.is_visible("input[name=ids]")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/admin/destinations")
    assert not page.is_visible("#oid")
    page.select_option("#kind", "salesforce")
    assert page.is_visible("#oid")
    page.select_option("#kind", "webhook")
    assert not page.is_visible("#oid")
