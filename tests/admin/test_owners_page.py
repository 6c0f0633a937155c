"""The Owners page: owners and assignment rules, admins only, CSRF, escaped, audited."""

from __future__ import annotations

from sqlalchemy import select

from app.models import AssignmentRule, AuditEvent, Owner
from tests.admin.accounts_support import RITA, add_user, signed_in
from tests.helpers import csrf_from


def token(client):
    return csrf_from(client.get("/admin/owners").get_data(as_text=True))


def add_owner(admin, name, email, **extra):
    return admin.post("/admin/owners", data={"csrf_token": token(admin), "name": name, "email": email, **extra})


def test_an_admin_adds_owners_and_rules_and_changes_their_state(admin, db_session):
    assert add_owner(admin, "Ann <b>Seller</b>", "ann@sales.example").status_code == 302
    html = admin.get("/admin/owners").get_data(as_text=True)
    assert "Ann &lt;b&gt;Seller&lt;/b&gt;" in html and "<b>Seller</b>" not in html
    ann = db_session.scalars(select(Owner)).one()
    assert (ann.active, ann.in_rotation, ann.user_id) == (True, True, None)

    data = {"csrf_token": token(admin), "field": "country", "value": "Germany", "owner_id": str(ann.id)}
    assert admin.post("/admin/owners/rules", data=data).status_code == 302
    assert "Country is <code>Germany</code>" in admin.get("/admin/owners").get_data(as_text=True)

    # Out of round-robin (still active), then deactivated.
    assert (
        admin.post(f"/admin/owners/{ann.id}/state", data={"csrf_token": token(admin), "active": "y"}).status_code == 302
    )
    db_session.expire_all()
    assert (db_session.get(Owner, ann.id).active, db_session.get(Owner, ann.id).in_rotation) == (True, False)
    assert admin.post(f"/admin/owners/{ann.id}/state", data={"csrf_token": token(admin)}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Owner, ann.id).active is False
    assert "inactive: skipped" in admin.get("/admin/owners").get_data(as_text=True)

    rule = db_session.scalars(select(AssignmentRule)).one()
    assert admin.post(f"/admin/owners/rules/{rule.id}/remove", data={"csrf_token": token(admin)}).status_code == 302
    assert db_session.scalars(select(AssignmentRule)).all() == []
    actions = db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith(("owner", "assignment"))] == [
        "owner.created",
        "assignment_rule.created",
        "owner.updated",
        "owner.updated",
        "assignment_rule.deleted",
    ]
    assert db_session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "owner.created")).one() == (
        "anna@example.com"
    )


def test_an_owner_can_be_linked_to_a_user(app, admin, db_session):
    rita_id = add_user(app, *RITA, role="reviewer")
    assert add_owner(admin, "Rita", "rita.sales@example.com", user_id=str(rita_id)).status_code == 302
    assert db_session.scalars(select(Owner.user_id)).one() == rita_id


def test_bad_input_is_shown_not_saved(admin, db_session):
    add_owner(admin, "Ann", "ann@sales.example")
    for data, message in [
        ({"name": "Ann twice", "email": "ANN@sales.example"}, "already exists"),
        ({"name": "Bob", "email": "not-an-address"}, "valid e-mail"),
        ({"name": "", "email": "bob@sales.example"}, "Enter the owner&#39;s name."),
        ({"name": "Bob", "email": "bob@sales.example", "user_id": "999"}, "Not a valid choice"),
    ]:
        response = add_owner(admin, **data)
        assert response.status_code == 400 and message in response.get_data(as_text=True), message
    assert db_session.scalars(select(Owner.name)).all() == ["Ann"]
    ann_id = db_session.scalars(select(Owner.id)).one()
    for data, message in [
        ({"field": "industry", "value": "retail", "owner_id": str(ann_id)}, "Not a valid choice"),
        ({"field": "country", "value": "", "owner_id": str(ann_id)}, "Enter the value to compare."),
        ({"field": "country", "value": "fr", "owner_id": "999"}, "Not a valid choice"),
    ]:
        response = admin.post("/admin/owners/rules", data={"csrf_token": token(admin), **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True), message
    assert db_session.scalars(select(AssignmentRule)).all() == []


def test_unknown_owner_or_rule_and_missing_csrf(admin):
    assert admin.post("/admin/owners/999/state", data={"csrf_token": token(admin)}).status_code == 404
    assert admin.post("/admin/owners/rules/999/remove", data={"csrf_token": token(admin)}).status_code == 404
    assert admin.post("/admin/owners", data={"name": "Ann", "email": "ann@sales.example"}).status_code == 400
    assert admin.post("/admin/owners/999/state", data={}).status_code == 400


def test_the_page_is_for_admins_only(app, client):
    assert client.get("/admin/owners").status_code == 302  # signed out: to the login page
    add_user(app, *RITA, role="reviewer")
    rita = signed_in(app, *RITA)
    assert rita.get("/admin/owners").status_code == 403
    assert "/admin/owners" not in rita.get("/admin/").get_data(as_text=True)


def test_a_lead_is_handed_to_another_owner_from_its_page(app, admin, db_session):
    from app.models import Lead

    add_owner(admin, "Ann", "ann@sales.example")
    add_owner(admin, "Bob", "bob@sales.example")
    ann, bob = db_session.scalars(select(Owner).order_by(Owner.id)).all()
    lead = Lead(email="li@initech.com", stage="SQL", owner_id=ann.id)
    db_session.add(lead)
    db_session.commit()
    page = admin.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    assert 'id="reassign"' in page and f'<option value="{ann.id}" selected>Ann</option>' in page
    url = f"/admin/leads/{lead.id}/owner"
    assert admin.post(url, data={"csrf_token": csrf_from(page), "owner_id": str(bob.id)}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).owner_id == bob.id
    # A reviewer works leads too; "nobody" unassigns.
    add_user(app, *RITA, role="reviewer")
    rita = signed_in(app, *RITA)
    rita_token = csrf_from(rita.get(f"/admin/leads/{lead.id}").get_data(as_text=True))
    assert rita.post(url, data={"csrf_token": rita_token, "owner_id": ""}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).owner_id is None
    changes = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.owner_changed")).all()
    assert [(c.actor, c.details["before"], c.details["after"]) for c in changes] == [
        ("anna@example.com", ann.id, bob.id),
        ("rita@example.com", bob.id, None),
    ]
    # An inactive owner is no choice; an unknown lead is not found; no CSRF token, no change.
    admin.post(f"/admin/owners/{ann.id}/state", data={"csrf_token": token(admin)})
    assert admin.post(url, data={"csrf_token": token(admin), "owner_id": str(ann.id)}).status_code == 400
    assert admin.post("/admin/leads/999/owner", data={"csrf_token": token(admin), "owner_id": ""}).status_code == 404
    assert admin.post(url, data={"owner_id": str(bob.id)}).status_code == 400
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).owner_id is None
