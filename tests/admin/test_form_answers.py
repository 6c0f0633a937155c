"""The form fields' answers where people read them: the submission page (labelled, in the form's order,
options by their labels), the lead page, and the submissions CSV (one JSON cell, never a formula)."""

from __future__ import annotations

import csv
import io
import json
import re

from sqlalchemy import select

from app.models import Form, Submission
from forms.field_spec import parse_fields

FIELDS = [
    {"key": "email", "type": "email", "label": ""},
    {"key": "company", "type": "text", "label": ""},
    {"key": "seats", "type": "number", "label": "Seats"},
    {"key": "tools", "type": "multi_checkbox", "label": "Tools", "options": "crm = A CRM\nsheet = Spreadsheets"},
    {"key": "updates", "type": "checkbox", "label": "Updates please"},
    {"key": "note", "type": "text", "label": "Note"},
    {"key": "budget", "type": "select", "label": "", "options": [{"value": "over_50k", "label": ""}]},
]


def post(client, db_session, **fields):
    db_session.add(
        Form(
            slug="answers",
            name="Answers",
            kind="demo",
            settings={"fields": [s.as_dict() for s in parse_fields(FIELDS)]},
        )
    )
    db_session.commit()
    html = client.get("/f/answers").get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([^"]*)"', html).group(1)
    response = client.post("/f/answers", json={"token": token, **fields}, headers={"Accept": "application/json"})
    assert response.status_code == 202, response.get_json()
    return db_session.scalars(select(Submission)).one()


def test_submission_and_lead_pages_show_the_answers_in_words(admin, client, db_session, run_worker):
    submission = post(
        client,
        db_session,
        email="li@initech.com",
        company="Initech",
        seats="12",
        tools=["crm", "sheet"],
        updates=True,
        note="<b>bold</b>",
        budget="over_50k",
    )
    html = admin.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    answers = html[html.index('id="answers"') :]
    pairs = re.findall(r"<dt[^>]*>([^<]*)</dt><dd>([^<]*)</dd>", answers[: answers.index("</dl>")])
    assert pairs == [
        ("Seats", "12"),
        ("Tools", "A CRM, Spreadsheets"),
        ("Updates please", "yes"),
        ("Note", "&lt;b&gt;bold&lt;/b&gt;"),  # escaped
        ("Budget", "Over $50k a year"),  # the built-in question's label and option
    ]
    run_worker()
    db_session.expire_all()
    lead_id = db_session.get(Submission, submission.id).lead_id
    assert lead_id is not None
    lead_page = admin.get(f"/admin/leads/{lead_id}").get_data(as_text=True)
    assert "<dt>tools</dt><dd>crm, sheet</dd>" in lead_page and "<dt>updates</dt><dd>yes</dd>" in lead_page


def test_the_submissions_csv_has_the_answers_as_one_json_cell(admin, client, db_session, run_worker):
    post(client, db_session, email="li@initech.com", company="Initech", seats="3", note="=HYPERLINK(1)")
    run_worker()  # the list shows screened submissions
    response = admin.get("/admin/submissions.csv")
    [record] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert record["answers"].startswith("{")  # so a spreadsheet never reads it as a formula
    assert json.loads(record["answers"]) == {"seats": 3, "note": "=HYPERLINK(1)"}


def test_a_submission_without_answers_has_an_empty_cell_and_no_section(admin, client, db_session, run_worker):
    submission = post(client, db_session, email="li@initech.com")
    run_worker()
    assert 'id="answers"' not in admin.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    [record] = list(csv.DictReader(io.StringIO(admin.get("/admin/submissions.csv").get_data(as_text=True))))
    assert record["answers"] == ""
