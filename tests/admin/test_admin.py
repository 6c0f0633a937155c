"""The admin: nothing without login, CSRF on every POST, submitted text escaped."""

from __future__ import annotations

import re

import pytest

from app.accounts.users import set_user
from app.db import session_scope


@pytest.fixture
def admin_user(app):
    with app.app_context(), session_scope() as session:
        set_user(session, email="anna@example.com", password="correct horse battery")
        session.commit()
    return "anna@example.com", "correct horse battery"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'type="hidden" name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, email, password):
    token = _csrf(client.get("/admin/login").get_data(as_text=True))
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})


def test_every_admin_route_requires_login(app, client, admin_user):
    """Walk the URL map: without a session every admin URL redirects to login, even with a valid CSRF token
    (but the sign-in pages: login, its code step, forgotten password; tests/admin/test_password_reset.py)."""
    from flask import url_for

    from app.admin.blueprint import PUBLIC_ENDPOINTS

    token = _csrf(client.get("/admin/login").get_data(as_text=True))
    admin_rules = [
        r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") and r.endpoint not in PUBLIC_ENDPOINTS
    ]
    assert len(admin_rules) >= 8
    for rule in admin_rules:
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: 1 for arg in rule.arguments})
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method, data={"csrf_token": token, "ids": "1", "action": "approve"})
            assert response.status_code == 302, f"{method} {url} answered {response.status_code}"
            assert "/admin/login" in response.headers["Location"]
            no_token = client.open(url, method=method)
            assert no_token.status_code in (302, 400)


def test_login_without_csrf_token_is_refused(client, admin_user):
    response = client.post("/admin/login", data={"email": admin_user[0], "password": admin_user[1]})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_message(client, admin_user):
    wrong = login(client, admin_user[0], "nope")
    unknown = login(client, "nobody@example.com", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "E-mail or password is incorrect." in wrong.get_data(as_text=True)
    assert "E-mail or password is incorrect." in unknown.get_data(as_text=True)


def test_login_shows_submissions_escaped_and_logout_needs_csrf(client, admin_user):
    client.post(
        "/f/contact-sales",
        json={"email": "x@acme.com", "first_name": "<img src=x onerror=alert(1)>", "company": "Acme", "message": "hi"},
    )
    response = login(client, *admin_user)
    assert response.status_code == 302
    page = client.get("/admin/")
    page = client.get("/admin/submissions/" + str(_last_submission_id(client)))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "x@acme.com" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html

    assert client.post("/admin/logout").status_code == 400  # no token
    assert client.get("/admin/").status_code == 200
    client.post("/admin/logout", data={"csrf_token": _csrf(html)})
    assert client.get("/admin/").status_code == 302


def _last_submission_id(client) -> int:
    from sqlalchemy import func, select

    from app.db import session_scope
    from app.models import Submission

    with client.application.app_context(), session_scope() as session:
        return session.scalar(select(func.max(Submission.id)))


def test_login_redirect_only_to_admin_pages(client, admin_user):
    token = _csrf(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login?next=https://evil.example/",
        data={"email": admin_user[0], "password": admin_user[1], "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/"


@pytest.fixture
def throttled(tmp_path, database_url, redis_server):
    """An app whose login allows 3 tries a minute (per IP and per account), with one admin."""
    from redis import Redis

    from app import create_app
    from tests.conftest import _clean, make_settings

    application = create_app(
        make_settings(tmp_path, database_url=database_url, redis_url=redis_server.url, RATELIMIT_LOGIN="3 per minute")
    )
    Redis.from_url(redis_server.url).flushdb()
    with application.app_context(), session_scope() as session:
        set_user(session, email="anna@example.com", password="correct horse battery")
        session.commit()
    yield application
    _clean(application)
    Redis.from_url(redis_server.url).flushdb()


def _try(client, email, password, ip):
    token = _csrf(client.get("/admin/login", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True))
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_login_is_throttled_per_ip(throttled):
    client = throttled.test_client()
    statuses = [_try(client, f"guess{i}@example.com", "nope", "198.51.100.1").status_code for i in range(3)]
    assert statuses == [401, 401, 401]
    blocked = _try(client, "anna@example.com", "correct horse battery", "198.51.100.1")  # even the right password
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    html = blocked.get_data(as_text=True)
    assert "Too many sign-in attempts" in html and "submissions" not in html
    assert client.get("/admin/").status_code == 302  # not signed in
    # Another address is not affected.
    assert _try(throttled.test_client(), "anna@example.com", "correct horse battery", "198.51.100.2").status_code == 302


def test_failures_for_one_account_from_other_addresses_do_not_lock_it(throttled):
    """The limit is per IP, not per account: strangers failing from many addresses never stop the real
    user (per account and client waits: tests/admin/test_sign_in_throttle.py)."""
    client = throttled.test_client()
    for i in range(4):
        assert _try(client, "Anna@Example.com", "nope", f"203.0.113.{i + 1}").status_code == 401
    assert _try(client, "anna@example.com", "correct horse battery", "203.0.113.9").status_code == 302


def test_every_admin_post_refuses_a_missing_csrf_token_when_signed_in(app, client, admin_user):
    """Walk the URL map signed in as an admin: every POST without a token is 400 and changes nothing."""
    from flask import url_for
    from sqlalchemy import func, select

    from app.models import AuditEvent, Form

    assert login(client, *admin_user).status_code == 302
    posts = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") and "POST" in r.methods]
    assert len(posts) >= 12
    with app.app_context(), session_scope() as session:
        form_id = session.scalar(select(func.min(Form.id)))
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    for rule in posts:
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: form_id for arg in rule.arguments})
        response = client.post(
            url,
            data={
                "ids": "1",
                "action": "approve",
                "active": "0",
                "domain": "x.example",
                "values": "x.example",
                "kind": "blocked_domain",
            },
        )
        assert response.status_code == 400, f"POST {url} answered {response.status_code}"
    with app.app_context(), session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert client.get("/admin/").status_code == 200  # still signed in: logout without a token did nothing
