"""Saved scoring rules (app/leads/scoring_rules.py) and the re-score of existing leads (app/leads/rescore.py):
each save is a version with its diff; the preview's counts are what the re-score then does; the re-score
moves stages only forward, suggests the rest, leaves a person's stage alone and can run twice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import event, func, select

from app.db import session_scope
from app.jobs import rescore_leads
from app.leads.rescore import BATCH, preview, rescore_batch, start_run
from app.leads.scoring_rules import VERSION_KEY, rules_cache, save_rules
from app.models import AuditEvent, Lead, RescoreRun, ScoringRuleSet, StageChange, utcnow
from app.statuses import RescoreStatus
from screening.scoring import ScoringRules
from tests.helpers import valid_fields

DEFAULTS = ScoringRules()


def submit(client, slug: str, **fields: Any) -> None:
    response = client.post(f"/f/{slug}", json=valid_fields(slug, **fields))
    assert response.status_code == 202, response.get_json()


@pytest.fixture
def leads(app, client, run_worker, db_session) -> dict[str, Lead]:
    """Three demo requests under the default rules: an unqualified analyst at a 1-10 company (MQL, fit 0),
    a plain company address (SQL, fit 10), a VP (SQL, fit 30); and a newsletter prospect."""
    submit(client, "request-demo", email="ana@initech.com", job_title="Analyst", company_size="1_10")
    submit(client, "request-demo", email="bo@globex.com", job_title="")
    submit(client, "request-demo", email="cy@umbrella.com", job_title="VP Sales")
    submit(client, "newsletter", email="di@hooli.com")
    run_worker()
    rows = {lead.email: lead for lead in db_session.scalars(select(Lead))}
    assert {e: (lead.stage, lead.fit) for e, lead in rows.items()} == {
        "ana@initech.com": ("MQL", 0),
        "bo@globex.com": ("SQL", 10),
        "cy@umbrella.com": ("SQL", 30),
        "di@hooli.com": ("prospect", 10),
    }
    return rows


def save(app, rules: ScoringRules, actor: str = "anna@example.com") -> tuple[int, int]:
    """Save `rules` and start their run, as the admin page does; (rule set id, run id)."""
    with app.app_context(), session_scope() as session:
        row = save_rules(session, rules=rules, defaults=DEFAULTS, actor=actor, note="test")
        assert row is not None
        run = start_run(session, rule_set=row, actor=actor)
        session.commit()
        return row.id, run.id


def stages(db_session) -> dict[str, str]:
    db_session.expire_all()
    return {lead.email: lead.stage for lead in db_session.scalars(select(Lead))}


def test_saving_rules_keeps_a_version_with_who_when_and_the_diff(app, db_session):
    first, _ = save(app, replace(DEFAULTS, sql_min_fit=0))
    second, _ = save(app, replace(DEFAULTS, sql_min_fit=0, countries={"de": 10}), actor="ben@example.com")
    rows = db_session.scalars(select(ScoringRuleSet).order_by(ScoringRuleSet.id)).all()
    assert [(r.id, r.created_by, r.changes) for r in rows] == [
        (first, "anna@example.com", {"sql_min_fit": {"from": 10, "to": 0}}),
        (second, "ben@example.com", {"countries": {"added": {"de": 10}}}),
    ]
    assert rows[1].rules["sql_min_fit"] == 0 and rows[1].created_at is not None
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "scoring_rules.saved")).all()
    assert [(a.subject_id, a.actor) for a in audit] == [(first, "anna@example.com"), (second, "ben@example.com")]


def test_saving_the_rules_in_force_again_is_no_new_version(app, db_session):
    with app.app_context(), session_scope() as session:
        assert save_rules(session, rules=DEFAULTS, defaults=DEFAULTS, actor="anna@example.com") is None
    assert db_session.scalar(select(func.count()).select_from(ScoringRuleSet)) == 0


def test_the_preview_counts_what_the_rescore_then_does(app, db_session, leads):
    rules = replace(DEFAULTS, sql_min_fit=20)  # ana MQL -> stays; bo SQL (fit 10) -> suggested MQL; cy stays SQL
    rules = replace(rules, actions={**rules.actions, "newsletter": 15})  # di: engagement 15 -> MQL
    with app.app_context(), session_scope() as session:
        seen = preview(session, rules=rules)
    assert seen.leads == 4 and seen.pinned == 0
    assert dict(seen.promotions) == {("prospect", "MQL"): 1}
    assert dict(seen.suggestions) == {("SQL", "MQL"): 1}
    assert {(ex.email, ex.action, ex.target) for ex in seen.sample} == {
        ("di@hooli.com", "promote", "MQL"),
        ("bo@globex.com", "suggest", "MQL"),
    }
    assert stages(db_session)["di@hooli.com"] == "prospect"  # the preview wrote nothing
    assert db_session.scalar(select(func.count()).select_from(StageChange)) == 4

    version, run_id = save(app, rules)
    with app.app_context():
        assert rescore_leads(run_id) == "done"
    run = db_session.get(RescoreRun, run_id)
    assert (run.status, run.done, run.total, run.promoted, run.suggested) == (
        "done",
        4,
        4,
        seen.promoted,
        seen.suggested,
    )
    assert stages(db_session) == {
        "ana@initech.com": "MQL",
        "bo@globex.com": "SQL",  # not moved back: suggested
        "cy@umbrella.com": "SQL",
        "di@hooli.com": "MQL",
    }
    change = db_session.scalars(select(StageChange).order_by(StageChange.id.desc())).first()
    assert (change.from_stage, change.to_stage, change.actor, change.submission_id) == (
        "prospect",
        "MQL",
        f"rescore v{version}",
        None,
    )
    assert change.reason == (
        f"re-scored under the rules anna@example.com saved (v{version}): engagement 15 \u2265 15 (MQL threshold)"
    )
    [suggestion] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.rescore_suggested")).all()
    assert suggestion.subject_id == leads["bo@globex.com"].id
    assert suggestion.details["from"] == "SQL" and suggestion.details["to"] == "MQL"
    assert suggestion.details["rule_set"] == version


def test_the_rescore_changes_stages_and_breakdowns(app, db_session, leads):
    _, run_id = save(app, replace(DEFAULTS, sql_min_fit=0, company_size={**DEFAULTS.company_size, "1_10": -5}))
    with app.app_context():
        rescore_leads(run_id)
    db_session.expire_all()
    ana = db_session.get(Lead, leads["ana@initech.com"].id)
    assert (ana.stage, ana.fit, ana.score) == ("SQL", 5, 5 + ana.engagement)
    [size] = [line for line in ana.score_breakdown["fit"] if line["rule"] == "company_size.1_10"]
    assert size["points"] == -5
    assert ana.stage_reason.endswith("sales request on form 'Request a demo' (SQL)")


def test_running_the_rescore_twice_changes_nothing_the_second_time(app, db_session, leads):
    _, run_id = save(app, replace(DEFAULTS, sql_min_fit=0, sql_blockers=()))
    with app.app_context():
        rescore_leads(run_id)
        changes = db_session.scalar(select(func.count()).select_from(StageChange))
        with session_scope() as session:  # a run done: nothing more, whoever calls it
            assert rescore_batch(session, run_id=run_id) is False
        # Run again from the start, as a lost job queued again would: no second change, no second suggestion.
        with session_scope() as session:
            run = session.get(RescoreRun, run_id)
            run.status, run.last_lead_id, run.done = RescoreStatus.RUNNING, 0, 0
            session.commit()
        assert rescore_leads(run_id) == "done"
    assert db_session.scalar(select(func.count()).select_from(StageChange)) == changes
    assert (
        db_session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "lead.rescore_suggested")
        )
        == 0
    )


def test_a_stage_a_person_set_and_side_states_are_left_alone(app, db_session, leads):
    with app.app_context(), session_scope() as session:
        ana = session.get(Lead, leads["ana@initech.com"].id)
        ana.stage_set_by, ana.stage_set_at = "reviewer anna@example.com", utcnow()
        bo = session.get(Lead, leads["bo@globex.com"].id)
        bo.stage = "recycled"
        session.commit()
    _, run_id = save(app, replace(DEFAULTS, sql_min_fit=-100, actions={**DEFAULTS.actions, "newsletter": 50}))
    with app.app_context():
        seen = preview(app.extensions["leadsieve.sessionmaker"](), rules=replace(DEFAULTS, sql_min_fit=-100))
        rescore_leads(run_id)
    assert seen.pinned == 2
    after = stages(db_session)
    assert (after["ana@initech.com"], after["bo@globex.com"], after["di@hooli.com"]) == ("MQL", "recycled", "MQL")


def test_erased_leads_are_not_rescored(app, db_session, leads):
    with app.app_context(), session_scope() as session:
        lead = session.get(Lead, leads["ana@initech.com"].id)
        lead.erased_at = utcnow()
        session.commit()
    _, run_id = save(app, replace(DEFAULTS, sql_min_fit=0))
    with app.app_context():
        rescore_leads(run_id)
    assert stages(db_session)["ana@initech.com"] == "MQL"
    assert db_session.get(RescoreRun, run_id).total == 3


def test_a_run_whose_rules_were_replaced_stops_as_superseded(app, db_session, leads):
    _, old_run = save(app, replace(DEFAULTS, sql_min_fit=0))
    _, new_run = save(app, replace(DEFAULTS, sql_min_fit=5))
    with app.app_context():
        rescore_leads(old_run)
        rescore_leads(new_run)
    assert db_session.get(RescoreRun, old_run).status == "superseded"
    assert db_session.get(RescoreRun, new_run).status == "done"
    assert stages(db_session)["ana@initech.com"] == "MQL"  # fit 0 < 5: v1's promotion never applied


def test_the_rescore_goes_in_batches_and_resumes_after_the_last_lead_done(app, db_session, monkeypatch):
    """More leads than one batch: each batch commits its progress (n of total)."""
    monkeypatch.setattr("app.leads.rescore.BATCH", 2)
    with app.app_context(), session_scope() as session:
        session.add_all(Lead(email=f"p{i}@initech.com", stage="prospect") for i in range(5))
        session.commit()
    _, run_id = save(app, replace(DEFAULTS, company_domain=12))
    seen = []
    with app.app_context():
        while True:
            with session_scope() as session:
                more = rescore_batch(session, run_id=run_id)
                session.commit()
            run = db_session.get(RescoreRun, run_id)
            db_session.refresh(run)
            seen.append((run.done, run.total, run.status))
            if not more:
                break
    assert seen == [(2, 5, "running"), (4, 5, "running"), (5, 5, "done")]
    assert BATCH > 2
    db_session.expire_all()
    assert {lead.fit for lead in db_session.scalars(select(Lead))} == {12}


def count_statements(app, action) -> int:
    engine = app.extensions["leadsieve.engine"]
    seen: list[str] = []

    def record(*_args: Any) -> None:
        seen.append("x")

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def test_the_rules_are_read_from_the_database_once_per_version(app, redis_server):
    cache = rules_cache(app)
    redis = Redis.from_url(redis_server.url)
    with app.app_context(), session_scope() as session:
        assert count_statements(app, lambda: cache.get(session)) == 1  # no version yet: read, then published
        assert redis.get(VERSION_KEY) == b"0"
        assert count_statements(app, lambda: cache.get(session)) == 0
        assert cache.get(session) == DEFAULTS
    version, _ = save(app, replace(DEFAULTS, sql_fit=40))
    cache.publish(version)
    assert redis.get(VERSION_KEY) == str(version).encode()
    with app.app_context(), session_scope() as session:
        assert cache.get(session).sql_fit == 40
        assert count_statements(app, lambda: cache.get(session)) == 0
        # Another process saved (its publish reached Redis): this one reads again at its next use.
        redis.set(VERSION_KEY, version + 1)
        assert count_statements(app, lambda: cache.get(session)) == 1


def test_without_a_version_in_redis_the_rules_come_from_the_database_every_time(app, db_session):
    cache = rules_cache(app)
    cache.redis = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)  # nothing listens there
    version, _ = save(app, replace(DEFAULTS, sql_fit=41))
    with app.app_context(), session_scope() as session:
        assert cache.get(session).sql_fit == 41
        assert count_statements(app, lambda: cache.get(session)) == 1
    cache.publish(version)  # logged, not raised
