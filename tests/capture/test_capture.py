"""POST /f/<slug>: every form kind stored and enqueued; every bad input answered clearly."""

from __future__ import annotations

import json

import pytest
from redis import Redis
from sqlalchemy import select

from app.capture.tokens import issue_token
from app.models import Form, Submission
from app.runtime.queues import SALES_SCREENING, SCREENING
from tests.helpers import fetch_token, valid_fields

ALL_SLUGS = ["whitepaper-lead-quality", "webinar-pipeline-live", "request-demo", "contact-sales", "newsletter"]


def queued_ids(app, queue: str = SCREENING) -> list[str]:
    redis = Redis.from_url(app.config["REDIS_URL"])
    return [job_id.decode() for job_id in redis.lrange(f"rq:queue:{queue}", 0, -1)]


def stored(db_session) -> list[Submission]:
    db_session.expire_all()
    return list(db_session.scalars(select(Submission).order_by(Submission.id)))


@pytest.mark.parametrize("slug", ALL_SLUGS)
def test_form_page_renders_with_labels_and_token(client, slug):
    response = client.get(f"/f/{slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<label for="email">' in html and 'id="email"' in html
    assert 'name="token"' in html and 'name="website"' in html
    assert 'name="viewport"' in html


@pytest.mark.parametrize("slug", ALL_SLUGS)
def test_happy_path_html_stores_enqueues_and_worker_screens(app, client, db_session, run_worker, slug):
    token = fetch_token(client, slug)
    response = client.post(f"/f/{slug}", data=valid_fields(slug, token=token, utm_source="linkedin"))
    if slug == "newsletter":
        assert response.status_code == 303
        assert response.headers["Location"] == "https://www.example.com/thanks"
    else:
        assert response.status_code == 303  # post, redirect, get: a refresh does not post again
        assert "Thank you" in client.get(response.headers["Location"]).get_data(as_text=True)
    [submission] = stored(db_session)
    assert submission.status == "received"
    assert submission.email == valid_fields(slug)["email"]
    assert submission.utm_source == "linkedin"
    assert submission.signals["token"] == "valid"
    assert submission.signals["honeypot"] is False
    # Demo and contact-sales requests are screened in the sales lane, ahead of everything else.
    lane = SALES_SCREENING if slug in ("request-demo", "contact-sales") else SCREENING
    assert queued_ids(app, lane) == [f"screen-{submission.id}"]
    assert queued_ids(app, SCREENING if lane == SALES_SCREENING else SALES_SCREENING) == []

    run_worker()
    [submission] = stored(db_session)
    assert submission.status == "screened"
    assert submission.verdict == "accepted"
    assert queued_ids(app) == []


def test_download_thank_you_hands_over_asset(client):
    token = fetch_token(client, "whitepaper-lead-quality")
    html = client.post(
        "/f/whitepaper-lead-quality", data=valid_fields("whitepaper-lead-quality", token=token), follow_redirects=True
    ).get_data(as_text=True)
    # Absolute on PUBLIC_BASE_URL: the same link works on the hosted page, in the iframe and in the e-mail.
    assert f'href="{client.application.config["PUBLIC_BASE_URL"]}/static/demo/lead-quality-playbook.txt"' in html


def test_json_capture_answers_202_with_id(client, db_session):
    token = fetch_token(client, "request-demo")
    response = client.post("/f/request-demo", json=valid_fields("request-demo", token=token, consent=True))
    assert response.status_code == 202
    body = response.get_json()
    [submission] = stored(db_session)
    assert body["id"] == submission.id
    assert submission.consent_given is True
    assert submission.consent_text.startswith("I agree")
    assert len(submission.consent_text_version) == 16


def test_form_encoded_post_with_accept_json_gets_json(client, db_session):
    response = client.post("/f/newsletter", data={"email": "sam@hooli.com"}, headers={"Accept": "application/json"})
    assert response.status_code == 202
    assert response.get_json()["redirect_url"] == "https://www.example.com/thanks"


def test_input_is_unicode_normalised_and_stripped(client, db_session):
    decomposed = "Jose\u0301"  # 'José' written with a combining accent
    client.post(
        "/f/request-demo",
        data=valid_fields("request-demo", first_name=f"  {decomposed}\u200b  ", company="Acme\n  Corp"),
    )
    [submission] = stored(db_session)
    assert submission.first_name == "Jos\u00e9"
    assert submission.company == "Acme Corp"


def test_email_is_normalised_but_raw_is_kept(client, db_session):
    client.post("/f/newsletter", data={"email": "Sam@HOOLI.com"})
    [submission] = stored(db_session)
    assert submission.email == "Sam@hooli.com"
    assert submission.raw["email"] == "Sam@HOOLI.com"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": ""}, "email", "Enter your e-mail address."),
        ({"email": "not-an-email"}, "email", "An email address must have an @-sign."),
        ({"email": "a@b"}, "email", "The part after the @-sign is not valid"),
        ({"email": "x" * 250 + "@acme.com"}, "email", "Field cannot be longer than 254 characters."),
        ({"first_name": ""}, "first_name", "Enter your first name."),
        ({"company": "C" * 201}, "company", "Field cannot be longer than 200 characters."),
        ({"phone": "call me maybe"}, "phone", "Enter a phone number"),
        ({"phone": "12"}, "phone", "Enter a phone number"),
        ({"country": "<b>UK</b>"}, "country", "Enter a country name"),
        ({"consent": ""}, "consent", "Please tick the box"),
    ],
)
def test_malformed_fields_get_field_level_errors(client, db_session, fields, field, message):
    data = valid_fields("request-demo", **fields)
    json_response = client.post("/f/request-demo", json=data)
    assert json_response.status_code == 400
    errors = json_response.get_json()["fields"]
    assert field in errors
    assert any(message in m for m in errors[field])

    html_response = client.post("/f/request-demo", data=data)
    assert html_response.status_code == 400
    html = html_response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message.split("<")[0][:20] in html.replace("&#39;", "'")
    assert stored(db_session) == []


