"""Languages in real Chromium: a right-to-left page mirrors its layout, and the script embed on another
site speaks the visitor's browser language (labels, button, errors, thank-you and its own links)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.embed.snippets import script_snippet
from app.models import Form, Submission


@pytest.fixture
def page_in(browser: Any) -> Iterator[Any]:
    """Open pages in a browser context whose language (Accept-Language, navigator.language) is given."""
    contexts = []

    def open_in(locale: str) -> Any:
        context = browser.new_context(viewport={"width": 1000, "height": 900}, locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_in
    for context in contexts:
        context.close()


def boxes(tab: Any) -> dict[str, dict[str, float]]:
    return {
        name: tab.locator(selector).bounding_box()
        for name, selector in {
            "form": "form[data-leadsieve-form]",
            "button": "form[data-leadsieve-form] button[type=submit]",
            "label": "label[for=email]",
        }.items()
    }


def test_right_to_left_page_mirrors(live_server, page_in, artifacts):
    arabic = page_in("ar-EG")
    arabic.goto(f"{live_server}/f/request-demo")
    assert arabic.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert arabic.locator("label[for=email]").inner_text().startswith("البريد الإلكتروني للعمل")
    rtl = boxes(arabic)
    arabic.screenshot(path=str(artifacts / "form-rtl.png"), full_page=True)
    # The button and the labels start at the form's right edge; the button is far from its left edge.
    form_right = rtl["form"]["x"] + rtl["form"]["width"]
    assert abs(rtl["button"]["x"] + rtl["button"]["width"] - form_right) < 1
    assert abs(rtl["label"]["x"] + rtl["label"]["width"] - form_right) < 1
    assert rtl["button"]["x"] > rtl["form"]["x"] + rtl["form"]["width"] / 2

    english = page_in("en-GB")
    english.goto(f"{live_server}/f/request-demo")
    assert english.evaluate("document.documentElement.dir") == "ltr"
    ltr = boxes(english)
    assert abs(ltr["button"]["x"] - ltr["form"]["x"]) < 1 and abs(ltr["label"]["x"] - ltr["form"]["x"]) < 1
    # The same form, mirrored: the button's distance from the start edge is the same on both sides.
    assert abs((form_right - rtl["button"]["x"] - rtl["button"]["width"]) - (ltr["button"]["x"] - ltr["form"]["x"])) < 1


def test_script_embed_speaks_the_visitors_language(app, db_session, live_server, host_site, page_in, artifacts):
    form = Form(
        slug="guide",
        name="The guide",
        kind="download",
        settings={"allowed_origins": [host_site.origin], "asset_url": "/static/guide.pdf"},
    )
    db_session.add(form)
    db_session.commit()
    with app.test_request_context(base_url=live_server):
        html = script_snippet(form, base_url=live_server)  # written in English: the form follows the browser
    host_site.pages["/guide"] = f"<!doctype html><html lang='en'><body><h1>Our guide</h1>{html}</body></html>"

    tab = page_in("de-DE")
    tab.goto(f"{host_site.origin}/guide")
    tab.locator("form[data-leadsieve-ready=true]").wait_for()
    assert tab.locator("form[data-leadsieve-form]").get_attribute("lang") == "de"
    assert tab.locator("label[for=ls-guide-email]").inner_text() == "Geschäftliche E-Mail-Adresse *"
    assert tab.locator("label[for=ls-guide-company]").inner_text() == "Unternehmen *"
    assert tab.locator("form[data-leadsieve-form] button[type=submit]").inner_text() == "Herunterladen"

    tab.click("form[data-leadsieve-ready=true] button[type=submit]")
    error = tab.locator("#ls-guide-email-error")
    error.wait_for()
    assert error.inner_text() == "Geben Sie Ihre E-Mail-Adresse ein."
    assert tab.locator("#ls-guide-first_name-error").inner_text() == "Geben Sie Ihren Vornamen ein."

    tab.fill("#ls-guide-email", "jana@acme.com")
    tab.fill("#ls-guide-first_name", "Jana")
    tab.fill("#ls-guide-company", "Acme")
    tab.click("form[data-leadsieve-ready=true] button[type=submit]")
    thanks = tab.locator(".ls-thanks")
    thanks.wait_for()
    assert thanks.get_attribute("lang") == "de"
    assert "Vielen Dank! Wir haben Ihre Angaben erhalten." in thanks.inner_text()
    assert thanks.locator("a").inner_text() == "Ihr Exemplar herunterladen"
    tab.screenshot(path=str(artifacts / "script-embed-german.png"), full_page=True)
    db_session.expire_all()
    assert db_session.scalars(select(Submission.language)).all() == ["de"]
