"""The admin side of alerts: the navigation badge, the alerts page, and the destination checkboxes."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.alerts import run_alert_checks
from app.models import AlertNotice, Destination, utcnow
from app.statuses import Verdict
from tests.alerts.conftest import add_dead_delivery, add_destination, add_submission
from tests.helpers import csrf_from


def badge(html: str) -> str | None:
    found = re.search(r'<span class="pill v-rejected" id="open-alerts"[^>]*>(\d+)</span>', html)
    return found.group(1) if found else None


def test_the_navigation_shows_the_open_alert_count_while_any_is_open(app, admin, db_session):
    assert badge(admin.get("/admin/").get_data(as_text=True)) is None
    crm = add_destination(db_session, target="https://crm.example.com/hook", name="CRM")
    add_dead_delivery(db_session, crm)
    held = add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    run_alert_checks(app)
    for page in ("/admin/", "/admin/leads", "/admin/destinations", "/admin/alerts"):
        assert badge(admin.get(page).get_data(as_text=True)) == "2", page
    held.verdict = Verdict.ACCEPTED
    db_session.commit()
    run_alert_checks(app)
    assert badge(admin.get("/admin/").get_data(as_text=True)) == "1"


def test_the_alerts_page_needs_a_sign_in(client):
    response = client.get("/admin/alerts")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_the_alerts_page_lists_open_and_resolved_alerts_with_where_they_went(app, admin, db_session, http_receiver):
    add_destination(db_session, target=http_receiver.url("/alerts"), alerts=True, name="Ops hook")
    held = add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    crm = add_destination(db_session, target="https://crm.example.com/hook", name="CRM <b>")
    add_dead_delivery(db_session, crm)
    run_alert_checks(app)
    held.verdict = Verdict.ACCEPTED
    db_session.commit()
    run_alert_checks(app)

    html = admin.get("/admin/alerts").get_data(as_text=True)
    current, _, resolved = html.partition("Resolved in the last 7 days")
    assert "ran out of retries" in current and "CRM &lt;b&gt;" in current  # escaped
    assert "waits for review" in resolved
    assert "Ops hook: opened delivered" in current
    assert "Ops hook: resolved delivered" in resolved


def test_destinations_can_be_marked_for_alerts_and_a_daily_digest(app, admin, db_session):
    page = admin.get("/admin/destinations").get_data(as_text=True)
    assert 'name="alerts"' in page and 'name="alert_digest"' in page
    response = admin.post(
        "/admin/destinations",
        data={
            "csrf_token": csrf_from(page),
            "name": "Ops mail",
            "kind": "email",
            "target": "ops@example.com",
            "alerts": "y",
            "alert_digest": "y",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    row = db_session.scalars(select(Destination).where(Destination.name == "Ops mail")).one()
    assert (row.alerts, row.alert_digest) == (True, True)

    edit = admin.get(f"/admin/destinations/{row.id}/edit").get_data(as_text=True)
    assert re.search(r'id="alert_digest"[^>]*checked|checked[^>]*id="alert_digest"', edit)
    response = admin.post(
        f"/admin/destinations/{row.id}/edit",
        data={"csrf_token": csrf_from(edit), "name": "Ops mail", "target": "ops@example.com", "alerts": "y"},
    )
    assert response.status_code == 302
    db_session.refresh(row)
    assert (row.alerts, row.alert_digest, row.active) == (True, False, False)  # alerts only: no leads


def test_a_crm_destination_or_a_digest_without_alerts_is_refused(admin, db_session):
    page = admin.get("/admin/destinations").get_data(as_text=True)
    cases = [
        ({"kind": "hubspot", "target": "http://127.0.0.1/hubspot", "alerts": "y"}, "cannot receive alerts"),
        ({"kind": "webhook", "target": "http://127.0.0.1/hook", "alert_digest": "y"}, "tick “send alerts here”"),
    ]
    for fields, message in cases:
        response = admin.post("/admin/destinations", data={"csrf_token": csrf_from(page), "name": "X", **fields})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert db_session.scalars(select(Destination)).all() == []


def test_removing_a_used_destination_stops_its_alerts(app, admin, db_session):
    hook = add_destination(db_session, target="https://hooks.example.com/x", alerts=True)
    add_dead_delivery(db_session, hook)
    page = admin.get("/admin/destinations").get_data(as_text=True)
    admin.post(f"/admin/destinations/{hook.id}/remove", data={"csrf_token": csrf_from(page)})
    db_session.refresh(hook)
    assert (hook.active, hook.alerts) == (False, False)


def test_removing_an_unused_alerts_destination_deletes_it_with_its_notices(app, admin, db_session, http_receiver):
    hook = add_destination(db_session, target=http_receiver.url("/alerts"), alerts=True)
    add_submission(db_session, verdict=Verdict.HELD, received_at=utcnow() - timedelta(hours=30))
    run_alert_checks(app)
    assert db_session.scalars(select(AlertNotice)).all() != []
    page = admin.get("/admin/destinations").get_data(as_text=True)
    admin.post(f"/admin/destinations/{hook.id}/remove", data={"csrf_token": csrf_from(page)})
    db_session.expire_all()
    assert db_session.scalars(select(Destination)).all() == []
    assert db_session.scalars(select(AlertNotice)).all() == []
