"""Helpers for the session, user-management, throttle, reset and two-factor tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.users import set_user
from app.db import session_scope
from app.models import AuditEvent, User, UserSession
from tests.helpers import csrf_from

ANNA = ("anna@example.com", "admin password")
RITA = ("rita@example.com", "reviewer password")


def add_user(app: Flask, email: str, password: str, role: str = "admin") -> int:
    """A user made the way `create-admin` makes one; their id."""
    with app.app_context(), session_scope() as session:
        user, _, _ = set_user(session, email=email, password=password, role=role)
        session.commit()
        return user.id


def login(client: FlaskClient, email: str, password: str, ip: str = "127.0.0.1", **query: str) -> Any:
    """POST the login form from `ip`; the response (302 when signed in)."""
    environ = {"REMOTE_ADDR": ip}
    token = csrf_from(client.get("/admin/login", environ_base=environ).get_data(as_text=True))
    return client.post(
        "/admin/login",
        query_string=query,
        data={"email": email, "password": password, "csrf_token": token},
        environ_base=environ,
    )


def signed_in(app: Flask, email: str, password: str, ip: str = "127.0.0.1") -> FlaskClient:
    """A new client signed in through the real form."""
    client = app.test_client()
    response = login(client, email, password, ip)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another client holding a copy of `client`'s session cookie (as if stolen or copied)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie(cookie.key, cookie.value)
    return copy


def post_form(client: FlaskClient, url: str, data: dict[str, Any] | None = None, page: str = "/admin/") -> Any:
    """POST with the CSRF token of `page` (the session's token)."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def audit(db_session: Any, action: str) -> list[AuditEvent]:
    """The audit events of one kind, oldest first."""
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def user(db_session: Any, email: str) -> User:
    db_session.expire_all()
    return db_session.scalars(select(User).where(User.email == email)).one()


def sessions_of(db_session: Any, user_id: int) -> list[UserSession]:
    db_session.expire_all()
    return list(db_session.scalars(select(UserSession).where(UserSession.user_id == user_id)))


def outbox_mails(app: Flask) -> list[str]:
    """The reset e-mails written to the file outbox (SMTP_URL=file://…/outbox, the test default)."""
    outbox = Path(app.config["INSTANCE_PATH"]) / "outbox"
    assert app.config["SMTP_URL"] == outbox.as_uri()
    return [path.read_text() for path in sorted(outbox.glob("reset-*.eml"))] if outbox.is_dir() else []
