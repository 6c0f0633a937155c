"""The Scoring & qualification page over HTTP: admins only, field-level errors, a preview that writes
nothing, and a save that keeps a version and re-scores the existing leads in the real worker."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts.users import set_user
from app.db import session_scope
from app.models import AuditEvent, Lead, RescoreRun, ScoringRuleSet, StageChange
from forms.scoring_rules import NUMBERS, TABLES
from screening.scoring import ScoringRules
from tests.helpers import csrf_from, sign_in, valid_fields

URL = "/admin/scoring"


def page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def fields_in_force(client, **changes: Any) -> dict[str, Any]:
    """The form as the page shows it (the rules in force), with `changes` and a fresh CSRF token."""
    rules = ScoringRules().as_dict()
    data: dict[str, Any] = {name: rules[name] for name in NUMBERS}
    for name, _, _ in TABLES:
        data[name] = "\n".join(f"{k} = {v}" for k, v in rules[name].items())
    data["sql_blockers"] = ", ".join(rules["sql_blockers"])
    data["csrf_token"] = csrf_from(page(client))
    return {**data, **changes}


def submit(client, slug: str, **fields: Any) -> None:
    response = client.post(f"/f/{slug}", json=valid_fields(slug, **fields))
    assert response.status_code == 202, response.get_json()


def test_the_page_needs_an_admin(app, client):
    assert client.get(URL).status_code == 302  # to the sign-in page
    with app.app_context(), session_scope() as session:
        set_user(session, email="rita@example.com", password="reviewer password", role="reviewer")
        session.commit()
    reviewer = sign_in(client, "rita@example.com", "reviewer password")
    assert reviewer.get(URL).status_code == 403
    token = csrf_from(reviewer.get("/admin/").get_data(as_text=True))
    assert reviewer.post(URL, data={"csrf_token": token, "action": "save"}).status_code == 403
    assert reviewer.get(f"{URL}/runs/1").status_code == 403


def test_the_page_shows_the_settings_in_force_until_someone_saves(app, admin):
    html = page(admin)
    assert "In force: the settings" in html
    assert 'name="sql_min_fit" type="number" value="10"' in html or 'value="10"' in html
    assert "budget:none = -10" in html
    assert 'href="/admin/scoring" aria-current="page">Scoring</a>' in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"half_life_days": "-1"}, "half_life_days", "cannot be negative"),
        ({"mql_engagement": "0"}, "mql_engagement", "from 1 to 1000"),
        ({"sql_engagement": "5000"}, "sql_engagement", "from 0 to 1000"),
        ({"sql_min_fit": ""}, "sql_min_fit", "Enter a number"),
        ({"actions": "demo = -5"}, "actions", "line 1: points must be between 0 and 1000"),
        ({"bant": "budget:none = -10\nbudget:none = 5"}, "bant", "line 2: &#39;budget:none&#39; is listed twice"),
        ({"seniority": "c_level = lots"}, "seniority", "line 1: &#39;lots&#39; is not a whole number"),
        ({"countries": "germany"}, "countries", "line 1: write it as key = points"),
        ({"sql_blockers": "competitor, astrologer"}, "sql_blockers", "Not in the risks table: astrologer"),
    ],
    ids=[
        "negative-half-life",
        "mql-threshold-zero",
        "sql-engagement-too-high",
        "missing-number",
        "negative-engagement-points",
        "table-key-twice",
        "table-points-not-a-number",
        "table-line-without-points",
        "unknown-blocker",
    ],
)
def test_invalid_rules_are_refused_with_a_message_on_their_field(app, admin, db_session, changes, field, message):
    for action in ("preview", "save"):
        response = admin.post(URL, data=fields_in_force(admin, action=action, **changes))
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'id="{field}-error"' in html and message in html, html[html.find('class="error"') - 300 :][:900]
        assert "Please correct the highlighted fields." in html
    assert db_session.scalar(select(func.count()).select_from(ScoringRuleSet)) == 0
    assert db_session.scalar(select(func.count()).select_from(RescoreRun)) == 0


def test_saving_unchanged_rules_makes_no_version(app, admin, db_session):
    response = admin.post(URL, data=fields_in_force(admin, action="save"), follow_redirects=True)
    assert "Nothing changed" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ScoringRuleSet)) == 0


def test_a_rule_change_in_the_admin_rescores_the_leads(app, client, admin, db_session, run_worker):
    """The journey: leads exist, marketing previews a lower SQL minimum fit, saves it, the worker re-scores,
    the page shows the run done and the history who changed what."""
    submit(client, "request-demo", email="ana@initech.com", job_title="Analyst", company_size="1_10")  # MQL, fit 0
    submit(client, "request-demo", email="bo@globex.com", job_title="Analyst", company_size="1_10")  # MQL, fit 0
    submit(client, "request-demo", email="cy@umbrella.com")  # SQL, fit 10
    run_worker()
    assert sorted(db_session.scalars(select(Lead.stage))) == ["MQL", "MQL", "SQL"]
    changes_before = db_session.scalar(select(func.count()).select_from(StageChange))

    response = admin.post(URL, data=fields_in_force(admin, action="preview", sql_min_fit="0"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<li>2 MQL would become SQL</li>" in html
    assert "<strong>2</strong> would move forward" in html and "Nothing has been saved" in html
    assert "ana@initech.com" in html and "bo@globex.com" in html
    assert db_session.scalar(select(func.count()).select_from(ScoringRuleSet)) == 0
    db_session.expire_all()
    assert sorted(db_session.scalars(select(Lead.stage))) == ["MQL", "MQL", "SQL"]

    data = fields_in_force(admin, action="save", sql_min_fit="0", note="sales takes small teams now")
    response = admin.post(URL, data=data)
    assert response.status_code == 302
    html = page(admin)
    assert "Saved as version" in html and "re-scoring 3 lead(s)" in html
    assert 'id="rescore-done">0</strong> of <strong id="rescore-total">3</strong>' in html
    [row] = db_session.scalars(select(ScoringRuleSet)).all()
    assert (row.created_by, row.changes, row.note) == (
        "anna@example.com",
        {"sql_min_fit": {"from": 10, "to": 0}},
        "sales takes small teams now",
    )
    run = db_session.scalars(select(RescoreRun)).one()
    assert admin.get(f"{URL}/runs/{run.id}").get_json()["status"] == "queued"

    run_worker()
    db_session.expire_all()
    assert sorted(db_session.scalars(select(Lead.stage))) == ["SQL", "SQL", "SQL"]
    assert db_session.scalar(select(func.count()).select_from(StageChange)) == changes_before + 2
    progress = admin.get(f"{URL}/runs/{run.id}").get_json()
    assert progress == {
        "id": run.id,
        "version": row.id,
        "status": "done",
        "done": 3,
        "total": 3,
        "promoted": 2,
        "suggested": 0,
        "finished": True,
    }
    html = page(admin)
    assert "sql_min_fit: 10 \u2192 0" in html and "sales takes small teams now" in html
    assert 'id="rescore-status">done</span>' in html and "Run it again" not in html
    assert "In force: version" in html and 'name="sql_min_fit"' in html and 'value="0"' in html
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "scoring_rules.saved")).one()
    assert audit.actor == "anna@example.com"

    # New fills are scored under the saved rules at once (the worker's copy follows the published version).
    submit(client, "request-demo", email="di@hooli.com", job_title="Analyst", company_size="1_10")
    run_worker()
    db_session.expire_all()
    assert db_session.scalars(select(Lead.stage).where(Lead.email == "di@hooli.com")).one() == "SQL"


def test_an_open_run_can_be_queued_again_and_resumes(app, client, admin, db_session, run_worker):
    submit(client, "request-demo", email="ana@initech.com", job_title="Analyst", company_size="1_10")
    run_worker()
    admin.post(URL, data=fields_in_force(admin, action="save", sql_min_fit="0"))
    run = db_session.scalars(select(RescoreRun)).one()
    html = page(admin)
    assert "Run it again" in html
    token = csrf_from(html)
    response = admin.post(f"{URL}/runs/{run.id}/resume", data={"csrf_token": token}, follow_redirects=True)
    assert "queued again" in response.get_data(as_text=True)
    run_worker()  # two jobs for one run: the second finds it done
    db_session.expire_all()
    run = db_session.get(RescoreRun, run.id)
    assert (run.status, run.done, run.promoted) == ("done", 1, 1)
    assert (
        db_session.scalar(select(func.count()).select_from(StageChange).where(StageChange.actor.like("rescore%"))) == 1
    )
    response = admin.post(f"{URL}/runs/{run.id}/resume", data={"csrf_token": token}, follow_redirects=True)
    assert "That re-score is done." in response.get_data(as_text=True)
    assert admin.get(f"{URL}/runs/999").status_code == 404
