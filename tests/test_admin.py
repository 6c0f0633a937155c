"""The admin: nothing without login, CSRF on every POST, submitted text escaped."""

from __future__ import annotations

import re

import pytest

from app.db import session_scope
from app.users import set_user


@pytest.fixture
def admin_user(app):
    with app.app_context(), session_scope() as session:
        set_user(session, email="anna@example.com", password="correct horse battery")
    return "anna@example.com", "correct horse battery"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, email, password):
    token = _csrf(client.get("/admin/login").get_data(as_text=True))
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})


def test_every_admin_route_requires_login(app, client, admin_user):
    """Walk the URL map: without a session every admin URL redirects to login, even with a valid CSRF token."""
    from flask import url_for

    token = _csrf(client.get("/admin/login").get_data(as_text=True))
    admin_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") and r.endpoint != "admin.login"]
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
    client.post("/f/contact-sales", json={"email": "x@acme.com", "first_name": "<img src=x onerror=alert(1)>",
                                          "company": "Acme", "message": "hi"})
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
    response = client.post("/admin/login?next=https://evil.example/", data={
        "email": admin_user[0], "password": admin_user[1], "csrf_token": token})
    assert response.headers["Location"] == "/admin/"
