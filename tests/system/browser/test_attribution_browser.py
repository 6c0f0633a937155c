"""The script embed in real Chromium hands over what only the host page knows: its title and HubSpot's
`hubspotutk` cookie, which reach the payload's `attribution` (app/forwarding/attribution.py)."""

from __future__ import annotations

from sqlalchemy import select

from app.forwarding.attribution import attribution_payload
from app.models import Submission
from tests.system.browser.test_embed_browser import host_page, make_form, snippet

HUTK = "0123456789abcdef0123456789abcdef"


def fill_and_send(page) -> None:
    page.locator("form[data-leadsieve-ready=true]").wait_for()
    for field, value in (
        ("email", "li@initech.com"),
        ("first_name", "Li"),
        ("last_name", "Wei"),
        ("company", "Initech"),
    ):
        page.fill(f"#ls-attr-{field}", value)
    page.click("form[data-leadsieve-ready=true] button[type=submit]")
    page.get_by_text("Thanks from attr!").wait_for()  # the submission is stored before this answer


def only_submission(db_session) -> Submission:
    db_session.expire_all()
    return db_session.scalars(select(Submission)).one()


def test_the_host_pages_title_and_hubspot_cookie_reach_the_attribution(app, db_session, live_server, host_site, page):
    form = make_form(db_session, "attr", allowed=[host_site.origin])
    host_site.pages["/pricing"] = host_page(snippet(app, form, live_server))
    page.context.add_cookies([{"name": "hubspotutk", "value": HUTK, "url": host_site.origin}])
    page.goto(f"{host_site.origin}/pricing?utm_source=linkedin&li_fat_id=L-1")
    fill_and_send(page)
    seen = attribution_payload(only_submission(db_session))["attribution"]
    assert (seen["hutk"], seen["page_title"], seen["utm_source"]) == (HUTK, "Acme marketing", "linkedin")
    assert seen["click_ids"] == {"li_fat_id": "L-1"}
    assert seen["page_url"] == f"{host_site.origin}/pricing?utm_source=linkedin&li_fat_id=L-1"


def test_no_hubspot_cookie_no_hutk(app, db_session, live_server, host_site, page):
    form = make_form(db_session, "attr", allowed=[host_site.origin])
    host_site.pages["/pricing"] = host_page(snippet(app, form, live_server))
    page.context.add_cookies([{"name": "hubspotutk", "value": "not-hubspots", "url": host_site.origin}])
    page.goto(f"{host_site.origin}/pricing")
    fill_and_send(page)
    submission = only_submission(db_session)
    assert "hutk" not in submission.raw
    assert attribution_payload(submission)["attribution"]["hutk"] == ""
