"""Double opt-in over HTTP with the real worker and receivers: the confirmation link is read from the
e-mail the SMTP receiver got; a marketing destination receives the person only after the visitor confirms
on the page the link opens, and never once the window has passed (the lead page then says so)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from app.consent.opt_in import sweep_expired
from app.db import session_scope
from app.models import Delivery, OptIn, Submission, VisitorEmail, utcnow
from tests.consent.conftest import MARKETING_TEXT
from tests.forwarding.test_forwarding import add_destination
from tests.helpers import fetch_token, valid_fields

NEWSLETTER = "newsletter"


def post(client, slug, **extra):
    response = client.post(f"/f/{slug}", data=valid_fields(slug, token=fetch_token(client, slug), **extra))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def confirm_path(smtp_receiver) -> str:
    """The confirmation link in the one e-mail received, as a path on the test client."""
    [mail] = smtp_receiver.messages
    plain = mail.message.get_body(("plain",)).get_content()
    match = re.search(r"https://forms\.example\.com/c/\S+", plain)
    assert match, plain
    assert f'href="{match.group(0)}"' in mail.message.get_body(("html",)).get_content()
    return urlsplit(match.group(0)).path


def paths(http_receiver) -> list[str]:
    return sorted(r.path for r in http_receiver.requests)


@pytest.fixture
def destinations(app, http_receiver):
    """A marketing destination (MQL only) and one that takes every stage."""
    add_destination(app, "webhook", http_receiver.url("/marketing"), stages=["MQL"])
    add_destination(app, "webhook", http_receiver.url("/everyone"))


def test_marketing_destination_receives_only_after_the_link_is_clicked(
    client, db_session, run_worker, smtp_receiver, http_receiver, two_boxes, destinations
):
    post(client, two_boxes, marketing_consent="y")
    run_worker()
    assert paths(http_receiver) == ["/everyone"]  # sales-side destinations are not held
    path = confirm_path(smtp_receiver)  # the download e-mail carries the confirmation link
    held = db_session.scalars(select(Delivery).where(Delivery.status == "awaiting_opt_in")).all()
    assert len(held) == 1

    page = client.get(path)  # a mail scanner following the link confirms nothing
    assert page.status_code == 200 and '<form method="post">' in page.get_data(as_text=True)
    run_worker()
    assert paths(http_receiver) == ["/everyone"]

    done = client.post(path)
    assert done.status_code == 200 and "Your subscription is confirmed" in done.get_data(as_text=True)
    run_worker()
    assert paths(http_receiver) == ["/everyone", "/marketing"]
    marketing = next(r for r in http_receiver.requests if r.path == "/marketing").json()
    assert marketing["consents"]["marketing"]["given"] is True
    assert marketing["consents"]["marketing"]["confirmed"] is True
    assert marketing["consents"]["marketing"]["text"] == MARKETING_TEXT

    assert client.post(path).status_code == 200  # a second click releases nothing more
    run_worker()
    assert len(http_receiver.requests) == 2


def test_a_newsletter_sign_up_gets_a_confirmation_only_e_mail(
    app, client, db_session, run_worker, smtp_receiver, http_receiver
):
    add_destination(app, "webhook", http_receiver.url("/nurture"), stages=["prospect"])
    post(client, NEWSLETTER)
    run_worker()
    assert http_receiver.requests == []
    [mail] = smtp_receiver.messages
    assert mail.rcpt_tos == ["sam@hooli.com"]
    assert mail.message["Subject"] == "Please confirm: Newsletter"
    client.post(confirm_path(smtp_receiver))
    run_worker()
    assert paths(http_receiver) == ["/nurture"]


def test_unconfirmed_in_time_is_never_sent_and_the_lead_page_says_so(
    app, client, admin, db_session, run_worker, smtp_receiver, http_receiver, two_boxes, destinations
):
    post(client, two_boxes, marketing_consent="y")
    run_worker()
    path = confirm_path(smtp_receiver)
    with app.app_context(), session_scope() as session:
        session.execute(update(OptIn).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
        assert sweep_expired(session) == 1
    db_session.expire_all()
    [withheld] = db_session.scalars(select(Delivery).where(Delivery.status == "withheld")).all()
    assert withheld.last_error == "marketing consent not confirmed"

    late = client.post(path)
    assert late.status_code == 410 and "This link has expired" in late.get_data(as_text=True)
    run_worker()
    assert paths(http_receiver) == ["/everyone"]
    lead_id = db_session.scalars(select(Submission.lead_id)).one()
    page = admin.get(f"/admin/leads/{lead_id}").get_data(as_text=True)
    assert "marketing consent not confirmed" in page


def test_the_window_also_closes_when_the_link_is_clicked_late_before_the_sweeper(
    app, client, db_session, run_worker, smtp_receiver, http_receiver, two_boxes, destinations
):
    post(client, two_boxes, marketing_consent="y")
    run_worker()
    with app.app_context(), session_scope() as session:
        session.execute(update(OptIn).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert client.post(confirm_path(smtp_receiver)).status_code == 410
    run_worker()
    assert paths(http_receiver) == ["/everyone"]
    db_session.expire_all()
    assert db_session.scalars(select(OptIn.status)).one() == "expired"


def test_a_forged_or_foreign_link_does_nothing(client, run_worker, smtp_receiver, two_boxes, destinations):
    post(client, two_boxes, marketing_consent="y")
    run_worker()
    path = confirm_path(smtp_receiver)
    assert client.post(path[:-2] + "xx").status_code == 404
    assert client.post(path.replace("/c/", "/u/")).status_code == 404  # another link's signature


def test_without_marketing_consent_nothing_is_held(
    client, db_session, run_worker, http_receiver, two_boxes, destinations
):
    post(client, two_boxes)
    run_worker()
    assert paths(http_receiver) == ["/everyone", "/marketing"]
    assert db_session.scalars(select(OptIn)).all() == []


def test_a_rejected_submission_gets_no_confirmation_e_mail(
    client, db_session, run_worker, smtp_receiver, http_receiver, two_boxes, destinations
):
    post(client, two_boxes, marketing_consent="y", website="http://bot.example")  # the honeypot: rejected
    run_worker()
    assert smtp_receiver.messages == [] and http_receiver.requests == []
    assert db_session.scalars(select(OptIn)).all() == []
    assert db_session.scalars(select(VisitorEmail)).all() == []


def test_a_person_who_confirmed_before_is_not_asked_again(
    client, db_session, run_worker, smtp_receiver, http_receiver, two_boxes, destinations
):
    post(client, two_boxes, marketing_consent="y")
    run_worker()
    client.post(confirm_path(smtp_receiver))
    run_worker()
    smtp_receiver.reset()
    post(client, "newsletter", email="jane@acme.com")
    run_worker()
    assert smtp_receiver.messages == []  # the newsletter form sends no e-mail of its own, and no opt-in waits
    db_session.expire_all()
    assert db_session.scalars(select(OptIn)).all()[-1].status == "confirmed"


def test_a_held_sign_up_is_asked_to_confirm_only_after_approval(
    app, client, db_session, run_worker, smtp_receiver, http_receiver
):
    from app.actions import approve_and_forward

    add_destination(app, "webhook", http_receiver.url("/nurture"), stages=["prospect"])
    post(client, NEWSLETTER, email="sam@servfail.example")  # DNS cannot answer: held, never rejected
    run_worker()
    assert db_session.scalars(select(Submission.verdict)).one() == "held"
    assert smtp_receiver.messages == [] and db_session.scalars(select(OptIn)).all() == []
    with app.app_context(), session_scope() as session:
        [sid] = session.scalars(select(Submission.id)).all()
        approve_and_forward(session, submission_ids=[sid], actor="anna@example.com")
    run_worker()
    assert http_receiver.requests == []
    client.post(confirm_path(smtp_receiver))
    run_worker()
    assert paths(http_receiver) == ["/nurture"]


def test_a_backfill_to_a_new_marketing_destination_skips_unconfirmed_sign_ups(
    app, client, db_session, run_worker, smtp_receiver, http_receiver
):
    from app.forwarding.backfill import send_existing
    from app.models import Destination

    post(client, NEWSLETTER)  # sam@hooli.com, never confirmed
    post(client, NEWSLETTER, email="kim@vandelay.com")
    run_worker()
    kim = next(m for m in smtp_receiver.messages if m.rcpt_tos == ["kim@vandelay.com"])
    smtp_receiver.messages[:] = [kim]
    client.post(confirm_path(smtp_receiver))
    destination_id = add_destination(app, "webhook", http_receiver.url("/late"), stages=["prospect"])[0]
    with app.app_context(), session_scope() as session:
        destination = session.get(Destination, destination_id)
        created = send_existing(session, destination=destination, actor="test", feedback_url_for=lambda _: "")
        assert len(created) == 1
        [delivery] = session.scalars(select(Delivery).where(Delivery.id.in_(created))).all()
        assert delivery.payload["email"] == "kim@vandelay.com"


def test_the_confirmation_page_is_in_the_language_of_the_form_page(
    client, run_worker, smtp_receiver, two_boxes, destinations
):
    fields = valid_fields(two_boxes, token=fetch_token(client, two_boxes), marketing_consent="y")
    assert client.post(f"/f/{two_boxes}", data=fields, headers={"Accept-Language": "de"}).status_code == 303
    run_worker()
    page = client.get(confirm_path(smtp_receiver), headers={"Accept-Language": "en"})
    assert '<html lang="de"' in page.get_data(as_text=True)
