"""Security headers, cookies, proxy trust and secret rotation."""

from __future__ import annotations

from sqlalchemy import select

from app import create_app
from app.accounts.users import set_user
from app.capture.tokens import issue_token, read_token
from app.db import session_scope
from app.forwarding.routing import feedback_token, read_feedback_token
from app.models import Form, Lead, Submission
from config import ProductionConfig, TestConfig
from tests.helpers import sign_in


def test_headers_on_public_and_admin_pages(client):
    public = client.get("/f/newsletter")
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in public.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in public.headers
    admin = client.get("/admin/login")
    assert "frame-ancestors 'none'" in admin.headers["Content-Security-Policy"]
    assert admin.headers["X-Frame-Options"] == "DENY"
    assert admin.headers["Cache-Control"] == "no-store"


def test_hsts_in_production(settings):
    app = create_app({**settings, "LEADSIEVE_ENV": "production"})
    assert "max-age=" in app.test_client().get("/healthz").headers["Strict-Transport-Security"]


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(settings, db_session, app):
    headers = {"X-Forwarded-For": "198.51.100.9"}
    app.test_client().post("/f/newsletter", json={"email": "a@acme.com"}, headers=headers)
    trusting = create_app({**settings, "TRUSTED_PROXY_COUNT": 1})
    trusting.test_client().post("/f/newsletter", json={"email": "b@acme.com"}, headers=headers)
    ips = db_session.scalars(select(Submission.ip).order_by(Submission.id)).all()
    assert ips == ["127.0.0.1", "198.51.100.9"]


def _directives(csp: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [sources]}."""
    parts = (item.split() for item in csp.split(";") if item.strip())
    return {name: sources for name, *sources in parts}


def test_every_response_carries_referrer_policy_and_nosniff(client):
    for url in ("/f/newsletter", "/admin/login", "/healthz", "/no-such-page"):
        response = client.get(url)
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
    posted = client.post("/f/newsletter", json={"email": "x@acme.com"})
    assert posted.headers["X-Content-Type-Options"] == "nosniff"


def test_admin_csp_allows_no_inline_script(client):
    csp = _directives(client.get("/admin/login").headers["Content-Security-Policy"])
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts == ["'self'"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]


def test_no_hsts_outside_production(client, settings):
    assert "Strict-Transport-Security" not in client.get("/admin/login").headers
    development = create_app({**settings, "LEADSIEVE_ENV": "development"})
    assert "Strict-Transport-Security" not in development.test_client().get("/healthz").headers


def _session_cookie(app):
    """The Set-Cookie header of the session the login page starts (its CSRF token lives there)."""
    response = app.test_client().get("/admin/login")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(app.config["SESSION_COOKIE_NAME"])]
    assert len(cookies) == 1, response.headers
    return [attribute.strip().lower() for attribute in cookies[0].split(";")]


def test_session_cookie_is_httponly_and_samesite(app):
    attributes = _session_cookie(app)
    assert "httponly" in attributes and "samesite=lax" in attributes
    assert "secure" not in attributes  # plain http on a developer's machine


def test_session_cookie_is_secure_with_the_production_config(settings):
    production = ProductionConfig.from_env(
        {
            "SECRET_KEY": "p" * 48,
            "DATABASE_URL": "postgresql+psycopg://leadsieve@db.internal/leadsieve",
            "REDIS_URL": settings["REDIS_URL"],
            "LEADSIEVE_INSTANCE": settings["INSTANCE_PATH"],
        }
    )
    assert production["SESSION_COOKIE_SECURE"] is True
    # The production settings, on the test database (the factory does not connect until a request needs it).
    app = create_app({**production, "DATABASE_URL": settings["DATABASE_URL"], "TESTING": True})
    attributes = _session_cookie(app)
    assert {"secure", "httponly", "samesite=lax"} <= set(attributes)
    assert "max-age=" in app.test_client().get("/healthz").headers["Strict-Transport-Security"]


# Secret rotation: SECRET_KEY_FALLBACKS keeps what the former key signed valid; only the new key signs.

OLD_KEY, NEW_KEY = "old-secret-key-" + "o" * 32, "new-secret-key-" + "n" * 32


def test_fallbacks_setting_is_a_comma_separated_list():
    settings = TestConfig.from_env({"SECRET_KEY_FALLBACKS": " first-old , second-old ,"})
    assert settings["SECRET_KEY_FALLBACKS"] == ["first-old", "second-old"]
    assert TestConfig.from_env({})["SECRET_KEY_FALLBACKS"] == []


def test_form_token_signed_with_a_former_key_is_still_valid(db_session, settings):
    form = db_session.scalars(select(Form).where(Form.slug == "newsletter")).one()
    embedded = issue_token(OLD_KEY, form.id)  # in a page rendered before the rotation
    pasted = issue_token(OLD_KEY, form.id, static=True)  # in a snippet pasted into a site months ago
    rotated = create_app({**settings, "SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": [OLD_KEY]})
    forgotten = create_app({**settings, "SECRET_KEY": NEW_KEY})
    for token in (embedded, pasted):
        assert (
            rotated.test_client().post("/f/newsletter", json={"email": "a@acme.com", "token": token}).status_code == 202
        )
        assert (
            forgotten.test_client().post("/f/newsletter", json={"email": "b@acme.com", "token": token}).status_code
            == 202
        )  # a signal, never a refusal
    signals = [s.signals for s in db_session.scalars(select(Submission).order_by(Submission.id))]
    assert [s["token"] for s in signals] == ["valid", "forged", "valid", "forged"]
    assert signals[2]["token_static"] is True
    # New tokens are signed with the new key only.
    fresh = rotated.test_client().get("/f/newsletter/token").get_json()["token"]
    assert read_token(NEW_KEY, fresh, form_id=form.id, max_age=60).status == "valid"
    assert read_token(OLD_KEY, fresh, form_id=form.id, max_age=60).status == "forged"


def test_feedback_link_sent_before_rotation_still_opens(db_session, settings):
    lead = Lead(email="li@initech.com", stage="SQL", first_name="Li")
    db_session.add(lead)
    db_session.commit()
    link = f"/feedback/{feedback_token(OLD_KEY, lead.id)}"
    rotated = create_app({**settings, "SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": [OLD_KEY]})
    page = rotated.test_client().get(link)
    assert page.status_code == 200 and "li@initech.com" in page.get_data(as_text=True)
    refused = create_app({**settings, "SECRET_KEY": NEW_KEY}).test_client().get(link)
    assert "li@initech.com" not in refused.get_data(as_text=True)
    assert "not valid" in refused.get_data(as_text=True)
    assert read_feedback_token(NEW_KEY, feedback_token(NEW_KEY, lead.id), max_age=60) == lead.id


def test_admin_session_survives_secret_rotation(app, settings):
    with app.app_context(), session_scope() as session:
        set_user(session, email="anna@example.com", password="admin password", role="admin")
        session.commit()
    before = create_app({**settings, "SECRET_KEY": OLD_KEY})
    client = sign_in(before.test_client(), "anna@example.com", "admin password")
    assert client.get("/admin/").status_code == 200
    client.application = create_app({**settings, "SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": [OLD_KEY]})
    assert client.get("/admin/").status_code == 200  # the same cookie, read with the fallback key
    client.application = create_app({**settings, "SECRET_KEY": NEW_KEY})
    assert client.get("/admin/").status_code == 302  # without it the session is gone: back to sign-in
