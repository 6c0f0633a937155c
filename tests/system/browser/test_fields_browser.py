"""A form's own fields in real Chromium, on the hosted page, in the script embed and in the iframe on a
host page of another origin: every type rendered with its required marker, the server's messages beside
the fields, links prefilling the allow-listed fields (a hidden one included), typed answers stored."""

from __future__ import annotations

from typing import Any

import pytest

from forms.field_spec import parse_fields
from tests.system.browser.test_embed_browser import host_page, make_form, snippet, stored, wait_for

FIELDS = [
    {"key": "email", "type": "email", "label": "", "required": True, "prefill": True},
    {"key": "seats", "type": "number", "label": "Seats", "required": True, "min": 1, "max": 500, "prefill": True},
    {"key": "use_case", "type": "textarea", "label": "Use case", "help": "A sentence or two."},
    {"key": "mobile", "type": "tel", "label": "Mobile"},
    {"key": "plan", "type": "select", "label": "Plan", "required": True, "options": "team = Team\nbig = Enterprise"},
    {"key": "region", "type": "radio", "label": "Region", "required": True, "options": "eu = Europe\nus = Americas"},
    {"key": "tools", "type": "multi_checkbox", "label": "Tools", "options": "crm = A CRM\nsheet = Spreadsheets"},
    {"key": "updates", "type": "checkbox", "label": "Send me updates", "required": True},
    {"key": "campaign", "type": "hidden", "label": "", "default": "spring", "prefill": True},
    {"key": "partner", "type": "text", "label": "Partner", "hidden": True, "default": "none"},
]
EXPECTED = {
    "seats": 40,
    "plan": "big",
    "region": "us",
    "tools": ["crm", "sheet"],
    "updates": True,
    "use_case": "Routing",
    "campaign": "launch",
    "partner": "none",
}
QUERY = "email=li@initech.com&seats=40&campaign=launch&partner=evil&plan=big"


def field_form(db_session, slug: str, allowed: list[str]) -> Any:
    return make_form(db_session, slug, kind="demo", allowed=allowed, fields=[s.as_dict() for s in parse_fields(FIELDS)])


def check_markers(scope: Any, prefix: str) -> None:
    """Required fields carry the marker and the attribute; help is linked; contact autocomplete kept."""
    assert scope.locator(f"label[for={prefix}seats]").inner_text().strip() == "Seats *"
    assert scope.locator(f"#{prefix}seats").get_attribute("required") is not None
    assert scope.locator(f"#{prefix}email").get_attribute("autocomplete") == "email"
    assert scope.locator(f"#{prefix}region-0").get_attribute("required") is not None
    assert scope.locator(f"#{prefix}region legend").inner_text().strip() == "Region *"
    assert scope.locator(f"label[for={prefix}updates]").inner_text().strip() == "Send me updates *"
    assert scope.locator(f"#{prefix}tools-1").get_attribute("type") == "checkbox"
    assert scope.locator(f"#{prefix}mobile").get_attribute("type") == "tel"
    assert scope.locator(f"#{prefix}use_case").get_attribute("aria-describedby") == f"{prefix}use_case-help"
    assert scope.locator(f"#{prefix}campaign").get_attribute("type") == "hidden"
    assert scope.locator(f"#{prefix}plan").input_value() == ""  # not allow-listed: the link cannot choose


def check_errors(scope: Any, prefix: str) -> None:
    scope.locator(f"#{prefix}seats-error").wait_for()
    assert scope.locator(f"#{prefix}plan-error").inner_text() == "Choose an answer."
    assert scope.locator(f"#{prefix}region-error").inner_text() == "Choose an answer."
    assert scope.locator(f"#{prefix}updates-error").inner_text() == "Tick this box to continue."
    assert scope.locator(f"#{prefix}seats-error").inner_text() == "Enter a number from 1 to 500."
    assert scope.locator(f"#{prefix}seats").get_attribute("aria-invalid") == "true"


def fill(scope: Any, prefix: str) -> None:
    scope.locator(f"#{prefix}seats").fill("40")
    scope.locator(f"#{prefix}plan").select_option("big")
    scope.locator(f"#{prefix}region-1").check()
    scope.locator(f"#{prefix}tools-0").check()
    scope.locator(f"#{prefix}tools-1").check()
    scope.locator(f"#{prefix}updates").check()
    scope.locator(f"#{prefix}use_case").fill("Routing")


@pytest.fixture
def settings(settings):
    settings.update(RATELIMIT_ENABLED=False)
    return settings


def test_hosted_page(app, db_session, live_server, page):
    field_form(db_session, "fields-hosted", [])
    page.goto(f"{live_server}/f/fields-hosted?{QUERY}")
    check_markers(page, "")
    assert page.locator("#seats").input_value() == "40" and page.locator("#campaign").input_value() == "launch"
    assert page.locator("#partner").input_value() == "none"
    page.locator("#seats").fill("0")
    page.click("button[type=submit]")
    check_errors(page, "")
    fill(page, "")
    page.click("button[type=submit]")
    page.get_by_text("Thanks from fields-hosted!").wait_for()
    [submission] = stored(db_session)
    assert submission.answers == EXPECTED and submission.email == "li@initech.com"


def test_script_embed(app, db_session, live_server, host_site, page):
    form = field_form(db_session, "fields-script", [host_site.origin])
    host_site.pages["/landing"] = host_page(snippet(app, form, live_server))
    page.goto(f"{host_site.origin}/landing?{QUERY}")
    page.locator("form[data-leadsieve-ready=true]").wait_for()
    prefix = "ls-fields-script-"
    check_markers(page, prefix)
    assert page.locator(f"#{prefix}seats").input_value() == "40"
    assert page.locator(f"#{prefix}campaign").input_value() == "launch"
    assert page.locator(f"#{prefix}partner").input_value() == "none"
    page.locator(f"#{prefix}seats").fill("0")
    page.click("form[data-leadsieve-ready=true] button[type=submit]")
    check_errors(page, prefix)
    assert stored(db_session) == []
    fill(page, prefix)
    page.click("form[data-leadsieve-ready=true] button[type=submit]")
    page.get_by_text("Thanks from fields-script!").wait_for()
    [submission] = wait_for(lambda: stored(db_session))
    assert submission.answers == EXPECTED


def test_iframe_embed(app, db_session, live_server, host_site, page):
    form = field_form(db_session, "fields-frame", [host_site.origin])
    host_site.pages["/page"] = host_page(snippet(app, form, live_server, "iframe"))
    page.goto(f"{host_site.origin}/page?{QUERY}")
    frame = page.frame_locator("iframe[data-leadsieve-frame]")
    wait_for(lambda: frame.locator("#seats").input_value() == "40")  # from the host page's URL
    assert frame.locator("#campaign").input_value() == "launch"
    check_markers(frame, "")
    frame.locator("#seats").fill("0")
    frame.locator("button[type=submit]").click()
    check_errors(frame, "")
    fill(frame, "")
    frame.locator("button[type=submit]").click()
    frame.get_by_text("Thanks from fields-frame!").wait_for()
    [submission] = wait_for(lambda: stored(db_session))
    assert submission.answers == EXPECTED
