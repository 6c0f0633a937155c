"""The admin says in one line why screening decided, from the stored findings and the configured policy."""

from __future__ import annotations

from sqlalchemy import select

from app.models import ListEntry, Submission
from tests.helpers import valid_fields


def _screened(client, db_session, run_worker, **fields) -> Submission:
    posted = client.post("/f/request-demo", json=valid_fields("request-demo", **fields))
    assert posted.status_code in (200, 202)
    run_worker()
    db_session.expire_all()
    return db_session.scalars(select(Submission).order_by(Submission.id.desc())).first()


def test_queue_and_submission_page_show_why_a_dns_hold_fell(admin, client, db_session, run_worker):
    submission = _screened(client, db_session, run_worker, email="li@timeout.example")
    assert (submission.verdict, submission.reason_category) == ("held", "uncertain")
    line = "held: uncertain 50 ≥ 50 — only because DNS did not answer"
    queue = admin.get("/admin/").get_data(as_text=True)
    row = queue.split(f'id="row-{submission.id}"')[1].split("</tr>")[0]
    assert line in row
    page = admin.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    assert f"Screening: {line}" in page and page.count(line) == 1


def test_the_line_follows_the_configured_thresholds(app, admin, client, db_session, run_worker):
    db_session.add(ListEntry(kind="competitor_domain", value="rival.co.uk", created_by="anna@example.com"))
    db_session.commit()
    submission = _screened(client, db_session, run_worker, email="li@eu.rival.co.uk", company="Rival Ltd")
    assert submission.verdict == "held"
    page = admin.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    assert "Screening: held: competitor 100 ≥ 50" in page
    app.config["SCREENING_POLICY"] = {"hold_at": 150, "mixed_hold_at": 200}
    page = admin.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    assert "Screening: accepted: competitor " in page and "&lt; 150" in page


def test_an_unscreened_submission_has_no_line(admin, client, db_session):
    posted = client.post("/f/request-demo", json=valid_fields("request-demo"))
    assert posted.status_code in (200, 202)
    submission = db_session.scalars(select(Submission)).one()
    page = admin.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    assert "not screened yet" in page and "Screening:" not in page
