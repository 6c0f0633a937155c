"""The lead's journey through the worker: stage per intent, promotion by fit and engagement, no demotion,
one lead per person, only accepted submissions classify and route."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Delivery, Destination, Lead, StageChange, Submission
from tests.helpers import valid_fields

INTENT_STAGE = [
    ("newsletter", "prospect"),
    ("whitepaper-lead-quality", "MQL"),
    ("webinar-pipeline-live", "MQL"),
    ("request-demo", "SQL"),
    ("contact-sales", "SQL"),
]


def submit(client, slug, **fields):
    response = client.post(f"/f/{slug}", json=valid_fields(slug, **fields) if not fields.get("raw") else fields)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


@pytest.mark.parametrize(("slug", "stage"), INTENT_STAGE)
def test_stage_follows_form_intent(client, db_session, run_worker, slug, stage):
    submit(client, slug)
    run_worker()
    lead = db_session.scalars(select(Lead)).one()
    assert lead.stage == stage
    [change] = db_session.scalars(select(StageChange)).all()
    assert (change.from_stage, change.to_stage, change.actor) == (None, stage, "classifier")
    assert "on form" in change.reason
    assert db_session.scalars(select(Submission)).one().stage == stage


def test_demo_request_moves_an_mql_to_sql_with_reason(client, db_session, run_worker):
    submit(client, "whitepaper-lead-quality", email="li@initech.com")
    run_worker()
    submit(client, "request-demo", email="li@initech.com")
    run_worker()
    changes = db_session.scalars(select(StageChange).order_by(StageChange.id)).all()
    assert [(c.from_stage, c.to_stage) for c in changes] == [(None, "MQL"), ("MQL", "SQL")]
    assert changes[1].reason == "sales request on form 'Request a demo' (SQL)"


def test_mql_promoted_to_sql_when_fit_and_engagement_both_cross_thresholds(app, client, db_session, run_worker):
    app.config.update(SCORE_SQL_FIT=20, SCORE_SQL_ENGAGEMENT=25)
    # fit: company domain 10 + director 15 = 25; engagement: download 10
    submit(client, "whitepaper-lead-quality", email="li@initech.com", job_title="Director of IT")
    run_worker()
    assert db_session.scalars(select(Lead)).one().stage == "MQL"
    submit(client, "webinar-pipeline-live", email="li@initech.com", job_title="Director of IT")  # +15
    run_worker()
    db_session.expire_all()
    lead = db_session.scalars(select(Lead)).one()
    assert (lead.stage, lead.fit, lead.engagement, lead.score) == ("SQL", 25, 25, 50)
    last = db_session.scalars(select(StageChange).order_by(StageChange.id.desc())).first()
    assert last.reason == "fit 25 \u2265 20 and engagement 25 \u2265 25"
    assert lead.stage_reason == last.reason


def test_stage_never_moves_backwards(client, db_session, run_worker):
    submit(client, "request-demo", email="sam@hooli.com")
    run_worker()
    submit(client, "newsletter", email="sam@hooli.com")
    run_worker()
    db_session.expire_all()
    assert db_session.scalars(select(Lead)).one().stage == "SQL"
    assert db_session.scalar(select(func.count()).select_from(StageChange)) == 1


def test_one_lead_per_person_and_newest_non_empty_fields_win(client, db_session, run_worker):
    submit(client, "request-demo", email="Li@Initech.com", company="Initech", job_title="Manager", phone="")
    run_worker()
    submit(client, "contact-sales", email="li@initech.com", company="Initech Global", first_name="Li")
    run_worker()
    db_session.expire_all()
    lead = db_session.scalars(select(Lead)).one()
    assert lead.email == "li@initech.com"
    assert (lead.company, lead.job_title) == ("Initech Global", "Manager")
    assert db_session.scalar(select(func.count()).select_from(Submission).where(Submission.lead_id == lead.id)) == 2


def test_gmail_dots_and_tags_are_the_same_lead(client, db_session, run_worker):
    submit(client, "newsletter", email="jane.doe+news@gmail.com")
    submit(client, "newsletter", email="janedoe@googlemail.com")
    run_worker()
    assert db_session.scalars(select(Lead.email)).all() == ["janedoe@gmail.com"]


def test_rejected_submissions_never_classify_or_route(app, client, db_session, run_worker):
    with app.app_context():
        from app.db import session_scope

        with session_scope() as session:
            session.add(Destination(name="all", kind="webhook", target="http://127.0.0.1:9/hook"))
            session.commit()
    client.post("/f/newsletter", json={"email": "bot@spam.example", "website": "http://spam.example"})
    run_worker()
    submission = db_session.scalars(select(Submission)).one()
    assert submission.verdict == "rejected" and submission.lead_id is None
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 0
    assert db_session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_routing_by_stage_and_form(app, client, db_session, run_worker):
    from app.db import session_scope

    with app.app_context(), session_scope() as session:
        session.add_all(
            [
                Destination(name="sales", kind="webhook", target="http://127.0.0.1:9/a", stages=["SQL"]),
                Destination(name="marketing", kind="webhook", target="http://127.0.0.1:9/b", stages=["MQL"]),
                Destination(name="demo only", kind="webhook", target="http://127.0.0.1:9/c", forms=["request-demo"]),
                Destination(name="off", kind="webhook", target="http://127.0.0.1:9/d", active=False),
            ]
        )
        session.commit()
    app.config["DELIVERY_BACKOFF"] = []  # connection refused -> dead at once; routing is what is tested here
    submit(client, "request-demo")
    submit(client, "whitepaper-lead-quality")
    run_worker()
    rows = db_session.execute(
        select(Submission.form_id, Destination.name)
        .join(Delivery, Delivery.submission_id == Submission.id)
        .join(Destination, Destination.id == Delivery.destination_id)
        .order_by(Destination.name)
    ).all()
    names = sorted(name for _, name in rows)
    assert names == ["demo only", "marketing", "sales"]


def test_risk_from_an_earlier_submission_keeps_counting(client, db_session, run_worker):
    """Fit is a function of every accepted submission: a free-mail penalty seen on the demo request
    still counts after a later newsletter fill that carries no such finding."""
    submit(client, "request-demo", email="jo.smith@gmail.com", job_title="Engineer")
    run_worker()
    db_session.expire_all()
    lead = db_session.scalars(select(Lead)).one()
    assert (lead.fit, lead.engagement) == (-20, 25)
    submit(client, "newsletter", email="jo.smith@gmail.com")
    run_worker()
    db_session.expire_all()
    assert [s.verdict for s in db_session.scalars(select(Submission))] == ["accepted", "accepted"]
    lead = db_session.scalars(select(Lead)).one()
    assert (lead.fit, lead.engagement, lead.score) == (-20, 30, 10)
    assert "risk.freemail.b2b" in [line["rule"] for line in lead.score_breakdown["fit"]]


def test_company_size_is_stored_with_the_answers_and_scored(client, db_session, run_worker):
    submit(client, "contact-sales", company_size="201_1000", budget="over_50k", job_title="Engineer")
    run_worker()
    submission = db_session.scalars(select(Submission)).one()
    assert submission.answers == {"company_size": "201_1000", "budget": "over_50k"}
    lead = db_session.scalars(select(Lead)).one()
    # fit: company domain 10, engineer 0, 201–1000 10, budget over $50k 15; engagement: contact sales 25
    assert (lead.fit, lead.engagement, lead.score) == (35, 25, 60)
    bad = client.post("/f/request-demo", json=valid_fields("request-demo", company_size="a lot"))
    assert bad.status_code == 400 and "company_size" in bad.get_json()["fields"]
    assert 'name="company_size"' in client.get("/f/request-demo").get_data(as_text=True)


def test_prospect_jumping_to_sql_records_the_intent_and_the_scores(app, client, db_session, run_worker):
    app.config.update(SCORE_SQL_FIT=25, SCORE_SQL_ENGAGEMENT=15)
    submit(client, "newsletter", email="li@initech.com")  # prospect, engagement 5
    run_worker()
    # fit: company domain 10 + head 15; engagement 5 + download 10
    submit(client, "whitepaper-lead-quality", email="li@initech.com", job_title="Head of Growth")
    run_worker()
    changes = db_session.scalars(select(StageChange).order_by(StageChange.id)).all()
    assert [(c.from_stage, c.to_stage) for c in changes] == [(None, "prospect"), ("prospect", "SQL")]
    assert changes[1].reason == (
        "engagement on form 'Whitepaper: The Lead Quality Playbook' (MQL), then fit 25 \u2265 25 and engagement 15 "
        "\u2265 15"
    )
