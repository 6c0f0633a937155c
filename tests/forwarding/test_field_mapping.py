"""A form's own fields reach every destination: the webhook's `answers` under each field's webhook key,
HubSpot (Forms API v3 `fields`) and Salesforce (Web-to-Lead form post) under the names the marketer
mapped; prefilled and hidden fields arrive as the visitor's browser posted them."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.forwarding.adapters import hubspot, salesforce
from app.forwarding.field_mapping import crm_value, field_payload
from app.models import Form, Submission
from forms.field_spec import parse_fields
from tests.forwarding.test_forwarding import add_destination

FIELDS = [
    {"key": "email", "type": "email", "label": "", "prefill": True},
    {"key": "first_name", "type": "text", "label": "Your first name", "prefill": True},
    {"key": "company", "type": "text", "label": "", "required": True, "mapping": {"hubspot": "company_name"}},
    {
        "key": "seats",
        "type": "number",
        "label": "Seats",
        "mapping": {"hubspot": "num_seats", "salesforce": "Seats__c", "webhook": "seat_count"},
    },
    {
        "key": "tools",
        "type": "multi_checkbox",
        "label": "Tools",
        "options": "crm = A CRM\nsheet = Spreadsheets",
        "mapping": {"hubspot": "tools_used", "salesforce": "00N5e00000abcde"},
    },
    {"key": "updates", "type": "checkbox", "label": "Updates", "mapping": {"hubspot": "wants_updates"}},
    {
        "key": "campaign",
        "type": "hidden",
        "label": "",
        "default": "spring",
        "prefill": True,
        "mapping": {"salesforce": "Campaign_Source__c", "hubspot": "campaign_source"},
    },
    {"key": "partner", "type": "text", "label": "Partner", "hidden": True, "default": "none"},
    {"key": "budget", "type": "select", "label": "", "options": [{"value": "over_50k", "label": ""}]},
]


@pytest.fixture
def mapped_form(db_session):
    specs = parse_fields(FIELDS)
    db_session.add(Form(slug="mapped", name="Mapped", kind="demo", settings={"fields": [s.as_dict() for s in specs]}))
    db_session.commit()
    return "mapped"


def page_values(html: str) -> MultiDict:
    """What the browser would post from the page as served: every input's name and value."""
    values: MultiDict = MultiDict()
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag:
            values.add(name.group(1), unescape(value.group(1)) if value else "")
    return values


def test_prefill_and_hidden_fields_reach_the_webhook_and_the_crms_under_their_mapped_names(
    app, client, db_session, run_worker, http_receiver, mapped_form
):
    add_destination(app, "webhook", http_receiver.url("/hook"))
    add_destination(app, "hubspot", http_receiver.url("/hs"))
    add_destination(app, "salesforce", http_receiver.url("/sf"), options={"oid": "00D000000000001"})
    html = client.get("/f/mapped?email=li@initech.com&first_name=Li&campaign=launch&partner=evil").get_data(
        as_text=True
    )
    form = page_values(html)
    assert (form["email"], form["first_name"], form["campaign"], form["partner"]) == (
        "li@initech.com",
        "Li",
        "launch",
        "none",
    )
    for name, value in {"company": "Initech", "seats": "12", "updates": "y", "budget": "over_50k"}.items():
        form.setlist(name, [value])
    form.setlist("tools", ["crm", "sheet"])
    assert client.post("/f/mapped", data=form).status_code == 303
    run_worker()

    by_path = {r.path: r for r in http_receiver.requests}
    assert sorted(by_path) == ["/hook", "/hs", "/sf"]
    hook = by_path["/hook"].json()
    assert hook["answers"] == {
        "seat_count": 12,
        "tools": ["crm", "sheet"],
        "updates": True,
        "campaign": "launch",
        "partner": "none",
        "budget": "over_50k",
    }
    assert hook["first_name"] == "Li" and hook["company"] == "Initech"

    sent = {f["name"]: f["value"] for f in by_path["/hs"].json()["fields"]}
    assert all(f["objectTypeId"] == "0-1" for f in by_path["/hs"].json()["fields"])
    assert (sent["num_seats"], sent["tools_used"], sent["wants_updates"]) == ("12", "crm;sheet", "true")
    assert (sent["campaign_source"], sent["company_name"], sent["company"]) == ("launch", "Initech", "Initech")
    assert "partner" not in sent and "budget" not in sent  # unmapped: HubSpot refuses unknown properties

    posted = {k: v[0] for k, v in parse_qs(by_path["/sf"].body.decode()).items()}
    assert (posted["Seats__c"], posted["00N5e00000abcde"], posted["Campaign_Source__c"]) == (
        "12",
        "crm;sheet",
        "launch",
    )
    assert posted["oid"] == "00D000000000001" and posted["email"] == "li@initech.com"


def test_fixed_destination_fields_win_over_mapped_ones():
    payload = {"email": "a@b.com", "crm_fields": {"hubspot": {"source": "form"}, "salesforce": {"Source__c": "form"}}}
    sent = {f["name"]: f["value"] for f in hubspot.submission(payload, {"field.source": "fixed"})["fields"]}
    assert sent["source"] == "fixed"
    assert salesforce.fields(payload, {"oid": "1", "field.Source__c": "fixed"})["Source__c"] == "fixed"
    assert salesforce.fields(payload, {"oid": "1"})["Source__c"] == "form"


def test_a_payload_routed_before_field_lists_still_sends():
    payload = {"email": "a@b.com", "answers": {"budget": "none"}}
    assert [f["name"] for f in hubspot.submission(payload, {})["fields"]] == ["email"]
    assert "budget" not in salesforce.fields(payload, {"oid": "1"})


@pytest.mark.parametrize(
    ("value", "destination", "sent"),
    [
        (True, "hubspot", "true"),
        (False, "hubspot", "false"),
        (True, "salesforce", "1"),
        (["a", "b"], "salesforce", "a;b"),
        (2.5, "hubspot", "2.5"),
        ("x", "salesforce", "x"),
    ],
    ids=["hs-true", "hs-false", "sf-true", "sf-multi", "number", "text"],
)
def test_crm_values(value, destination, sent):
    assert crm_value(value, destination) == sent


def test_answers_of_a_field_removed_since_keep_their_key(app, client, db_session, mapped_form):
    token = re.search(r'name="token"[^>]*value="([^"]*)"', client.get("/f/mapped").get_data(as_text=True))
    assert token
    response = client.post(
        "/f/mapped", json={"token": token.group(1), "email": "li@initech.com", "company": "I", "seats": "3"}
    )
    assert response.status_code == 202
    form = db_session.scalars(select(Form).where(Form.slug == "mapped")).one()
    form.settings = {"fields": [f for f in form.settings["fields"] if f["key"] != "seats"]}
    db_session.commit()
    submission = db_session.scalars(select(Submission)).one()
    assert field_payload(submission)["answers"]["seats"] == 3
