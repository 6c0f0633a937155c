"""JSON bodies that used to cost a 500 and the submission: they get a 400 with a message, or are stored cleaned."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Submission
from tests.helpers import fetch_token, valid_fields


def test_json_nested_thousands_deep_is_a_400_with_a_message(client, db_session):
    body = '{"email": "li@initech.com", "company": ' + "[" * 25_000 + "]" * 25_000 + "}"
    response = client.post("/f/request-demo", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.get_data(as_text=True)
    assert db_session.scalars(select(Submission)).all() == []


def test_a_lone_surrogate_in_a_shown_field_is_stored_cleaned(client, admin, db_session):
    token = fetch_token(client, "request-demo")
    fields = valid_fields("request-demo", token=token, consent=True, last_name="Wei\ud800", company="Init\udfffech")
    response = client.post("/f/request-demo", json=fields)
    assert response.status_code in (200, 201, 202)
    stored = db_session.scalars(select(Submission)).one()
    assert stored.last_name == "Wei\ufffd" and stored.company == "Init\ufffdech"
    page = admin.get(f"/admin/submissions/{stored.id}")
    assert page.status_code == 200 and "Wei\ufffd" in page.get_data(as_text=True)


def test_a_lone_surrogate_in_a_field_name_is_kept_in_the_raw_post(client, db_session):
    token = fetch_token(client, "request-demo")
    fields = {**valid_fields("request-demo", token=token, consent=True), "x\udc80": "y"}
    assert client.post("/f/request-demo", json=fields).status_code in (200, 201, 202)
    assert "x\ufffd" in db_session.scalars(select(Submission)).one().raw
