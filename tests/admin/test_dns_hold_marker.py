"""The DNS-retry marker (`submissions.dns_held_at`): set by a screening that held because DNS did not
answer, cleared by a reviewer's decision or a re-screen, and the only thing the sweeper's retries read."""

from __future__ import annotations

import re

from sqlalchemy import create_engine, select, text

from app.db import session_scope
from app.jobs import screen_submission
from app.models import Finding, Form, Submission, utcnow
from app.runtime.migrations import upgrade
from app.runtime.sweeper import retry_dns_holds


def stored(session, email: str) -> int:
    form_id = session.scalars(select(Form.id).where(Form.slug == "newsletter")).one()
    row = Submission(form_id=form_id, email=email)
    session.add(row)
    session.commit()
    return row.id


def marker(session, submission_id: int):
    session.expire_all()
    return session.get(Submission, submission_id).dns_held_at


def decide(client, **data):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/").get_data(as_text=True)).group(1)
    return client.post("/admin/decide", data={"csrf_token": token, **data})


def test_screening_sets_the_marker_only_for_a_hold_dns_caused(app, db_session):
    silent = stored(db_session, "li@timeout.example")  # the suite's DNS server never answers for it
    fine = stored(db_session, "ana@acme.com")
    with app.app_context():
        assert screen_submission(silent) == "held"
        assert screen_submission(fine) == "accepted"
    assert marker(db_session, silent) is not None
    assert marker(db_session, fine) is None
    codes = db_session.scalars(select(Finding.code).where(Finding.submission_id == silent)).all()
    assert "dns.unknown" in codes


def test_decisions_and_rescreens_clear_the_marker(app, admin, db_session):
    ids = [stored(db_session, f"p{i}@timeout.example") for i in range(3)]
    with app.app_context():
        assert [screen_submission(i) for i in ids] == ["held"] * 3
    assert all(marker(db_session, i) is not None for i in ids)
    decide(admin, action="approve", ids=str(ids[0]))
    decide(admin, action="reject", ids=str(ids[1]), category="spam")
    decide(admin, action="rescreen", ids=str(ids[2]))
    assert [marker(db_session, i) for i in ids] == [None, None, None]
    with app.app_context():
        assert screen_submission(ids[2]) == "held"  # DNS still silent: marked again
    assert marker(db_session, ids[2]) is not None


def test_the_sweeper_retries_marked_holds_only(app, db_session):
    marked = stored(db_session, "li@timeout.example")
    with app.app_context():
        assert screen_submission(marked) == "held"
    # A held submission with the same finding but no marker (a reviewer's decision was reopened by hand,
    # say): the marker is what the sweeper reads.
    unmarked = stored(db_session, "kim@timeout.example")
    db_session.execute(
        Submission.__table__.update()
        .where(Submission.id == unmarked)
        .values(status="screened", verdict="held", reason_category="uncertain", screened_at=utcnow())
    )
    db_session.add(Finding(submission_id=unmarked, code="dns.unknown", category="uncertain", weight=50))
    db_session.commit()
    with app.app_context(), session_scope() as session:
        assert retry_dns_holds(session, after_seconds=900, limit=3, immediately=True) == 1
    db_session.expire_all()
    assert db_session.get(Submission, marked).status == "received"
    assert marker(db_session, marked) is None  # reopened for screening: no longer marked
    assert db_session.get(Submission, unmarked).status == "screened"


def test_the_migration_marks_the_holds_that_exist(tmp_path):
    url = f"sqlite:///{tmp_path / 'marks.db'}"
    upgrade(url, "0010")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO forms (id, slug, name, kind, active, settings, created_at, updated_at) VALUES "
                "(1, 'n', 'N', 'newsletter', 1, '{}', '2026-12-01', '2026-12-01')"
            )
        )
        for i, (verdict, code) in enumerate(
            [("held", "dns.unknown"), ("held", "competitor.domain"), ("accepted", "dns.unknown")]
        ):
            connection.execute(
                text(
                    "INSERT INTO submissions (id, form_id, raw, email, first_name, last_name, company, job_title, "
                    "phone, country, message, answers, user_agent, referrer, page_url, utm_source, utm_medium, "
                    "utm_campaign, utm_term, utm_content, consent_given, consent_text, consent_text_version, "
                    "signals, received_at, screened_at, status, verdict) VALUES (:id, 1, '{}', 'a@b.example', '', "
                    "'', '', '', '', '', '', '{}', '', '', '', '', '', '', '', '', 0, '', '', '{}', "
                    "'2026-12-01 09:00:00', '2026-12-01 09:00:01', 'screened', :verdict)"
                ),
                {"id": i + 1, "verdict": verdict},
            )
            connection.execute(
                text(
                    "INSERT INTO findings (submission_id, code, category, weight, evidence, created_at) "
                    "VALUES (:id, :code, 'x', 50, '', '2026-12-01')"
                ),
                {"id": i + 1, "code": code},
            )
    upgrade(url, "0011")
    with engine.connect() as connection:
        marks = dict(connection.execute(text("SELECT id, dns_held_at FROM submissions")).all())
    engine.dispose()
    assert marks[1] is not None and marks[2] is None and marks[3] is None
