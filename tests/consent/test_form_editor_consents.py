"""The form editor edits both consent texts and whether the contact box is required; the live preview
shows the two boxes."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Form
from tests.admin.test_form_editor_visitor_email import checked, field
from tests.helpers import csrf_from


def editor_post(admin, **data):
    return {
        "name": "Spring newsletter",
        "slug": "spring-news",
        "kind": "newsletter",
        "active": "y",
        "shown": ["email"],
        "required": ["email"],
        "csrf_token": csrf_from(admin.get("/admin/forms/new").get_data(as_text=True)),
        **data,
    }


def test_consent_texts_and_the_required_switch_round_trip(admin, db_session):
    data = editor_post(
        admin, consent_text="Contact me about my sign-up.", marketing_consent_text="Send me the newsletter."
    )  # the required box left unticked: contact consent optional
    response = admin.post("/admin/forms/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    form = db_session.scalars(select(Form).where(Form.slug == "spring-news")).one()
    assert form.settings["consent_text"] == "Contact me about my sign-up."
    assert form.settings["marketing_consent_text"] == "Send me the newsletter."
    assert form.settings["consent_required"] is False
    html = admin.get(f"/admin/forms/{form.id}").get_data(as_text=True)
    assert field(html, "marketing_consent_text") == "Send me the newsletter."
    assert not checked(html, "consent_required")


def test_a_new_form_requires_its_contact_box_by_default(admin):
    assert checked(admin.get("/admin/forms/new").get_data(as_text=True), "consent_required")


def test_the_preview_shows_both_boxes(admin):
    data = editor_post(admin, consent_text="Contact me.", consent_required="y", marketing_consent_text="News, please.")
    html = admin.post("/admin/forms/preview", data=data).get_data(as_text=True)
    assert 'name="consent"' in html and 'name="marketing_consent"' in html
    assert "News, please." in html


def test_the_submission_page_shows_each_consent(app, client, admin, db_session):
    from app.models import Submission
    from tests.consent.conftest import DOWNLOAD, set_form
    from tests.helpers import fetch_token, valid_fields

    set_form(app, DOWNLOAD, consent_text="Contact me.", marketing_consent_text="News, please.")
    client.post(f"/f/{DOWNLOAD}", data=valid_fields(DOWNLOAD, token=fetch_token(client, DOWNLOAD)))
    submission = db_session.scalars(select(Submission)).one()
    html = admin.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    contact, marketing = submission.consents["contact"]["version"], submission.consents["marketing"]["version"]
    assert f"contact: yes (version {contact}); marketing: no (version {marketing})" in html