def test_error_page_keeps_what_the_visitor_typed(client):
    html = client.post("/f/request-demo", data=valid_fields("request-demo", email="li@")).get_data(as_text=True)
    assert 'value="Initech"' in html


def test_submitted_markup_is_escaped_on_the_error_page(client):
    html = client.post(
        "/f/request-demo", data=valid_fields("request-demo", email="bad", company="<script>alert(1)</script>")
    ).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("body", ["[1, 2]", "not json", '"a string"'])
def test_json_body_that_is_not_an_object_is_400(client, db_session, body):
    response = client.post("/f/newsletter", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "JSON object" in response.get_json()["message"]
    assert stored(db_session) == []


def test_json_field_that_is_not_text_is_400(client):
    response = client.post("/f/newsletter", json={"email": {"$ne": ""}})
    assert response.status_code == 400
    assert "must be text" in response.get_json()["message"]


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_unknown_form_is_404(client, accept):
    response = client.post("/f/no-such-form", data={"email": "a@acme.com"}, headers={"Accept": accept})
    assert response.status_code == 404
    assert client.get("/f/no-such-form").status_code == 404
    if accept == "application/json":
        assert response.get_json()["error"] == "Not Found"
    else:
        assert "no form at this address" in response.get_data(as_text=True)


def test_inactive_form_is_410_with_a_friendly_page(client, db_session):
    page = client.get("/f/old-webinar")
    assert page.status_code == 410
    assert "no longer accepting" in page.get_data(as_text=True)
    response = client.post("/f/old-webinar", json={"email": "a@acme.com"})
    assert response.status_code == 410
    assert response.get_json()["error"] == "Gone"


def test_oversized_body_is_413(app, client, db_session):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/f/contact-sales", data=valid_fields("contact-sales", message=big))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    response = client.post("/f/contact-sales", json=valid_fields("contact-sales", message=big))
    assert response.status_code == 413
    assert response.get_json()["error"] == "Request Entity Too Large"
    assert stored(db_session) == []


def test_flood_from_one_ip_is_429_with_retry_after(tmp_path, database_url, redis_server):
    from app import create_app
    from tests.conftest import make_settings

    settings = make_settings(
        tmp_path, database_url=database_url, redis_url=redis_server.url, RATELIMIT_CAPTURE="3 per minute"
    )
    application = create_app(settings)
    Redis.from_url(redis_server.url).flushdb()
    with application.app_context():
        from app.db import session_scope

        with session_scope() as session:
            session.add(Form(slug="flood", name="Flood", kind="newsletter", settings={}))
            session.commit()
    client = application.test_client()
    try:
        statuses = [client.post("/f/flood", json={"email": f"p{i}@acme.com"}).status_code for i in range(3)]
        assert statuses == [202, 202, 202]
        response = client.post("/f/flood", json={"email": "p4@acme.com"})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "Too many submissions" in response.get_json()["message"]
        html = client.post("/f/flood", data={"email": "p5@acme.com"})
        assert html.status_code == 429 and "Retry-After" in html.headers
        # Another visitor (another IP) is not affected.
        other = client.post("/f/flood", json={"email": "q@acme.com"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert other.status_code == 202
        # GET of the page is not rate limited.
        assert client.get("/f/flood").status_code == 200
    finally:
        from tests.conftest import _clean

        _clean(application)


def test_honeypot_is_a_signal_not_a_drop(client, db_session, run_worker):
    response = client.post(
        "/f/newsletter",
        data={"email": "bot@spam.example", "website": "http://x.example"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 202  # same answer as everyone: the bot learns nothing
    [submission] = stored(db_session)
    assert submission.signals["honeypot"] is True
    run_worker()
    [submission] = stored(db_session)
    assert submission.verdict == "rejected"
    assert [f.code for f in submission.findings] == ["capture.honeypot"]


def test_forged_token_is_recorded(client, db_session):
    client.post("/f/newsletter", json={"email": "a@acme.com", "token": "1.forged.signature"})
    [submission] = stored(db_session)
    assert submission.signals["token"] == "forged"


def test_token_signed_with_another_key_is_forged(client, db_session):
    form_id = db_session.scalar(select(Form.id).where(Form.slug == "newsletter"))
    client.post("/f/newsletter", json={"email": "a@acme.com", "token": issue_token("other-key", form_id)})
    assert stored(db_session)[0].signals["token"] == "forged"


def test_expired_token_is_recorded_with_its_age(app, client, db_session):
    import time

    form_id = db_session.scalar(select(Form.id).where(Form.slug == "newsletter"))
    old = issue_token(
        app.config["SECRET_KEY"], form_id, issued_at=int(time.time()) - app.config["FORM_TOKEN_MAX_AGE"] - 60
    )
    response = client.post("/f/newsletter", json={"email": "a@acme.com", "token": old})
    assert response.status_code == 202
    [submission] = stored(db_session)
    assert submission.signals["token"] == "expired"
    assert submission.signals["fill_seconds"] > app.config["FORM_TOKEN_MAX_AGE"]


def test_token_for_another_form_is_recorded(app, client, db_session):
    other_id = db_session.scalar(select(Form.id).where(Form.slug == "request-demo"))
    client.post("/f/newsletter", json={"email": "a@acme.com", "token": issue_token(app.config["SECRET_KEY"], other_id)})
    assert stored(db_session)[0].signals["token"] == "wrong_form"


def test_missing_token_is_recorded(client, db_session):
    client.post("/f/newsletter", json={"email": "a@acme.com"})
    [submission] = stored(db_session)
    assert submission.signals["token"] == "missing"
    assert submission.signals["fill_seconds"] is None


def test_fill_time_comes_from_the_token(app, client, db_session):
    import time

    form_id = db_session.scalar(select(Form.id).where(Form.slug == "newsletter"))
    token = issue_token(app.config["SECRET_KEY"], form_id, issued_at=int(time.time()) - 42)
    client.post("/f/newsletter", json={"email": "a@acme.com", "token": token})
    assert 41 <= stored(db_session)[0].signals["fill_seconds"] <= 45


@pytest.mark.parametrize(
    ("headers", "origin", "allowed"),
    [
        ({"Origin": "https://www.example.com"}, "https://www.example.com", True),
        ({"Origin": "https://shop.example.org"}, "https://shop.example.org", True),
        ({"Origin": "https://example.org"}, "https://example.org", True),
        ({"Origin": "https://evil.example.net"}, "https://evil.example.net", False),
        ({"Origin": "http://www.example.com"}, "http://www.example.com", False),
        ({"Referer": "https://www.example.com/pricing?x=1"}, "https://www.example.com", True),
        ({"Origin": "https://example.org.evil.net"}, "https://example.org.evil.net", False),
        ({}, None, None),
    ],
)
def test_origin_is_checked_against_the_forms_list_and_stored(client, db_session, headers, origin, allowed):
    response = client.post("/f/embedded", json={"email": "kim@vandelay.com"}, headers=headers)
    assert response.status_code == 202  # stored whatever the origin: a new site loses no leads
    [submission] = stored(db_session)
    assert submission.signals["origin"] == origin
    assert submission.signals["origin_allowed"] is allowed


def test_own_origin_counts_as_allowed(client, db_session):
    client.post("/f/embedded", json={"email": "kim@vandelay.com"}, headers={"Origin": "http://localhost"})
    assert stored(db_session)[0].signals["origin_allowed"] is True


def test_context_fields_are_stored(client, db_session):
    fields = {
        "email": "a@acme.com",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "q4",
        "utm_term": "lead forms",
        "utm_content": "ad-2",
        "page_url": "https://www.example.com/p",
        "referrer": "https://www.google.com/",
    }
    client.post(
        "/f/newsletter",
        json=fields,
        headers={"User-Agent": "TestBrowser/1.0"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    [submission] = stored(db_session)
    for key, value in fields.items():
        assert getattr(submission, key) == (value if key != "email" else "a@acme.com")
    assert submission.ip == "203.0.113.7"
    assert submission.user_agent == "TestBrowser/1.0"
    assert json.loads(json.dumps(submission.raw))["utm_campaign"] == "q4"


def test_page_prefills_utm_from_query(client):
    html = client.get("/f/newsletter?utm_source=newsletter&utm_campaign=%3Cb%3E").get_data(as_text=True)
    assert 'name="utm_source" type="hidden" value="newsletter"' in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_bant_answers_are_stored_and_checked(client, db_session):
    ok = client.post("/f/request-demo", json=valid_fields("request-demo", budget="over_50k", timeline="now"))
    assert ok.status_code == 202
    assert stored(db_session)[0].answers == {"budget": "over_50k", "timeline": "now"}
    bad = client.post("/f/request-demo", json=valid_fields("request-demo", budget="a million"))
    assert bad.status_code == 400
    assert "budget" in bad.get_json()["fields"]
    assert 'id="budget"' in client.get("/f/request-demo").get_data(as_text=True)
