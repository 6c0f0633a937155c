"""Security headers and proxy trust."""

from __future__ import annotations

from sqlalchemy import select

from app import create_app
from app.models import Submission


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
