"""Post, redirect, get: the signed thank-you page and its calendar file; absolute asset links;
prefill and tags from the query string (allow-listed, never consent)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import icalendar
import pytest
from sqlalchemy import func, select

from app.capture.thanks import thanks_token
from app.models import Form, Submission
from tests.helpers import fetch_token, valid_fields

BASE = "https://forms.example.com"
WEBINAR = "webinar-pipeline-live"
DOWNLOAD = "whitepaper-lead-quality"
ASSET = f"{BASE}/static/demo/lead-quality-playbook.txt"


@pytest.fixture
def settings(settings):
    settings.update(PUBLIC_BASE_URL=BASE)
    return settings


def count(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Submission))


def form_id(db_session, slug) -> int:
    return db_session.scalars(select(Form.id).where(Form.slug == slug)).one()


def field_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


# Post, redirect, get -----------------------------------------------------------------------------


def test_html_post_answers_303_to_a_signed_thank_you_page_that_a_refresh_does_not_post_again(client, db_session):
    response = client.post(f"/f/{DOWNLOAD}", data=valid_fields(DOWNLOAD, token=fetch_token(client, DOWNLOAD)))
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(rf"/f/{DOWNLOAD}/thanks/[\w.-]+", location), location
    assert count(db_session) == 1
    for _ in range(2):  # the page, then a refresh of it
        page = client.get(location)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Thanks! Your playbook is ready." in html
        assert f'href="{ASSET}"' in html  # absolute: the same link works wherever the page is shown
    assert count(db_session) == 1
    assert page.headers["Cache-Control"] == "private, no-cache"


def test_thank_you_links_are_signed_and_bound_to_their_form(app, client, db_session):
    response = client.post(f"/f/{DOWNLOAD}", data=valid_fields(DOWNLOAD))
    token = response.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/f/{WEBINAR}/thanks/{token}").status_code == 404  # another form's page
    assert client.get(f"/f/{DOWNLOAD}/thanks/{token[:-2]}xx").status_code == 404  # tampered
    other = thanks_token("another secret", form_id=form_id(db_session, DOWNLOAD), submission_id=1)
    assert client.get(f"/f/{DOWNLOAD}/thanks/{other}").status_code == 404
    # A genuine token for a submission that no longer exists still shows the page: whether a
    # submission was kept (rejected ones are purged) must not show.
    gone = thanks_token(app.config["SECRET_KEY"], form_id=form_id(db_session, DOWNLOAD), submission_id=987654)
    assert client.get(f"/f/{DOWNLOAD}/thanks/{gone}").status_code == 200


def test_json_answers_stay_202_with_absolute_links(client, db_session):
    download = client.post(f"/f/{DOWNLOAD}", json=valid_fields(DOWNLOAD))
    assert download.status_code == 202
    assert download.get_json()["asset_url"] == ASSET
    webinar = client.post(f"/f/{WEBINAR}", json=valid_fields(WEBINAR)).get_json()
    assert set(webinar) == {"id", "message", "calendar_url"}
    assert re.fullmatch(rf"{BASE}/f/{WEBINAR}/thanks/[\w.-]+/calendar\.ics", webinar["calendar_url"])


def test_absolute_asset_urls_stay_as_they_are(client, db_session):
    form = db_session.scalars(select(Form).where(Form.slug == DOWNLOAD)).one()
    form.settings = {**form.settings, "asset_url": "https://cdn.example.net/guide.pdf"}
    db_session.commit()
    assert client.post(f"/f/{DOWNLOAD}", json=valid_fields(DOWNLOAD)).get_json()["asset_url"] == (
        "https://cdn.example.net/guide.pdf"
    )


def test_iframe_post_redirects_to_thanks_inside_the_frame(client):
    listed = "https://www.example.com"
    response = client.post(f"/f/embedded?embed=1&parent={listed}", data={"email": "kim@vandelay.com"})
    assert response.status_code == 303
    assert "embed=1" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'class="embedded"' in html and f'data-parent-origin="{listed}"' in html
    assert f"frame-ancestors 'self' {listed}" in page.headers["Content-Security-Policy"]


def test_webinar_thank_you_offers_the_calendar_and_promises_the_e_mail_it_will_send(client, db_session):
    location = client.post(f"/f/{WEBINAR}", data=valid_fields(WEBINAR)).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert "You are registered for <strong>Pipeline Live</strong> on Thursday 10 December 2026, 16:00 UTC." in html
    assert "We will e-mail you the link to join." in html
    calendar_url = f"{BASE}{location}/calendar.ics"
    assert f'href="{calendar_url}" download>Add to calendar' in html

    ics = client.get(f"{location}/calendar.ics")
    assert ics.status_code == 200
    assert ics.mimetype == "text/calendar"
    assert ics.headers["Content-Disposition"] == f'attachment; filename="{WEBINAR}.ics"'
    [event] = icalendar.Calendar.from_ical(ics.data).walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert str(event["URL"]) == "https://example.com/webinars/pipeline-live"
    assert str(event["SUMMARY"]) == "Pipeline Live"
    assert client.get(f"/f/{WEBINAR}/thanks/forged/calendar.ics").status_code == 404
    download = client.post(f"/f/{DOWNLOAD}", data=valid_fields(DOWNLOAD)).headers["Location"]
    assert client.get(f"{download}/calendar.ics").status_code == 404  # no webinar, no calendar


def test_no_e_mail_is_promised_when_none_will_be_sent(client, db_session):
    form = db_session.scalars(select(Form).where(Form.slug == WEBINAR)).one()
    form.settings = {**form.settings, "visitor_email": {"enabled": False}}
    db_session.commit()
    html = client.get(client.post(f"/f/{WEBINAR}", data=valid_fields(WEBINAR)).headers["Location"]).get_data(
        as_text=True
    )
    assert "e-mail you" not in html
    # Nothing will reach the visitor's inbox, so the page gives the join link itself.
    assert 'href="https://example.com/webinars/pipeline-live"' in html


def test_without_smtp_in_production_nothing_is_promised(request, settings):
    settings["SMTP_URL"] = ""  # production without SMTP_URL: e-mail cannot be sent
    client = request.getfixturevalue("client")
    for slug in (WEBINAR, DOWNLOAD):
        html = client.get(client.post(f"/f/{slug}", data=valid_fields(slug)).headers["Location"]).get_data(as_text=True)
        assert "e-mail" not in html


# Prefill and tags from the query string -----------------------------------------------------------


def test_hosted_page_prefills_allow_listed_fields_and_tags(client, db_session):
    html = client.get(
        "/f/request-demo?email=ada@acme.com&first_name=Ada&company=Acme%20%0A%20Ltd&utm_source=newsletter"
        "&utm_campaign=spring&gclid=G-1&consent=y&message=Buy%20now&website=x&token=forged"
    ).get_data(as_text=True)
    assert field_value(html, "email") == "ada@acme.com"
    assert field_value(html, "first_name") == "Ada"
    assert field_value(html, "company") == "Acme Ltd"  # cleaned like a post: one line
    assert field_value(html, "utm_source") == "newsletter"
    assert field_value(html, "gclid") == "G-1"
    consent = re.search(r'<input[^>]*name="consent"[^>]*>', html).group(0)
    assert "checked" not in consent  # never prefilled
    assert "Buy now" not in html  # the free-text message is not on the list
    assert field_value(html, "website") == ""  # the honeypot neither
    assert field_value(html, "token") != "forged"

    # Posting the page as the visitor sees it stores the prefilled values and the tags.
    fields = {name: field_value(html, name) or "" for name in ("email", "first_name", "company", "token")}
    fields.update(last_name="Lovelace", consent="y", utm_source="newsletter", utm_campaign="spring", gclid="G-1")
    assert client.post("/f/request-demo", data=fields).status_code == 303
    [submission] = db_session.scalars(select(Submission)).all()
    assert (submission.email, submission.first_name, submission.company) == ("ada@acme.com", "Ada", "Acme Ltd")
    assert (submission.utm_source, submission.utm_campaign) == ("newsletter", "spring")
    assert submission.raw["gclid"] == "G-1"


def test_prefill_only_fills_fields_the_form_shows_and_escapes(client):
    html = client.get("/f/newsletter?email=%22%3E%3Cscript%3Ex%3C/script%3E&phone=555&utm_source=news").get_data(
        as_text=True
    )
    assert "<script>x" not in html
    assert field_value(html, "email") == '"><script>x</script>'  # shown as text, escaped
    assert field_value(html, "phone") is None  # the newsletter form shows no phone field
    assert field_value(html, "utm_source") == "news"


def test_prefill_is_cut_to_the_fields_length(client):
    html = client.get(f"/f/request-demo?first_name={'A' * 500}").get_data(as_text=True)
    assert field_value(html, "first_name") == "A" * 100


def test_iframe_prefills_from_its_own_query_and_names_the_fields_it_takes_from_the_host(client):
    html = client.get(
        "/f/embedded/embed?email=kim@vandelay.com&consent=y&parent=https://www.example.com&utm_medium=email"
    ).get_data(as_text=True)
    assert field_value(html, "email") == "kim@vandelay.com"
    assert field_value(html, "utm_medium") == "email"
    prefill = re.search(r'data-prefill-fields="([^"]*)"', html).group(1).split()
    assert "email" in prefill and "consent" not in prefill and "message" not in prefill
