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
    "request-demo": {"email": "li@initech.com", "first_name": "Li", "last_name": "Wei", "company": "Initech",
                     "consent": "y"},
    "contact-sales": {"email": "ana@umbrella.com", "first_name": "Ana", "company": "Umbrella",
                      "message": "We need pricing for 40 seats."},
    "newsletter": {"email": "sam@hooli.com"},
    "embedded": {"email": "kim@vandelay.com"},
}


def valid_fields(slug: str, **extra: Any) -> dict[str, Any]:
    """A valid post for one of the demo forms."""
    return {**VALID[slug], **extra}
