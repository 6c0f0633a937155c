"""The confirmation e-mail is written in the language of the visitor's page (stored on the submission)."""

from __future__ import annotations

import pytest

from tests.helpers import fetch_token, valid_fields
from tests.receivers import SmtpReceiver

WEBINAR = "webinar-pipeline-live"


@pytest.fixture
def settings(settings, smtp_receiver: SmtpReceiver):
    settings.update(
        SMTP_URL=smtp_receiver.url, SMTP_FROM="hello@leadsieve.test", PUBLIC_BASE_URL="https://forms.example.com"
    )
    return settings


@pytest.mark.parametrize(
    ("header", "subject", "greeting", "when", "footer"),
    [
        (
            "de-DE",
            "Sie sind angemeldet: Pipeline Live",
            "Hallo Raj,",
            "Wann: Donnerstag, 10. Dezember 2026, 16:00 UTC (60 Minuten)",
            'im Formular "Webinar: Pipeline Live" eingegeben wurde.',
        ),
        (
            "ja",
            "登録完了: Pipeline Live",
            "Raj様",
            "日時: 2026年12月10日木曜日, 16:00 UTC（60分）",
            "フォーム「Webinar: Pipeline Live」",
        ),
        (
            "en",
            "You are registered: Pipeline Live",
            "Hello Raj,",
            "When: Thursday 10 December 2026, 16:00 UTC (60 minutes)",
            'entered in the form "Webinar: Pipeline Live".',
        ),
    ],
    ids=["de", "ja", "en"],
)
def test_webinar_confirmation_in_the_pages_language(
    client, run_worker, smtp_receiver, header, subject, greeting, when, footer
):
    token = fetch_token(client, WEBINAR)
    response = client.post(
        f"/f/{WEBINAR}", data=valid_fields(WEBINAR, token=token), headers={"Accept-Language": header}
    )
    assert response.status_code == 303
    run_worker()
    [mail] = smtp_receiver.messages
    message = mail.message
    assert str(message["Subject"]) == subject
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert plain.startswith(greeting) and when in plain and footer in plain
    assert f'<html lang="{header[:2]}" dir="ltr">' in html


def test_arabic_confirmation_is_right_to_left(client, run_worker, smtp_receiver):
    token = fetch_token(client, WEBINAR)
    client.post(f"/f/{WEBINAR}", data=valid_fields(WEBINAR, token=token), headers={"Accept-Language": "ar"})
    run_worker()
    [mail] = smtp_receiver.messages
    html = mail.message.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html and "مرحبًا Raj،" in html


def test_marketers_translated_subject_and_text(client, db_session, run_worker, smtp_receiver):
    from sqlalchemy import select

    from app.models import Form

    form = db_session.scalars(select(Form).where(Form.slug == WEBINAR)).one()
    form.translations = {
        "de": {"email_subject": "Bis bald bei Pipeline Live", "email_body": "Schön, dass Sie dabei sind.\n\nBis dann!"}
    }
    db_session.commit()
    for header, email in (("de", "raj@globex.com"), ("en", "ana@globex.com")):
        token = fetch_token(client, WEBINAR)
        data = valid_fields(WEBINAR, token=token, email=email)
        client.post(f"/f/{WEBINAR}", data=data, headers={"Accept-Language": header})
    run_worker()
    by_address = {mail.rcpt_tos[0]: mail.message for mail in smtp_receiver.messages}
    german, english = by_address["raj@globex.com"], by_address["ana@globex.com"]
    assert str(german["Subject"]) == "Bis bald bei Pipeline Live"
    html = german.get_body(("html",)).get_content()
    assert "<p>Schön, dass Sie dabei sind.</p><p>Bis dann!</p>" in html
    assert str(english["Subject"]) == "You are registered: Pipeline Live"  # no English override: the default
