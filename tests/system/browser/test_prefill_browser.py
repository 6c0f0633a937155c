"""Prefill from the URL, absolute asset and calendar links, and post-redirect-get, in real Chromium:
the hosted page, the script embed and the iframe on a host page of another origin."""

from __future__ import annotations

import icalendar

from tests.system.browser.test_embed_browser import host_page, make_form, snippet, stored, wait_for

ASSET = "/static/demo/lead-quality-playbook.txt"
WEBINAR = {"title": "Spring Live", "starts_at": "2027-03-04T15:00+01:00", "join_url": "https://meet.example.com/s"}


def test_hosted_page_prefills_and_a_refresh_of_the_thank_you_page_posts_nothing(app, db_session, live_server, page):
    app.config["PUBLIC_BASE_URL"] = live_server
    make_form(db_session, "guide", kind="download", asset_url=ASSET, asset_name="the guide")
    page.goto(f"{live_server}/f/guide?email=ada@acme.com&first_name=Ada&utm_source=newsletter&consent=y")
    assert page.locator("#email").input_value() == "ada@acme.com"
    assert page.locator("#first_name").input_value() == "Ada"
    page.fill("#company", "Analytical Engines")
    page.click("button[type=submit]")
    page.get_by_text("Thanks from guide!").wait_for()
    assert "/f/guide/thanks/" in page.url
    link = page.get_by_role("link", name="Download the guide")
    assert link.get_attribute("href") == f"{live_server}{ASSET}"
    page.reload()
    page.get_by_text("Thanks from guide!").wait_for()
    [submission] = stored(db_session)  # one, after the refresh too
    assert (submission.email, submission.first_name, submission.utm_source) == ("ada@acme.com", "Ada", "newsletter")


def test_script_embed_prefills_from_the_host_page_and_links_the_asset_absolutely(
    app, db_session, live_server, host_site, page
):
    app.config["PUBLIC_BASE_URL"] = live_server
    form = make_form(
        db_session, "embed-guide", kind="download", allowed=[host_site.origin], asset_url=ASSET, consent_text="I agree."
    )
    host_site.pages["/landing"] = host_page(snippet(app, form, live_server))
    page.goto(f"{host_site.origin}/landing?email=ada@acme.com&first_name=Ada&consent=y&utm_source=linkedin")
    page.locator("form[data-leadsieve-ready=true]").wait_for()
    assert page.locator("#ls-embed-guide-email").input_value() == "ada@acme.com"
    assert page.locator("#ls-embed-guide-first_name").input_value() == "Ada"
    assert not page.locator("#ls-embed-guide-consent").is_checked()  # never prefilled
    page.fill("#ls-embed-guide-company", "Analytical Engines")
    page.check("#ls-embed-guide-consent")
    page.click("form[data-leadsieve-ready=true] button[type=submit]")
    link = page.get_by_role("link", name="Download your copy")
    link.wait_for()
    href = link.get_attribute("href")
    assert href == f"{live_server}{ASSET}"  # not the host site's /static/…, which would 404
    assert page.request.get(href).status == 200
    [submission] = wait_for(lambda: stored(db_session))
    assert (submission.email, submission.first_name, submission.utm_source) == ("ada@acme.com", "Ada", "linkedin")


def test_iframe_takes_prefill_from_the_host_page_and_offers_the_calendar(app, db_session, live_server, host_site, page):
    app.config["PUBLIC_BASE_URL"] = live_server
    form = make_form(db_session, "frame-live", kind="webinar", allowed=[host_site.origin], webinar=WEBINAR)
    host_site.pages["/webinar"] = host_page(snippet(app, form, live_server, "iframe"))
    page.goto(f"{host_site.origin}/webinar?email=raj@globex.com&first_name=Raj&utm_campaign=spring")
    frame = page.frame_locator("iframe[data-leadsieve-frame]")
    wait_for(lambda: frame.locator("#email").input_value() == "raj@globex.com")
    assert frame.locator("#first_name").input_value() == "Raj"
    frame.locator("#last_name").fill("Patel")
    frame.locator("button[type=submit]").click()
    calendar = frame.get_by_role("link", name="Add to calendar")
    calendar.wait_for()
    href = calendar.get_attribute("href")
    assert href.startswith(f"{live_server}/f/frame-live/thanks/") and href.endswith("/calendar.ics")
    answer = page.request.get(href)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/calendar")
    [event] = icalendar.Calendar.from_ical(answer.body()).walk("VEVENT")
    assert str(event["URL"]) == WEBINAR["join_url"] and str(event["SUMMARY"]) == "Spring Live"
    assert "We will e-mail you the link to join." in frame.locator("main").inner_text()

    [inner] = [f for f in page.frames if "/f/frame-live/thanks/" in f.url]
    inner.evaluate("location.reload()")  # a refresh inside the frame shows the page again, posts nothing
    frame.get_by_role("link", name="Add to calendar").wait_for()
    [submission] = wait_for(lambda: stored(db_session))
    assert (submission.email, submission.first_name, submission.utm_campaign) == ("raj@globex.com", "Raj", "spring")
