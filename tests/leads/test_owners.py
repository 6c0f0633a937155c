"""Owners and speed to lead: assignment of new SQLs (round-robin, rules), the owner in forwarded payloads,
and the first-touch service level's breach alert (journeys through capture, the real worker and receivers)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.alerts import run_alert_checks
from app.db import session_scope
from app.forwarding.destinations import create_destination
from app.forwarding.routing import feedback_token
from app.leads.owners import (
    OwnerError,
    ServiceLevel,
    add_rule,
    create_owner,
    reassign_owner,
    remove_rule,
    update_owner,
)
from app.models import AlertNotice, AssignmentRule, AuditEvent, FirstTouch, Lead
from tests.helpers import valid_fields
from tests.receivers import SmtpReceiver

PEOPLE = ["li@initech.com", "ana@umbrella.com", "raj@globex.com", "kim@vandelay.com"]


@pytest.fixture
def settings(settings, smtp_receiver: SmtpReceiver):
    """Loopback receivers allowed, retries without waiting, a clock that runs round the clock (so the due
    time is the assignment time plus two hours whatever the day the test runs)."""
    settings.update(
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
        SMTP_URL=smtp_receiver.url,
        SMTP_FROM="alerts@leadsieve.test",
        DELIVERY_BACKOFF=[0, 0, 0],
        DELIVERY_TIMEOUT_SECONDS=2.0,
        PUBLIC_BASE_URL="https://leads.example.com",
        SLA_FIRST_TOUCH_HOURS=2.0,
        SLA_WORKING_DAYS=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        SLA_WORKING_HOURS="00:00-24:00",
    )
    return settings


def demo(client, email, slug="request-demo", **fields):
    response = client.post(f"/f/{slug}", json=valid_fields(slug, email=email, **fields))
    assert response.status_code == 202, response.get_json()


def owners(app, *names, **changes):
    """Create owners (name, name@sales.example) and return their ids."""
    ids = []
    with app.app_context(), session_scope() as session:
        for name in names:
            owner = create_owner(session, name=name, email=f"{name.lower()}@sales.example", actor="test")
            ids.append(owner.id)
        session.commit()
    return ids


def destination(app, kind, target, **kwargs):
    with app.app_context(), session_scope() as session:
        created = create_destination(
            session, kind=kind, target=target, actor="test", allowed_private=["127.0.0.1"], **kwargs
        )
        session.commit()
        return created.id


def lead_of(db_session, email):
    db_session.expire_all()
    return db_session.scalars(select(Lead).where(Lead.email == email)).one()


def test_new_sqls_go_round_robin_across_owners(app, client, db_session, run_worker):
    ann, bob, cy = owners(app, "Ann", "Bob", "Cy")
    for email in PEOPLE:
        demo(client, email)
        run_worker()  # one at a time, so the order is the submissions'
    assert [lead_of(db_session, e).owner_id for e in PEOPLE] == [ann, bob, cy, ann]
    lead = lead_of(db_session, PEOPLE[0])
    assert lead.stage == "SQL" and lead.sla_due_at == lead.assigned_at + timedelta(hours=2)
    audits = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.assigned")).all()
    assert len(audits) == 4 and {a.details["why"] for a in audits} == {"round-robin"}


def test_a_lead_is_assigned_once_and_only_as_an_sql(app, client, db_session, run_worker):
    ann, bob = owners(app, "Ann", "Bob")
    demo(client, "jane@acme.com", slug="whitepaper-lead-quality")
    run_worker()
    mql = lead_of(db_session, "jane@acme.com")
    assert mql.stage == "MQL" and mql.owner_id is None and mql.assigned_at is None and mql.sla_due_at is None
    demo(client, PEOPLE[0])
    run_worker()
    demo(client, PEOPLE[0], message="and again, days later in spirit")
    run_worker()
    assert lead_of(db_session, PEOPLE[0]).owner_id == ann
    assert len(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.assigned")).all()) == 1


def test_promotion_to_sql_is_assigned(app, client, db_session, run_worker):
    """An MQL whose demo request qualifies becomes an SQL and is assigned then."""
    (ann,) = owners(app, "Ann")
    demo(client, "jane@acme.com", slug="whitepaper-lead-quality")
    run_worker()
    demo(client, "jane@acme.com")
    run_worker()
    lead = lead_of(db_session, "jane@acme.com")
    assert (lead.stage, lead.owner_id) == ("SQL", ann)


def test_rules_win_over_round_robin_first_by_position(app, client, db_session, run_worker):
    ann, bea, carl, dan = owners(app, "Ann", "Bea", "Carl", "Dan")
    with app.app_context(), session_scope() as session:
        for owner_id in (bea, carl, dan):
            update_owner(session, owner_id=owner_id, actor="test", active=True, in_rotation=False)
        add_rule(session, field="country", value="Germany", owner_id=bea, actor="test")
        add_rule(session, field="company_size", value="over_5000", owner_id=carl, actor="test")
        add_rule(session, field="form", value="contact-sales", owner_id=dan, actor="test")
        session.commit()
    demo(client, PEOPLE[0], country="germany", company_size="over_5000")  # both match: the first rule wins
    demo(client, PEOPLE[1], company_size="over_5000")
    demo(client, PEOPLE[2], slug="contact-sales")
    demo(client, PEOPLE[3])
    run_worker()
    assert [lead_of(db_session, e).owner_id for e in PEOPLE] == [bea, carl, dan, ann]
    why = {
        a.subject_id: a.details["why"]
        for a in db_session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.assigned"))
    }
    assert why[lead_of(db_session, PEOPLE[0]).id].endswith("country is Germany")


def test_an_inactive_owners_rule_is_skipped_and_no_owner_still_starts_the_clock(app, client, db_session, run_worker):
    (bea,) = owners(app, "Bea")
    with app.app_context(), session_scope() as session:
        add_rule(session, field="form", value="request-demo", owner_id=bea, actor="test")
        update_owner(session, owner_id=bea, actor="test", active=False, in_rotation=True)
        session.commit()
    demo(client, PEOPLE[0])
    run_worker()
    lead = lead_of(db_session, PEOPLE[0])
    assert lead.owner_id is None and lead.sla_due_at is not None
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.assigned")).one()
    assert audit.details["why"] == "no active owner in rotation"


def test_owner_and_rule_changes_are_checked_and_audited(app, db_session):
    (ann,) = owners(app, "Ann")
    with app.app_context(), session_scope() as session:
        with pytest.raises(OwnerError, match="already exists"):
            create_owner(session, name="Ann again", email="ANN@sales.example", actor="test")
        with pytest.raises(OwnerError, match="valid e-mail"):
            create_owner(session, name="Nobody", email="not an address", actor="test")
        with pytest.raises(OwnerError, match="name"):
            create_owner(session, name="  ", email="x@sales.example", actor="test")
        with pytest.raises(OwnerError, match="no such user"):
            create_owner(session, name="Ghost", email="ghost@sales.example", user_id=999, actor="test")
        with pytest.raises(OwnerError, match="compares one of"):
            add_rule(session, field="industry", value="retail", owner_id=ann, actor="test")
        with pytest.raises(OwnerError, match="value"):
            add_rule(session, field="country", value=" ", owner_id=ann, actor="test")
        with pytest.raises(OwnerError, match="no such owner"):
            add_rule(session, field="country", value="fr", owner_id=999, actor="test")
        with pytest.raises(OwnerError, match="no such owner"):
            update_owner(session, owner_id=999, actor="test", active=False, in_rotation=False)
        with pytest.raises(OwnerError, match="no such rule"):
            remove_rule(session, rule_id=999, actor="test")
        first = add_rule(session, field="country", value="fr", owner_id=ann, actor="test")
        second = add_rule(session, field="country", value="de", owner_id=ann, actor="test")
        assert second.position > first.position
        remove_rule(session, rule_id=first.id, actor="test")
        update_owner(session, owner_id=ann, actor="test", active=True, in_rotation=True)  # no change: no audit
        session.commit()
    assert db_session.scalars(select(AssignmentRule.value)).all() == ["de"]
    actions = db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["owner.created", "assignment_rule.created", "assignment_rule.created", "assignment_rule.deleted"]


def test_the_owner_is_in_every_forwarded_payload(app, client, db_session, run_worker, http_receiver):
    (ann,) = owners(app, "Ann")
    destination(app, "webhook", http_receiver.url("/crm"))
    demo(client, PEOPLE[0])
    demo(client, "jane@acme.com", slug="whitepaper-lead-quality")
    run_worker()
    bodies = {r.json()["email"]: r.json() for r in http_receiver.requests}
    sql = bodies[PEOPLE[0]]
    assert sql["owner"] == {"name": "Ann", "email": "ann@sales.example"}
    assert sql["data"]["owner"] == sql["owner"]
    lead = lead_of(db_session, PEOPLE[0])
    assert sql["sla_due_at"] == lead.sla_due_at.replace(microsecond=0).isoformat() + "Z"
    mql = bodies["jane@acme.com"]
    assert (mql["owner"], mql["sla_due_at"]) == (None, None)


def test_the_lead_e_mail_names_the_owner_and_the_due_time(app, client, db_session, run_worker, smtp_receiver):
    owners(app, "Ann")
    destination(app, "email", "sales@example.com")
    demo(client, PEOPLE[0])
    demo(client, "jane@acme.com", slug="whitepaper-lead-quality")
    run_worker()
    due = lead_of(db_session, PEOPLE[0]).sla_due_at.replace(microsecond=0).isoformat() + "Z"
    bodies = {
        str(m.message["Subject"]): m.message.get_body(preferencelist=("plain",)).get_content()
        for m in smtp_receiver.messages
        if m.rcpt_tos == ["sales@example.com"]  # not the visitors' confirmations
    }
    [sql] = [body for subject, body in bodies.items() if "Li Wei" in subject]
    assert "Owner:" in sql and "Ann <ann@sales.example>" in sql and due in sql
    [mql] = [body for subject, body in bodies.items() if "Li Wei" not in subject]
    assert "Owner:" not in mql and "Touch by:" not in mql


def sla_events(http_receiver):
    return [r.json() for r in http_receiver.requests if r.json().get("type") == "lead.sla_breached"]


def test_a_breach_sends_exactly_one_event_to_each_alert_destination(
    app, client, db_session, run_worker, http_receiver, smtp_receiver
):
    owners(app, "Ann")
    destination(app, "webhook", http_receiver.url("/ops"), alerts=True)
    destination(app, "email", "ops@example.com", alerts=True)
    destination(app, "webhook", http_receiver.url("/not-for-alerts"))
    demo(client, PEOPLE[0])
    run_worker()
    lead = lead_of(db_session, PEOPLE[0])
    due = lead.sla_due_at
    run_alert_checks(app, now=due - timedelta(minutes=1))
    assert sla_events(http_receiver) == []
    run_alert_checks(app, now=due + timedelta(minutes=1))
    run_alert_checks(app, now=due + timedelta(hours=5))  # still untouched: no second event
    [event] = sla_events(http_receiver)
    assert event["lead_id"] == lead.id and event["owner"]["name"] == "Ann"
    assert event["admin_url"] == f"https://leads.example.com/admin/leads/{lead.id}"
    assert "SQL not touched in time: Li Wei (Initech), owner Ann" in event["alert"]["summary"]
    assert [r.path for r in http_receiver.requests if r.json().get("type") == "lead.sla_breached"] == ["/ops"]
    mails = [m for m in smtp_receiver.messages if "SQL not touched in time" in str(m.message["Subject"])]
    assert len(mails) == 1
    assert lead_of(db_session, PEOPLE[0]).sla_breached_at == due + timedelta(minutes=1)
    notices = db_session.scalars(select(AlertNotice).where(AlertNotice.event == "lead.sla_breached")).all()
    assert len(notices) == 2 and {n.status for n in notices} == {"delivered"}


def test_contacted_before_the_due_time_stops_the_clock(app, client, db_session, run_worker, http_receiver):
    (ann,) = owners(app, "Ann")
    destination(app, "webhook", http_receiver.url("/ops"), alerts=True)
    demo(client, PEOPLE[0])
    run_worker()
    lead = lead_of(db_session, PEOPLE[0])
    link = f"/feedback/{feedback_token(app.config['SECRET_KEY'], lead.id)}"
    assert client.post(link, data={"outcome": "contacted"}).status_code == 200
    run_alert_checks(app, now=lead.sla_due_at + timedelta(days=3))
    assert sla_events(http_receiver) == []
    assert lead_of(db_session, PEOPLE[0]).sla_breached_at is None
    touch = db_session.get(FirstTouch, lead.id)
    assert (touch.owner_id, touch.within_sla, touch.source) == (ann, True, "")


def test_a_lead_sales_turned_down_without_contact_is_not_chased(app, client, db_session, run_worker, http_receiver):
    owners(app, "Ann")
    destination(app, "webhook", http_receiver.url("/ops"), alerts=True)
    demo(client, PEOPLE[0])
    run_worker()
    lead = lead_of(db_session, PEOPLE[0])
    link = f"/feedback/{feedback_token(app.config['SECRET_KEY'], lead.id)}"
    assert client.post(link, data={"outcome": "not_a_fit"}).status_code == 200
    run_alert_checks(app, now=lead.sla_due_at + timedelta(hours=1))
    assert sla_events(http_receiver) == [] and db_session.get(FirstTouch, lead.id) is None


def test_no_clock_when_the_service_level_is_zero():
    level = ServiceLevel.from_config(
        {
            "SLA_FIRST_TOUCH_HOURS": 0,
            "SLA_WORKING_DAYS": ["mon"],
            "SLA_WORKING_HOURS": "09:00-17:00",
            "SLA_TIME_ZONE": "UTC",
        }
    )
    assert level.first_touch is None and level.due(datetime(2026, 12, 7, 10, 0)) is None


def test_handing_a_lead_on_keeps_its_clock(app, client, db_session, run_worker):
    ann, bob = owners(app, "Ann", "Bob")
    demo(client, PEOPLE[0])
    run_worker()
    before = lead_of(db_session, PEOPLE[0])
    with app.app_context(), session_scope() as session:
        reassign_owner(session, lead_id=before.id, owner_id=bob, actor="test")
        reassign_owner(session, lead_id=before.id, owner_id=bob, actor="test")  # no change: not audited again
        update_owner(session, owner_id=ann, actor="test", active=False, in_rotation=True)
        with pytest.raises(OwnerError, match="no such active owner"):
            reassign_owner(session, lead_id=before.id, owner_id=ann, actor="test")
        with pytest.raises(OwnerError, match="no such lead"):
            reassign_owner(session, lead_id=999, owner_id=bob, actor="test")
        session.commit()
    after = lead_of(db_session, PEOPLE[0])
    assert (after.owner_id, after.assigned_at, after.sla_due_at) == (bob, before.assigned_at, before.sla_due_at)
    assert len(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.owner_changed")).all()) == 1
