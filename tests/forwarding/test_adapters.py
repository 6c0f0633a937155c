"""Each adapter's request as a real receiver got it: format, headers, signature, escaping."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from app.forwarding.adapters import ADAPTERS, DestinationSpec, deliver, verify_signature
from app.forwarding.adapters.webhook import compute_signature, signature_header
from app.forwarding.destinations import SAMPLE

FORWARDING_DOC = Path(__file__).resolve().parents[2].joinpath("docs", "forwarding.md").read_text()
LEAD = dict(
    SAMPLE,
    submission_id=7,
    lead_id=3,
    first_name="Ana",
    last_name="Silva",
    company="Initech & Sons",
    email="ana.silva@initech.example",
    answers={"budget": "10k_50k", "timeline": "quarter"},
    feedback_url="https://leads.example.com/feedback/abc.def",
    page_url="https://www.example.com/demo",
    message="Hello <b>team</b>,\nwe need this by Q3.",
)


def send(kind, target, settings, *, secret="", key="key-1", payload=None, **options):
    return deliver(
        DestinationSpec(kind=kind, target=target, secret=secret, options=options),
        dict(payload or LEAD),
        idempotency_key=key,
        settings=settings,
    )


def test_every_kind_has_an_adapter():
    assert set(ADAPTERS) == {"webhook", "email", "slack", "salesforce", "hubspot"}


def test_webhook_is_json_signed_and_keyed(http_receiver, send_settings):
    result = send("webhook", http_receiver.url(), send_settings, secret="s3cret", key="abc123")
    assert result.ok and result.status_code == 200 and result.response_excerpt == "ok"
    [request] = http_receiver.requests
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["idempotency-key"] == "abc123"
    assert request.headers["user-agent"] == "leadsieve/test"
    assert request.json() == LEAD
    header = request.headers["x-leadsieve-signature"]
    assert verify_signature("s3cret", header, request.body)
    assert not verify_signature("s3cret", header, request.body.replace(b"Initech", b"Evil Co"))
    assert not verify_signature("other secret", header, request.body)


@pytest.mark.parametrize("header", ["", "garbage", "t=abc,v1=00", "v1=00", "t=1700000000"])
def test_malformed_signature_headers_do_not_verify(header):
    assert not verify_signature("s", header, b"{}")


def test_old_signatures_are_refused():
    body = b'{"a":1}'
    header = signature_header("s", body, timestamp=1_700_000_000)
    assert header == f"t=1700000000,v1={compute_signature('s', 1_700_000_000, body)}"
    assert verify_signature("s", header, body, now=1_700_000_100)
    assert not verify_signature("s", header, body, now=1_700_000_301)


def documented_verify():
    """The receiver-side `verify` function exactly as docs/forwarding.md shows it."""
    section = FORWARDING_DOC.split("### Verifying a webhook", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "docs/forwarding.md lost the verification snippet"
    namespace: dict = {}
    exec(compile(code.group(1), "docs/forwarding.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def test_documented_snippet_verifies_what_the_adapter_sends(http_receiver, send_settings):
    verify = documented_verify()
    send("webhook", http_receiver.url(), send_settings, secret="whsec")
    [request] = http_receiver.requests
    assert verify("whsec", request.headers["x-leadsieve-signature"], request.body)
    assert not verify("whsec", request.headers["x-leadsieve-signature"], request.body + b" ")
    assert not verify("other", request.headers["x-leadsieve-signature"], request.body)


def test_slack_message_is_short_readable_and_escaped(http_receiver, send_settings):
    payload = dict(LEAD, company="<!channel> & co", message="see <https://evil.example|here>")
    assert send("slack", http_receiver.url("/services/T/B/X"), send_settings, payload=payload).ok
    body = http_receiver.requests[0].json()
    assert list(body) == ["text"]
    text = body["text"]
    assert text.splitlines()[0] == (
        "*SQL lead:* Ana Silva, Head of Marketing at &lt;!channel&gt; &amp; co \u2014 ana.silva@initech.example"
    )
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;https://evil.example|here&gt;" in text
    assert text.endswith("<https://leads.example.com/feedback/abc.def|Give feedback on this lead>")
    assert len(text.splitlines()) <= 5


def test_salesforce_web_to_lead_form_post(http_receiver, send_settings):
    result = send(
        "salesforce",
        http_receiver.url("/servlet/servlet.WebToLead?encoding=UTF-8"),
        send_settings,
        oid="00D000000000001",
        lead_source="Website",
        **{"field.00N5e00000abcde": "Webinar"},
    )
    assert result.ok
    request = http_receiver.requests[0]
    assert request.path == "/servlet/servlet.WebToLead?encoding=UTF-8"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.body.decode(), keep_blank_values=True)
    fields = {key: values[0] for key, values in form.items()}
    assert {
        k: fields[k]
        for k in (
            "oid",
            "first_name",
            "last_name",
            "email",
            "company",
            "title",
            "phone",
            "country",
            "lead_source",
            "retURL",
            "00N5e00000abcde",
        )
    } == {
        "oid": "00D000000000001",
        "first_name": "Ana",
        "last_name": "Silva",
        "email": "ana.silva@initech.example",
        "company": "Initech & Sons",
        "title": "Head of Marketing",
        "phone": "+1 555 0100",
        "country": "US",
        "lead_source": "Website",
        "retURL": "https://www.example.com/demo",
        "00N5e00000abcde": "Webinar",
    }
    assert "Budget:" in fields["description"] and "we need this by Q3." in fields["description"]


def test_salesforce_without_oid_fails_without_sending(http_receiver, send_settings):
    result = send("salesforce", http_receiver.url(), send_settings)
    assert not result.ok and not result.retryable and "oid" in result.error
    assert http_receiver.requests == []


def test_hubspot_form_submission_json(http_receiver, send_settings):
    url = http_receiver.url("/submissions/v3/integration/submit/123/abc-guid")
    assert send("hubspot", url, send_settings, **{"field.lead_source": "leadsieve"}).ok
    body = http_receiver.requests[0].json()
    fields = {f["name"]: f["value"] for f in body["fields"]}
    assert all(f["objectTypeId"] == "0-1" for f in body["fields"])
    assert fields == {
        "email": "ana.silva@initech.example",
        "firstname": "Ana",
        "lastname": "Silva",
        "company": "Initech & Sons",
        "jobtitle": "Head of Marketing",
        "phone": "+1 555 0100",
        "country": "US",
        "message": "Hello <b>team</b>,\nwe need this by Q3.",
        "lifecyclestage": "salesqualifiedlead",
        "lead_source": "leadsieve",
    }
    assert body["context"] == {"pageUri": "https://www.example.com/demo"}  # no page title captured
    assert body["submittedAt"] == "0"  # received_at 1970-01-01T00:00:00Z


def _parts(message: EmailMessage) -> tuple[str, str]:
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))


def test_email_has_plain_text_and_escaped_html(smtp_receiver, send_settings):
    result = send("email", "sales@example.com, Team.Lead@example.org", send_settings, key="f00d")
    assert result.ok and result.status_code == 250
    [mail] = smtp_receiver.messages
    assert mail.mail_from == "leads@leadsieve.test"
    assert mail.rcpt_tos == ["sales@example.com", "Team.Lead@example.org"]
    message = mail.message
    assert message["Subject"] == "SQL lead: Ana Silva (Initech & Sons)"
    assert message["To"] == "sales@example.com, Team.Lead@example.org"
    assert message["Reply-To"] == "Ana Silva <ana.silva@initech.example>"
    assert message["Message-ID"] == "<lead-f00d@leadsieve.test>"
    plain, html = _parts(message)
    assert "Company:   Initech & Sons" in plain and "Budget:" in plain
    assert "Hello <b>team</b>,\nwe need this by Q3." in plain
    assert "https://leads.example.com/feedback/abc.def" in plain
    assert "Initech &amp; Sons" in html and "Hello &lt;b&gt;team&lt;/b&gt;" in html and "<b>team" not in html
    assert '<a href="https://leads.example.com/feedback/abc.def">' in html


@pytest.mark.parametrize("field", ["company", "first_name", "last_name", "email", "stage"])
def test_header_injection_through_lead_fields_is_harmless(smtp_receiver, send_settings, field):
    payload = dict(LEAD, **{field: "Evil\r\nBcc: victim@example.net\r\nX-Injected: yes"})
    assert send("email", "sales@example.com", send_settings, payload=payload).ok
    [mail] = smtp_receiver.messages
    assert mail.rcpt_tos == ["sales@example.com"]
    assert mail.message["Bcc"] is None and mail.message["X-Injected"] is None
    header_block = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block and b"\r\nX-Injected:" not in header_block


@pytest.mark.parametrize(
    "target",
    [
        "sales@example.com\r\nBcc: victim@example.net",
        "Sales <sales@example.com>",
        "not-an-address",
        "",
        "a@b.com, evil",
    ],
)
def test_bad_recipient_lists_are_refused_without_sending(smtp_receiver, send_settings, target):
    result = send("email", target, send_settings)
    assert not result.ok and not result.retryable
    assert smtp_receiver.messages == []


def test_smtp_temporary_refusal_is_retryable_and_permanent_is_not(smtp_receiver, send_settings):
    smtp_receiver.replies.extend(["451 4.3.0 try again later", "554 5.7.1 rejected"])
    first = send("email", "sales@example.com", send_settings)
    assert (first.ok, first.retryable, first.status_code) == (False, True, 451)
    second = send("email", "sales@example.com", send_settings)
    assert (second.ok, second.retryable, second.status_code) == (False, False, 554)


def test_email_without_smtp_url_fails_clearly(send_settings):
    from dataclasses import replace

    result = send("email", "sales@example.com", replace(send_settings, smtp_url=""))
    assert not result.ok and "SMTP_URL is not set" in result.error


def test_file_smtp_url_writes_one_eml_per_delivery(tmp_path, send_settings, caplog):
    import email
    import email.policy
    import logging
    from dataclasses import replace

    outbox = tmp_path / "outbox"
    file_settings = replace(send_settings, smtp_url=outbox.as_uri())
    with caplog.at_level(logging.INFO, logger="app.forwarding.adapters.email"):
        first = send("email", "sales@example.com", file_settings, key="k/../1")
        again = send("email", "sales@example.com", file_settings, key="k/../1")  # a retry: same file
    [path] = outbox.iterdir()
    assert path.name == "lead-k____1.eml"
    assert first.ok and again.ok and first.response_excerpt == f"written to {path}"
    assert str(path) in caplog.text
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "SQL lead: Ana Silva (Initech & Sons)"
    assert message["To"] == "sales@example.com"
    assert "we need this by Q3." in message.get_body(("plain",)).get_content()

    relative = send("email", "sales@example.com", replace(send_settings, smtp_url="file:outbox"))
    assert not relative.ok and not relative.retryable and "absolute directory" in relative.error


def test_without_smtp_url_development_writes_to_the_instance_outbox_and_production_refuses(tmp_path):
    from config import ProductionConfig, TestConfig

    development = TestConfig.from_env({"LEADSIEVE_INSTANCE": str(tmp_path)})
    assert development["SMTP_URL"] == (tmp_path / "outbox").as_uri()
    production = ProductionConfig.from_env(
        {
            "SECRET_KEY": "x" * 40,
            "REDIS_URL": "redis://redis:6379/0",
            "DATABASE_URL": "postgresql+psycopg://u:p@db/leadsieve",
        }
    )
    assert production["SMTP_URL"] == ""


def test_unknown_kind_and_adapter_bugs_become_results(send_settings):
    assert send("fax", "x", send_settings).error == "unknown destination kind 'fax'"
    # A payload the adapter cannot serialise: an internal error, recorded and retryable, never raised.
    result = send("webhook", "http://127.0.0.1:9/", send_settings, payload={"x": object()})
    assert not result.ok and result.retryable and "internal error in webhook adapter" in result.error


def test_payload_example_in_docs_matches_the_routing_payload():
    """The example payload in docs/forwarding.md has exactly the keys routing sends."""
    example = re.search(r"<!-- payload-example -->\s*```json\n(.*?)```", FORWARDING_DOC, re.S)
    assert example, "docs/forwarding.md lost the payload example"
    assert set(json.loads(example.group(1))) == set(SAMPLE)
