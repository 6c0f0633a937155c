"""Separate consents: two boxes, marketing never pre-ticked or required, each stored with its exact text,
version, time and language, and forwarded to the webhook, HubSpot (legalConsentOptions) and Salesforce."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from sqlalchemy import select

from app.consent.records import text_version
from app.models import Submission
from tests.consent.conftest import CONTACT_TEXT, DOWNLOAD, MARKETING_TEXT, set_form
from tests.forwarding.test_forwarding import add_destination
from tests.helpers import fetch_token, valid_fields


def checkbox(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no {name} box"
    return match.group(0)


def stored(db_session, email: str) -> Submission:
    db_session.expire_all()
    return db_session.scalars(select(Submission).where(Submission.email == email)).one()


def test_the_two_boxes_are_rendered_separately_and_marketing_is_not_ticked(client, two_boxes):
    html = client.get(f"/f/{two_boxes}").get_data(as_text=True)
    contact, marketing = checkbox(html, "consent"), checkbox(html, "marketing_consent")
    assert "checked" not in marketing and "required" not in marketing
    assert "required" in contact
    assert html.index(CONTACT_TEXT) < html.index(MARKETING_TEXT)
    assert re.search(r'<label for="marketing_consent">Send me the monthly product news\.</label>', html)


def test_the_script_embed_renders_both_boxes_with_its_own_ids(app, two_boxes):
    from app.embed.snippets import script_snippet
    from app.models import Form

    with app.app_context():
        from app.db import get_session

        form_row = get_session().scalars(select(Form).where(Form.slug == two_boxes)).one()
        html = script_snippet(form_row, base_url="https://forms.example.com")
    marketing = checkbox(html, "marketing_consent")
    assert f'id="ls-{two_boxes}-marketing_consent"' in marketing and "checked" not in marketing
    assert f'id="ls-{two_boxes}-consent"' in checkbox(html, "consent")


def test_a_required_contact_consent_left_unticked_is_an_error(client, db_session, two_boxes):
    fields = valid_fields(two_boxes, token=fetch_token(client, two_boxes), marketing_consent="y")
    del fields["consent"]
    response = client.post(f"/f/{two_boxes}", data=fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="consent-error"' in html
    assert "checked" in checkbox(html, "marketing_consent")  # the visitor's own choice is kept
    assert db_session.scalars(select(Submission)).all() == []


def test_marketing_is_never_required_and_contact_may_be_optional(client, db_session, app, two_boxes):
    set_form(app, two_boxes, consent_required=False)
    fields = valid_fields(two_boxes, token=fetch_token(client, two_boxes))
    del fields["consent"]
    response = client.post(f"/f/{two_boxes}", data=fields)
    assert response.status_code == 303
    submission = stored(db_session, "jane@acme.com")
    assert submission.consents["contact"]["given"] is False
    assert submission.consents["marketing"]["given"] is False
    assert "required" not in checkbox(client.get(f"/f/{two_boxes}").get_data(as_text=True), "consent")


def test_each_consent_is_stored_with_its_text_version_time_and_language(client, db_session, two_boxes):
    fields = valid_fields(two_boxes, token=fetch_token(client, two_boxes), marketing_consent="y")
    response = client.post(f"/f/{two_boxes}", data=fields, headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert response.status_code == 303
    submission = stored(db_session, "jane@acme.com")
    contact, marketing = submission.consents["contact"], submission.consents["marketing"]
    assert (contact["given"], contact["text"], contact["version"]) == (True, CONTACT_TEXT, text_version(CONTACT_TEXT))
    assert (marketing["given"], marketing["text"]) == (True, MARKETING_TEXT)
    assert marketing["version"] == text_version(MARKETING_TEXT) != contact["version"]
    assert contact["language"] == marketing["language"]
    assert contact["language"].startswith("de")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", contact["at"])
    # The single-consent columns keep the contact consent for older readers.
    assert (submission.consent_given, submission.consent_text) == (True, CONTACT_TEXT)


def test_a_form_without_boxes_stores_no_consents(client, db_session):
    slug = "webinar-pipeline-live"
    assert client.post(f"/f/{slug}", data=valid_fields(slug, token=fetch_token(client, slug))).status_code == 303
    assert stored(db_session, "raj@globex.com").consents == {}


def test_consents_reach_the_webhook_hubspot_and_salesforce(app, client, run_worker, http_receiver, two_boxes):
    add_destination(app, "webhook", http_receiver.url("/hook"))
    add_destination(app, "hubspot", http_receiver.url("/hubspot"), options={"subscription_type_id": "999"})
    add_destination(
        app,
        "salesforce",
        http_receiver.url("/salesforce"),
        options={"oid": "00D000000000001", "consent.contact": "Contact_Consent__c", "consent.marketing": "Mkt__c"},
    )
    fields = valid_fields(two_boxes, token=fetch_token(client, two_boxes))  # contact ticked, marketing not
    assert client.post(f"/f/{two_boxes}", data=fields).status_code == 303
    run_worker()
    by_path = {r.path: r for r in http_receiver.requests}
    assert sorted(by_path) == ["/hook", "/hubspot", "/salesforce"]

    consents = by_path["/hook"].json()["consents"]
    assert consents["contact"]["given"] is True and consents["contact"]["text"] == CONTACT_TEXT
    assert consents["marketing"]["given"] is False and consents["marketing"]["confirmed"] is False
    assert by_path["/hook"].json()["data"]["consents"] == consents

    legal = by_path["/hubspot"].json()["legalConsentOptions"]
    assert legal == {
        "consent": {
            "consentToProcess": True,
            "text": CONTACT_TEXT,
            "communications": [{"value": False, "subscriptionTypeId": 999, "text": MARKETING_TEXT}],
        }
    }
    form = parse_qs(by_path["/salesforce"].body.decode())
    assert form["Contact_Consent__c"] == ["1"] and form["Mkt__c"] == ["0"]
    # The readable text (Salesforce description, e-mail and Slack) says it too.
    assert re.search(r"Consent: +contact: yes; marketing: no\n", form["description"][0])


def test_hubspot_gets_no_consent_options_from_a_form_without_boxes(app, client, run_worker, http_receiver):
    add_destination(app, "hubspot", http_receiver.url("/hubspot"))
    slug = "webinar-pipeline-live"
    assert client.post(f"/f/{slug}", data=valid_fields(slug, token=fetch_token(client, slug))).status_code == 303
    run_worker()
    [request] = http_receiver.requests
    assert "legalConsentOptions" not in request.json()


def test_old_single_consent_forms_still_require_their_box(client, db_session):
    # The demo download form has one consent text and no consent_required setting: required, as before.
    fields = valid_fields(DOWNLOAD, token=fetch_token(client, DOWNLOAD))
    del fields["consent"]
    assert client.post(f"/f/{DOWNLOAD}", data=fields).status_code == 400
