"""Small helpers shared by tests."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient


def fetch_token(client: FlaskClient, slug: str) -> str:
    """The signed token the hosted page hands out."""
    html = client.get(f"/f/{slug}").get_data(as_text=True)
    match = re.search(r'<input[^>]*name="token"[^>]*>', html)
    assert match, "form page has no token field"
    value = re.search(r'value="([^"]*)"', match.group(0))
    assert value
    return value.group(1)


VALID = {
    "whitepaper-lead-quality": {"email": "jane@acme.com", "first_name": "Jane", "company": "Acme", "consent": "y"},
    "webinar-pipeline-live": {"email": "raj@globex.com", "first_name": "Raj", "last_name": "Patel"},
    "request-demo": {
        "email": "li@initech.com",
        "first_name": "Li",
        "last_name": "Wei",
        "company": "Initech",
        "consent": "y",
    },
    "contact-sales": {
        "email": "ana@umbrella.com",
        "first_name": "Ana",
        "company": "Umbrella",
        "message": "We need pricing for 40 seats.",
    },
    "newsletter": {"email": "sam@hooli.com"},
    "embedded": {"email": "kim@vandelay.com"},
}


def valid_fields(slug: str, **extra: Any) -> dict[str, Any]:
    """A valid post for one of the demo forms."""
    return {**VALID[slug], **extra}


def csrf_from(html: str) -> str:
    """The Flask-WTF CSRF token rendered in an admin page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'type="hidden" name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str) -> FlaskClient:
    """Log a test client in through the real login form."""
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def statements_for(engine: Any, client: FlaskClient, url: str) -> list[str]:
    """The SQL statements one GET runs (the page must answer 200), sorted for comparison.

    The bound values of an `IN (...)` list are folded into one: eager loading of 40 rows is one
    statement with 40 parameters, which is what a page without per-row queries looks like."""
    import re

    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        plain = re.sub(r"%\(\w+\)s(?:::\w+)?", "?", statement)  # PostgreSQL's named parameters and casts
        seen.append(re.sub(r" IN \([^()]*\)", " IN (…)", plain))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sorted(seen)
