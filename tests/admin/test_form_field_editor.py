"""The form editor's field rows: every attribute edited, fields added, reordered and removed, problems
shown on their row, the live preview following, CSRF required and the change audited."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.models import AuditEvent, Form


class _EditorValues(HTMLParser):
    """What the browser would post from the editor as served (checked boxes, selected options, texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: MultiDict = MultiDict()
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.add(name, a.get("value", "y"))
            elif a.get("type") != "submit":
                self.values.add(name, unescape(a.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.add(self._textarea, "".join(self._text).removeprefix("\r\n").removeprefix("\n"))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def editor_values(html: str) -> MultiDict:
    start = html.index('id="form-editor"')
    parser = _EditorValues()
    parser.feed(html[start : html.index("</form>", start)])
    return parser.values


def demo_form(db_session) -> Form:
    return db_session.scalars(select(Form).where(Form.slug == "request-demo")).one()


def row_keys(values: MultiDict) -> list[str]:
    return [values[f"fields-{i}-key"] for i in range(100) if f"fields-{i}-key" in values]


def test_the_editor_lists_the_form_fields_in_order_with_a_blank_row(admin, db_session):
    form = demo_form(db_session)
    html = admin.get(f"/admin/forms/{form.id}").get_data(as_text=True)
    values = editor_values(html)
    keys = row_keys(values)
    assert keys[:5] == ["email", "first_name", "last_name", "company", "job_title"]
    assert keys[-6:] == ["budget", "authority", "need", "timeline", "company_size", ""]  # then a new one
    assert values["fields-0-required"] == "y" and values["fields-0-type"] == "email"
    assert values["fields-8-options"].startswith("under_10k\n10k_50k")
    assert 'name="csrf_token"' in html


def test_add_reorder_remove_and_edit_every_attribute(admin, client, db_session):
    form = demo_form(db_session)
    values = editor_values(admin.get(f"/admin/forms/{form.id}").get_data(as_text=True))
    keys = row_keys(values)
    new = len(keys) - 1
    values.setlist(f"fields-{keys.index('message')}-remove", ["y"])
    values.setlist(f"fields-{keys.index('phone')}-position", ["1.5"])  # right after the e-mail
    for name, value in {
        "key": "seats",
        "type": "number",
        "label": "Seats",
        "help": "How many people will use it",
        "required": "y",
        "min": "1",
        "max": "500",
        "prefill": "y",
        "map_hubspot": "num_seats",
        "map_salesforce": "Seats__c",
        "map_webhook": "seat_count",
        "position": "2.5",
    }.items():
        values.setlist(f"fields-{new}-{name}", [value])
    response = admin.post(f"/admin/forms/{form.id}", data=values)
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)', response.get_data(as_text=True))
    db_session.expire_all()
    fields = demo_form(db_session).settings["fields"]
    assert [f["key"] for f in fields][:4] == ["email", "phone", "first_name", "seats"]
    assert "message" not in [f["key"] for f in fields]
    seats = fields[3]
    assert seats == {
        "key": "seats",
        "type": "number",
        "label": "Seats",
        "help": "How many people will use it",
        "required": True,
        "min": 1,
        "max": 500,
        "prefill": True,
        "mapping": {"hubspot": "num_seats", "salesforce": "Seats__c", "webhook": "seat_count"},
    }
    audit = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "form.updated", AuditEvent.subject_id == form.id)
    ).one()
    assert audit.actor == "anna@example.com" and audit.details["fields"][:2] == ["email", "phone"]
    page = client.get("/f/request-demo?seats=40").get_data(as_text=True)
    assert 'id="seats-help">How many people will use it</p>' in page and 'value="40"' in page
    assert page.index('name="phone"') < page.index('name="first_name"') and 'name="message"' not in page


def test_problems_are_shown_on_their_row_and_nothing_is_saved(admin, db_session):
    form = demo_form(db_session)
    before = dict(form.settings)
    values = editor_values(admin.get(f"/admin/forms/{form.id}").get_data(as_text=True))
    new = len(row_keys(values)) - 1
    values.setlist(f"fields-{new}-key", ["Bad Key"])
    values.setlist("fields-1-type", ["select"])  # first_name keeps its type: not an error
    values.setlist("fields-8-options", [""])  # budget without options
    response = admin.post(f"/admin/forms/{form.id}", data=values)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="fields-{new}-key-error">use lower-case letters' in html
    assert 'id="fields-8-options-error">give at least one option' in html
    assert "Some fields need attention" in html
    db_session.expire_all()
    assert demo_form(db_session).settings == before


def test_saving_without_the_csrf_token_is_refused(admin, db_session):
    form = demo_form(db_session)
    values = editor_values(admin.get(f"/admin/forms/{form.id}").get_data(as_text=True))
    values.setlist("fields-0-label", ["Changed"])
    values.pop("csrf_token")
    assert admin.post(f"/admin/forms/{form.id}", data=values).status_code == 400
    db_session.expire_all()
    assert "fields" not in demo_form(db_session).settings  # as seeded: no list stored


def test_the_live_preview_follows_the_rows(admin, db_session):
    form = demo_form(db_session)
    values = editor_values(admin.get(f"/admin/forms/{form.id}").get_data(as_text=True))
    new = len(row_keys(values)) - 1
    for name, value in {"key": "plan", "type": "radio", "label": "Plan", "options": "a = Team\nb = Big"}.items():
        values.setlist(f"fields-{new}-{name}", [value])
    values.setlist("fields-1-remove", ["y"])
    html = admin.post("/admin/forms/preview", data=values).get_data(as_text=True)
    assert "<legend>Plan</legend>" in html and 'name="first_name"' not in html
    values.setlist(f"fields-{new}-options", [""])  # half-typed: the row is left out, the rest shows
    html = admin.post("/admin/forms/preview", data=values).get_data(as_text=True)
    assert "<legend>Plan</legend>" not in html and 'name="email"' in html
