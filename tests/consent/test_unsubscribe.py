"""Unsubscribe: every visitor e-mail carries the signed link and the RFC 8058 headers; the mail client's
one-click POST works without a page, a GET only shows a button; the withdrawal is recorded on the lead
(audited) and destinations that have the person get a lead.updated event, once."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Delivery, Lead
from tests.forwarding.test_forwarding import add_destination
from tests.helpers import fetch_token, valid_fields

WEBINAR = "webinar-pipeline-live"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def unsubscribe_path(client, run_worker, smtp_receiver, app, http_receiver):
    """A webinar registration routed to a webhook, its e-mail sent; the unsubscribe link's path."""
    add_destination(app, "webhook", http_receiver.url("/crm"))
    token = fetch_token(client, WEBINAR)
    assert client.post(f"/f/{WEBINAR}", data=valid_fields(WEBINAR, token=token)).status_code == 303
    run_worker()
    [mail] = smtp_receiver.messages
    header = str(mail.message["List-Unsubscribe"]).strip()  # may be folded onto a second line
    assert header.startswith("<https://forms.example.com/u/") and header.endswith(">")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert url in mail.message.get_body(("plain",)).get_content()
    assert f'href="{url}"' in mail.message.get_body(("html",)).get_content()
    return urlsplit(url).path


def lead(db_session) -> Lead:
    db_session.expire_all()
    return db_session.scalars(select(Lead)).one()


def test_one_click_post_withdraws_and_tells_the_destinations_once(
    client, db_session, run_worker, http_receiver, unsubscribe_path
):
    assert [r.json()["type"] for r in http_receiver.requests] == ["lead.created"]
    response = client.post(unsubscribe_path, data=ONE_CLICK)  # what a mail client sends (RFC 8058)
    assert response.status_code == 200
    assert lead(db_session).unsubscribed_at is not None
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "consent.withdrawn")).all()
    assert (event.actor, event.subject_type, event.subject_id) == ("visitor", "lead", lead(db_session).id)
    run_worker()
    updated = http_receiver.requests[-1].json()
    assert updated["type"] == "lead.updated" and updated["email"] == "raj@globex.com"
    assert updated["consents"]["marketing"]["given"] is False and updated["consents"]["marketing"]["withdrawn_at"]

    assert client.post(unsubscribe_path, data=ONE_CLICK).status_code == 200  # again: nothing new
    run_worker()
    assert len(http_receiver.requests) == 2
    assert len(db_session.scalars(select(Delivery)).all()) == 2


def test_a_get_shows_a_button_and_changes_nothing(client, db_session, unsubscribe_path):
    page = client.get(unsubscribe_path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<form method="post"><button type="submit">Unsubscribe</button></form>' in html
    assert page.headers["Cache-Control"] == "no-store"
    assert lead(db_session).unsubscribed_at is None
    done = client.post(unsubscribe_path)  # the page's button: no CSRF token, the link's signature suffices
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    assert lead(db_session).unsubscribed_at is not None


def test_a_forged_link_is_refused(client, db_session, unsubscribe_path):
    assert client.post(unsubscribe_path[:-3] + "abc", data=ONE_CLICK).status_code == 404
    assert client.get("/u/not-a-token").status_code == 404
    assert lead(db_session).unsubscribed_at is None


def test_destinations_that_never_had_the_person_are_not_told(
    app, client, db_session, run_worker, http_receiver, unsubscribe_path
):
    add_destination(app, "webhook", http_receiver.url("/later"))  # added after the lead was routed
    client.post(unsubscribe_path, data=ONE_CLICK)
    run_worker()
    assert sorted(r.path for r in http_receiver.requests) == ["/crm", "/crm"]
