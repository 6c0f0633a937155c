"""What a visitor meets on a public form, extracted for comparison: its controls in order (name, type,
required, autocomplete, label, options) and the server's answers to a set of posts (field messages,
stored contact fields and answers). tests/capture/test_field_model.py compares the demo forms with
the shape recorded before forms had field lists (tests/capture/data/demo_form_shapes.json)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

# Posts that exercise every rule the demo forms had: missing, malformed, too long, bad choices.
PROBES: dict[str, dict[str, str]] = {
    "empty": {},
    "bad_email": {"email": "not-an-address", "first_name": "A" * 101},
    "bad_phone_country": {"email": "ada@acme.com", "phone": "call me", "country": "12"},
    "bad_choices": {"email": "ada@acme.com", "budget": "lots", "authority": "boss", "timeline": "never"},
    "long_message": {"email": "ada@acme.com", "message": "x" * 5001, "company": "c" * 201},
    "full": {
        "email": "Ada@Acme.com",
        "first_name": " Ada ",
        "last_name": "Lovelace",
        "company": "Acme",
        "job_title": "CTO",
        "phone": "+44 20 7946 0000",
        "country": "GB",
        "message": "Hello\nthere",
        "budget": "over_50k",
        "authority": "decision_maker",
        "need": "urgent",
        "timeline": "quarter",
        "company_size": "51_200",
        "consent": "y",
    },
}


class _Controls(HTMLParser):
    """The form's controls in document order, with their labels and options."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, Any]] = []
        self.labels: dict[str, str] = {}
        self._label_for: str | None = None
        self._label_text: list[str] = []
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "textarea", "select") and a.get("name"):
            control = {
                "tag": tag,
                "name": a["name"],
                "type": a.get("type", ""),
                "required": "required" in a,
                "autocomplete": a.get("autocomplete", ""),
                "id": a.get("id", ""),
            }
            if a.get("type") in ("checkbox", "radio"):
                control["value"] = a.get("value", "")
            self.controls.append(control)
            if tag == "select":
                control["options"] = []
                self._select = control
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))
        elif tag == "label":
            self._label_for, self._label_text = a.get("for"), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "label" and self._label_for:
            self.labels[self._label_for] = " ".join("".join(self._label_text).split())
            self._label_for = None

    def handle_data(self, data: str) -> None:
        if self._label_for is not None:
            self._label_text.append(data)


def controls(html: str) -> list[dict[str, Any]]:
    """The controls of the first public form in `html`, labelled; the token's value left out."""
    start = html.index("<form")
    parser = _Controls()
    parser.feed(html[start : html.index("</form>", start)])
    shaped = []
    for control in parser.controls:
        control = dict(control)
        control["label"] = parser.labels.get(control.pop("id"), "")
        shaped.append(control)
    return shaped


def shape(client: FlaskClient, slug: str, token: str) -> dict[str, Any]:
    """The page's controls and the JSON answers to every probe."""
    page = client.get(f"/f/{slug}").get_data(as_text=True)
    answers = {}
    for name, fields in PROBES.items():
        response = client.post(f"/f/{slug}", json={**fields, "token": token}, headers={"Accept": "application/json"})
        body = response.get_json()
        answers[name] = {"status": response.status_code, "fields": body.get("fields") if body else None}
    return {"controls": controls(page), "answers": answers}


def token_of(html: str) -> str:
    match = re.search(r'name="token"[^>]*value="([^"]*)"', html) or re.search(r'value="([^"]*)"[^>]*name="token"', html)
    assert match
    return match.group(1)
