"""Embedded forms in real Chromium, on a host page of another origin."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.embed.snippets import iframe_snippet, script_snippet
from app.models import Finding, Form, Submission


def make_form(session, slug, *, kind="demo", allowed=(), **settings) -> Form:
    form = Form(
        slug=slug,
        name=f"Form {slug}",
        kind=kind,
        settings={"allowed_origins": list(allowed), "thank_you": f"Thanks from {slug}!", **settings},
    )
    session.add(form)
    session.commit()
    return form


def host_page(*snippets: str) -> str:
    body = "\n".join(f'<section class="slot">{s}</section>' for s in snippets)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Acme marketing</title>"
        "<style>body{font-family:serif;margin:2rem} button{background:red}</style></head>"
        f"<body><h1>Acme product page</h1>{body}</body></html>"
    )


def snippet(app, form, base, kind="script") -> str:
    with app.test_request_context(base_url=base):
        return (iframe_snippet if kind == "iframe" else script_snippet)(form, base_url=base)


def stored(db_session) -> list[Submission]:
    db_session.expire_all()
    return list(db_session.scalars(select(Submission).order_by(Submission.id)))


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_script_embed_upgrades_shows_errors_and_stores_with_context(
    app, db_session, live_server, host_site, page, artifacts
):
    form = make_form(db_session, "embed-demo", allowed=[host_site.origin])
    host_site.pages["/product"] = host_page(snippet(app, form, live_server))
    page.goto(f"{host_site.origin}/product?utm_source=newsletter&utm_campaign=spring&gclid=G-1")
    ready = page.locator("form[data-leadsieve-ready=true]")
    ready.wait_for()
    assert page.locator(".leadsieve-host").count() == 1  # moved into the shadow root

    page.fill("#ls-embed-demo-email", "li@")
    page.click("form[data-leadsieve-ready=true] button[type=submit]")
    error = page.locator("#ls-embed-demo-email-error")
    error.wait_for()
    assert "after the @-sign" in error.inner_text()
    assert page.locator("#ls-embed-demo-email").get_attribute("aria-invalid") == "true"
    assert stored(db_session) == []
    page.screenshot(path=str(artifacts / "script-embed-error.png"), full_page=True)

    page.fill("#ls-embed-demo-email", "li@initech.com")
    page.fill("#ls-embed-demo-first_name", "Li")
    page.fill("#ls-embed-demo-last_name", "Wei")
    page.fill("#ls-embed-demo-company", "Initech")
    page.click("form[data-leadsieve-ready=true] button[type=submit]")
    page.get_by_text("Thanks from embed-demo!").wait_for()
    page.screenshot(path=str(artifacts / "script-embed-thanks.png"), full_page=True)

    [submission] = wait_for(lambda: stored(db_session))
    assert page.url.startswith(host_site.origin)  # the visitor never left the host page
    assert (submission.utm_source, submission.utm_campaign) == ("newsletter", "spring")
    assert submission.page_url.startswith(f"{host_site.origin}/product?utm_source=newsletter")
    assert submission.raw["gclid"] == "G-1"
    assert submission.signals["origin"] == host_site.origin
    assert submission.signals["origin_allowed"] is True
    assert (submission.signals["token"], submission.signals["token_static"]) == ("valid", False)


def test_iframe_embed_sizes_itself_and_stores(app, db_session, live_server, host_site, page, artifacts):
    form = make_form(db_session, "frame-demo", kind="newsletter", allowed=[host_site.origin])
    host_site.pages["/blog"] = host_page(snippet(app, form, live_server, "iframe"))
    page.goto(f"{host_site.origin}/blog?utm_source=blog&utm_medium=organic")
    iframe = page.locator("iframe[data-leadsieve-frame]")
    wait_for(lambda: iframe.evaluate("f => f.style.height") not in ("", "640px"))
    first_height = iframe.evaluate("f => f.getBoundingClientRect().height")
    assert 100 < first_height < 640

    frame = page.frame_locator("iframe[data-leadsieve-frame]")
    frame.locator("#email").fill("sam@hooli.com")
    frame.locator("button[type=submit]").click()
    frame.get_by_text("Thanks from frame-demo!").wait_for()
    page.screenshot(path=str(artifacts / "iframe-embed-thanks.png"), full_page=True)
    [submission] = wait_for(lambda: stored(db_session))
    assert (submission.utm_source, submission.utm_medium) == ("blog", "organic")
    assert submission.page_url.startswith(f"{host_site.origin}/blog")
    wait_for(lambda: iframe.evaluate("f => f.getBoundingClientRect().height") != first_height)


def test_iframe_keeps_what_was_typed_when_embed_js_arrives_late(app, db_session, live_server, host_site, page):
    """The host script gives the frame its context by message: the frame is never reloaded, so a visitor
    who started typing before the (async, perhaps slow) script arrived loses nothing."""
    form = make_form(db_session, "late", kind="newsletter", allowed=[host_site.origin])
    frame_only = snippet(app, form, live_server, "iframe").split("<script")[0]
    host_site.pages["/late"] = host_page(frame_only)
    loads = []
    page.on("request", lambda request: loads.append(request.url) if "/f/late/embed" in request.url else None)
    page.goto(f"{host_site.origin}/late?utm_source=partner&utm_campaign=late-script")
    frame = page.frame_locator("iframe[data-leadsieve-frame]")
    frame.locator("#email").fill("early@hooli.com")
    page.add_script_tag(url=f"{live_server}/embed.js")
    iframe = page.locator("iframe[data-leadsieve-frame]")
    wait_for(lambda: iframe.evaluate("f => f.style.height") not in ("", "640px"))  # the script is talking to it
    wait_for(lambda: frame.locator("input[name=utm_source]").input_value() == "partner")
    assert frame.locator("#email").input_value() == "early@hooli.com"
    frame.locator("button[type=submit]").click()
    frame.get_by_text("Thanks from late!").wait_for()
    [submission] = wait_for(lambda: stored(db_session))
    assert submission.email == "early@hooli.com"
    assert (submission.utm_source, submission.utm_campaign) == ("partner", "late-script")
    assert submission.page_url.startswith(f"{host_site.origin}/late?utm_source=partner")
    assert len([url for url in loads if "/f/late/embed" in url and "embed=1" not in url]) == 1  # loaded once


def test_unlisted_origin_still_stores_and_is_marked(app, db_session, live_server, host_site, page, run_worker):
    form = make_form(db_session, "locked", kind="newsletter", allowed=["https://www.example.com"])
    host_site.pages["/new-site"] = host_page(snippet(app, form, live_server))
    page.goto(f"{host_site.origin}/new-site")
    page.wait_for_load_state("networkidle")
    # Not allowed to fetch a token from this origin: the form stays a plain form and posts natively.
    assert page.locator("form[data-leadsieve-ready=true]").count() == 0
    page.fill("#ls-locked-email", "kim@vandelay.com")
    page.click("button[type=submit]")
    page.get_by_text("Thanks from locked!").wait_for()
    assert page.url.startswith(live_server)
    [submission] = stored(db_session)
    assert submission.signals["origin"] == host_site.origin
    assert submission.signals["origin_allowed"] is False
    run_worker()  # screening holds it for review, naming the origin; the lead is not lost
    [submission] = stored(db_session)
    assert (submission.status, submission.verdict) == ("screened", "held")
    [finding] = db_session.scalars(
        select(Finding).where(Finding.submission_id == submission.id, Finding.code == "capture.origin")
    ).all()
    assert host_site.origin in finding.evidence


def test_two_forms_on_one_page(app, db_session, live_server, host_site, page):
    first = make_form(db_session, "first", kind="newsletter", allowed=[host_site.origin])
    second = make_form(db_session, "second", kind="newsletter", allowed=[host_site.origin])
    host_site.pages["/two"] = host_page(snippet(app, first, live_server), snippet(app, second, live_server))
    page.goto(f"{host_site.origin}/two")
    wait_for(lambda: page.locator("form[data-leadsieve-ready=true]").count() == 2)
    page.fill("#ls-second-email", "two@acme.com")
    page.click("form[data-leadsieve-form=second] button[type=submit]")
    page.get_by_text("Thanks from second!").wait_for()
    assert page.locator("form[data-leadsieve-form=first]").count() == 1  # untouched
    [submission] = wait_for(lambda: stored(db_session))
    assert (submission.email, submission.form_id) == ("two@acme.com", second.id)


def test_blocked_embed_js_leaves_a_working_plain_form(app, db_session, live_server, host_site, page):
    form = make_form(db_session, "plain", kind="newsletter", allowed=[host_site.origin])
    host_site.pages["/blocked"] = host_page(snippet(app, form, live_server))
    page.route("**/embed.js*", lambda route: route.abort())
    page.goto(f"{host_site.origin}/blocked")
    page.fill("#ls-plain-email", "blocked@acme.com")
    page.click("button[type=submit]")
    page.get_by_text("Thanks from plain!").wait_for()
    [submission] = stored(db_session)
    assert submission.email == "blocked@acme.com"
    assert (submission.signals["token"], submission.signals["token_static"]) == ("valid", True)
