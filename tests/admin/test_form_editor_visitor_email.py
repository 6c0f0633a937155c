"""The form editor's webinar and visitor e-mail settings, through the admin pages."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from app.models import Form
from tests.helpers import csrf_from


def field(html: str, name: str) -> str:
    tag = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>([^<]*)', html)
    assert tag, name
    if tag.group(0).startswith("<textarea"):
        return unescape(tag.group(1)).strip()
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


def checked(html: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, name
    return "checked" in tag.group(0)


def test_a_new_download_or_webinar_form_sends_the_visitor_an_e_mail_by_default(admin):
    assert checked(admin.get("/admin/forms/new?kind=webinar").get_data(as_text=True), "visitor_email")
    assert checked(admin.get("/admin/forms/new?kind=download").get_data(as_text=True), "visitor_email")
    assert not checked(admin.get("/admin/forms/new?kind=demo").get_data(as_text=True), "visitor_email")


def test_webinar_and_e_mail_settings_round_trip(app, admin, db_session):
    app.config["ADMIN_TIME_ZONE"] = "Europe/Berlin"
    data = {
        "name": "Spring webinar",
        "slug": "spring-live",
        "kind": "webinar",
        "active": "y",
        "shown": ["email", "first_name"],
        "required": ["email"],
        "webinar_title": "Spring Live",
        "webinar_starts_at": "2027-03-04 15:00",
        "webinar_duration_minutes": "45",
        "webinar_join_url": "https://meet.example.com/spring",
        "visitor_email": "y",
        "visitor_email_subject": "See you on 4 March",
        "visitor_email_body": "Hello & welcome.\n\nBring questions.",
        "csrf_token": csrf_from(admin.get("/admin/forms/new").get_data(as_text=True)),
    }
    response = admin.post("/admin/forms/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    form = db_session.scalars(select(Form).where(Form.slug == "spring-live")).one()
    assert form.settings["webinar"] == {
        "title": "Spring Live",
        "starts_at": "2027-03-04T15:00+01:00",  # the admin's zone, written down
        "duration_minutes": 45,
        "join_url": "https://meet.example.com/spring",
    }
    assert form.settings["visitor_email"] == {
        "enabled": True,
        "subject": "See you on 4 March",
        "body": "Hello & welcome.\n\nBring questions.",
    }
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert field(html, "webinar_starts_at") == "2027-03-04T15:00+01:00"
    assert field(html, "webinar_duration_minutes") == "45"
    assert field(html, "visitor_email_subject") == "See you on 4 March"
    assert field(html, "visitor_email_body") == "Hello & welcome.\n\nBring questions."
    assert checked(html, "visitor_email")

    # Switched off: saved as off, and the public page stops promising an e-mail.
    data.update(csrf_token=csrf_from(html))
    del data["visitor_email"]
    assert admin.post(response.headers["Location"], data=data).status_code == 302
    db_session.expire_all()
    assert db_session.get(Form, form.id).settings["visitor_email"]["enabled"] is False


def test_a_start_time_that_is_not_iso_is_refused_next_to_the_field(admin, db_session):
    data = {
        "name": "Bad time",
        "slug": "bad-time",
        "kind": "webinar",
        "shown": ["email"],
        "required": ["email"],
        "webinar_starts_at": "next Tuesday at 4",
        "csrf_token": csrf_from(admin.get("/admin/forms/new").get_data(as_text=True)),
    }
    response = admin.post("/admin/forms/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="webinar_starts_at-error"' in html and "ISO 8601" in html
    assert db_session.scalars(select(Form).where(Form.slug == "bad-time")).first() is None
