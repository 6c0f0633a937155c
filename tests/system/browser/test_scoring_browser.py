"""The Scoring page in real Chromium: save a rule change, and the re-score's progress turns to done on the
page by itself (app/static/scoring_rules.js polls it) once the worker has run, under the admin CSP."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Lead
from tests.helpers import valid_fields
from tests.system.browser.test_admin_browser import signed_in  # noqa: F401  (fixture)


def test_saving_a_rule_shows_the_rescore_progress_until_done(
    signed_in,  # noqa: F811  (the fixture imported above)
    client,
    db_session,
    run_worker,
    live_server,
    artifacts,  # noqa: F811
):
    page = signed_in
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    post = valid_fields("request-demo", email="ana@initech.com", job_title="Analyst", company_size="1_10")
    assert client.post("/f/request-demo", json=post).status_code == 202
    run_worker()
    assert db_session.scalars(select(Lead.stage)).one() == "MQL"

    page.goto(f"{live_server}/admin/scoring")
    page.fill("#sql_min_fit", "0")
    page.click("button[value=save]")
    page.wait_for_url(f"{live_server}/admin/scoring")
    assert page.text_content("#rescore-status") == "queued"
    assert page.text_content("#rescore-total") == "1"

    run_worker()  # the re-score job, while the page stays open
    expect(page.locator("#rescore-status")).to_have_text("done")  # no reload: the script polled it
    assert page.text_content("#rescore-done") == "1" and page.text_content("#rescore-promoted") == "1"
    assert page.get_attribute("#rescore", "data-finished") == "1" and page.is_hidden("#rescore-resume")
    page.screenshot(path=str(artifacts / "scoring-rules.png"), full_page=True)
    db_session.expire_all()
    assert db_session.scalars(select(Lead.stage)).one() == "SQL"
    assert errors == []
