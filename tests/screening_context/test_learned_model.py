"""The learned spam model in the app: reviewers' and sales' decisions train it, the worker screens with it,
admins reset it (button and CLI), and the worker's copy follows the table (new rows, changed decisions, reset)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts.users import set_user
from app.cli import cli
from app.db import session_scope
from app.forwarding.routing import feedback_token
from app.models import AuditEvent, Finding, Form, LearnedExample, Submission
from app.screening_context.learned_model import learn, model_for, reset, stats
from tests.helpers import csrf_from, sign_in, valid_fields

# A spam wave no phrase list knows (promotional merchandise), and real buyers' requests.
CAMPAIGN = [
    "Custom printed tote bags and water bottles with your logo, MOQ 300 pcs, free samples and fast delivery.",
    "We supply custom logo water bottles, tote bags and lanyards, MOQ 200 pieces, free samples, door to door.",
    "Promotional lanyards and tote bags with your logo printed, low MOQ, free samples this month.",
    "Logo printed water bottles and notebooks for your team events, MOQ 100 pcs, free samples shipped today.",
]
BUYERS = [
    "We are a 40-person sales team and want to route demo requests from three websites to Salesforce.",
    "What does the plan cost for two websites and about 1,000 submissions a month? We would pay annually.",
    "Our marketing team needs the webinar registrations forwarded to HubSpot with the UTM source.",
    "Please call me about pricing for five admin seats, we want to start next month.",
]
NEXT_WAVE = "Custom logo tote bags, lanyards and water bottles for your brand, low MOQ and free samples."
NEAR_MISS = (
    "We hand out water bottles with our logo at trade shows. Can you tag the leads from our booth form "
    "by event and send them to Salesforce?"
)


@pytest.fixture
def settings(settings):
    settings["LEARNED_MODEL_MIN_EXAMPLES"] = 3  # the journey decides four of each, not thirty
    return settings


def held(session, message: str, *, email: str, company: str = "Acme") -> int:
    """A submission screening held earlier (for whatever reason), waiting in the queue."""
    form = session.scalars(select(Form).where(Form.slug == "contact-sales")).one()
    submission = Submission(
        form_id=form.id,
        email=email,
        first_name="Sam",
        company=company,
        message=message,
        status="screened",
        verdict="held",
        reason_category="uncertain",
    )
    session.add(submission)
    session.commit()
    return submission.id


def decide(client, **data):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/").get_data(as_text=True)).group(1)
    response = client.post("/admin/decide", data={"csrf_token": token, **data})
    assert response.status_code == 302
    return response


def post(client, message: str, *, email: str) -> int:
    response = client.post("/f/contact-sales", json=valid_fields("contact-sales", email=email, message=message))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def screened(session, submission_id: int) -> tuple[str, list[Finding]]:
    session.expire_all()
    submission = session.get(Submission, submission_id)
    return submission.verdict, [f for f in submission.findings if f.code == "spam.learned"]


def examples(session) -> list[tuple[str, str, int]]:
    session.expire_all()
    rows = session.scalars(select(LearnedExample).order_by(LearnedExample.submission_id))
    return [(e.label, e.source, e.submission_id) for e in rows]


def test_reviewers_decisions_train_the_model_and_change_a_later_verdict(app, admin, client, db_session, run_worker):
    before = post(client, NEXT_WAVE, email="first@hooli.com")
    run_worker()
    assert screened(db_session, before) == ("accepted", [])  # no rule knows this wave

    waves = [held(db_session, text, email=f"promo{i}@spam.example") for i, text in enumerate(CAMPAIGN)]
    buyers = [held(db_session, text, email=f"buyer{i}@initech.com") for i, text in enumerate(BUYERS)]
    for submission_id in waves:
        decide(admin, action="reject", category="spam", ids=str(submission_id))
    decide(admin, action="approve", ids=[str(i) for i in buyers])
    assert sorted(examples(db_session)) == sorted(
        [("spam", "submission.rejected", i) for i in waves] + [("ham", "submission.approved", i) for i in buyers]
    )

    later = post(client, NEXT_WAVE, email="second@globex.com")
    near_miss = post(client, NEAR_MISS, email="buyer@umbrella.com")
    run_worker()
    verdict, [finding] = screened(db_session, later)
    assert verdict == "held"
    assert finding.category == "spam" and finding.weight >= 50
    assert finding.evidence.startswith("learned from 8 decisions here: ")
    assert "'logo'" in finding.evidence and "point to spam" in finding.evidence
    assert screened(db_session, near_miss) == ("accepted", [])

    # Reset (admins, CSRF, audited): back to the seed, which never speaks on its own.
    page = admin.get("/admin/lists").get_data(as_text=True)
    assert "learned from 4 spam and 4 ham decisions here" in page
    response = admin.post(
        "/admin/lists/learned-model/reset", data={"csrf_token": csrf_from(page), "note": "new campaign season"}
    )
    assert response.status_code == 302
    assert examples(db_session) == []
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "learned_model.reset")).one()
    assert (event.actor, event.details) == ("anna@example.com", {"examples": 8, "note": "new campaign season"})
    after_reset = post(client, NEXT_WAVE, email="third@vandelay.com")
    run_worker()
    assert screened(db_session, after_reset) == ("accepted", [])


def test_a_decision_that_changes_replaces_the_example_and_a_repeat_changes_nothing(app, admin, db_session):
    submission_id = held(db_session, CAMPAIGN[0], email="promo@spam.example")
    decide(admin, action="reject", category="spam", ids=str(submission_id))
    decide(admin, action="reject", category="spam", ids=str(submission_id))  # a double click
    assert examples(db_session) == [("spam", "submission.rejected", submission_id)]
    decide(admin, action="approve", ids=str(submission_id))  # released from the spam folder
    assert examples(db_session) == [("ham", "submission.released", submission_id)]


def test_only_spam_rejections_teach_spam_and_nothing_to_read_teaches_nothing(app, admin, db_session):
    competitor = held(db_session, "What does your pricing look like for 40 seats?", email="li@rival.com")
    silent = held(db_session, "", email="nobody@spam.example", company="")
    decide(admin, action="reject", category="competitor", ids=str(competitor))
    decide(admin, action="reject", category="spam", ids=str(silent))
    assert examples(db_session) == []


def test_sales_feedback_trains_spam_and_other_outcomes_ham(app, client, db_session, run_worker):
    submission_id = post(client, NEXT_WAVE, email="li@initech.com")
    run_worker()
    lead_id = db_session.get(Submission, submission_id).lead_id
    token = feedback_token(app.config["SECRET_KEY"], lead_id)
    assert client.post(f"/api/feedback/{token}", json={"outcome": "spam"}).status_code == 200
    assert examples(db_session) == [("spam", "lead.feedback", submission_id)]
    assert client.post(f"/api/feedback/{token}", json={"outcome": "won"}).status_code == 200
    assert examples(db_session) == [("ham", "lead.feedback", submission_id)]


def test_reset_is_for_admins_only_and_needs_csrf(app, client, admin, db_session):
    submission_id = held(db_session, CAMPAIGN[0], email="promo@spam.example")
    decide(admin, action="reject", category="spam", ids=str(submission_id))
    assert admin.post("/admin/lists/learned-model/reset", data={}).status_code == 400
    with app.app_context(), session_scope() as session:
        set_user(session, email="rita@example.com", password="reviewer password", role="reviewer")
        session.commit()
    reviewer = sign_in(app.test_client(), "rita@example.com", "reviewer password")
    token = csrf_from(reviewer.get("/admin/").get_data(as_text=True))
    assert reviewer.post("/admin/lists/learned-model/reset", data={"csrf_token": token}).status_code == 403
    assert len(examples(db_session)) == 1


def test_cli_stats_and_reset(app, db_session):
    ids = [held(db_session, text, email=f"promo{i}@spam.example") for i, text in enumerate(CAMPAIGN[:2])]
    with app.app_context(), session_scope() as session:
        for submission_id in ids:
            learn(session, submission_id=submission_id, label="spam", source="submission.rejected", actor="test")
        session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(cli, ["model", "stats"])
    assert out.exit_code == 0, out.output
    assert (
        "learned from 2 spam and 0 ham decisions here (silent until 3 of each: 1 more spam and 3 more ham)"
        in out.output
    )
    assert "2  spam from submission.rejected" in out.output
    assert "seed: 100 spam, 100 ham" in out.output
    refused = runner.invoke(cli, ["model", "reset"], input="n\n")
    assert refused.exit_code != 0 and len(examples(db_session)) == 2
    done = runner.invoke(cli, ["model", "reset", "--yes", "--note", "bad week"])
    assert done.exit_code == 0, done.output
    assert "forgot 2 decision(s)" in done.output
    assert examples(db_session) == []
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "learned_model.reset")).one()
    assert (event.actor, event.details["note"]) == ("cli", "bad week")


def test_the_process_copy_follows_new_rows_changed_decisions_and_reset(app, db_session):
    app.config["SCREENING_LISTS_TTL_SECONDS"] = 3600
    ids = [held(db_session, text, email=f"p{i}@spam.example") for i, text in enumerate(CAMPAIGN + BUYERS)]
    with app.app_context(), session_scope() as session:

        def teach(submission_id: int, label: str) -> None:
            learn(session, submission_id=submission_id, label=label, source="test", actor="test")
            session.commit()

        first = model_for(app, session)
        assert (first.local_spam, first.local_ham, first.spam) == (0, 0, 100)
        teach(ids[0], "spam")
        assert model_for(app, session) is first  # within the TTL: the copy, no query
        grown = model_for(app, session, fresh=True)
        assert (grown.local_spam, grown.spam) == (1, 101)
        assert model_for(app, session, fresh=True) is grown  # nothing new: the same state
        for submission_id in ids[1:4]:
            teach(submission_id, "spam")
        for submission_id in ids[4:]:
            teach(submission_id, "ham")
        ready = model_for(app, session, fresh=True)
        assert (ready.local_spam, ready.local_ham, ready.ready) == (4, 4, True)
        teach(ids[0], "ham")  # a changed decision: a row replaced, the copy rebuilt
        changed = model_for(app, session, fresh=True)
        assert (changed.local_spam, changed.local_ham, changed.spam, changed.ham) == (3, 5, 103, 105)
        reset(session, actor="test")
        session.commit()
        empty = model_for(app, session, fresh=True)
        assert (empty.local_spam, empty.local_ham, empty.spam, empty.ham) == (0, 0, 100, 100)
        assert stats(session, app.config).line().startswith("learned from 0 spam and 0 ham decisions here")
        app.config["LEARNED_MODEL_ENABLED"] = False
        assert model_for(app, session, fresh=True) is None
