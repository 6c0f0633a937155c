"""User management: the users page (admins only, CSRF), the `users` commands, the last admin kept, audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.cli import cli
from app.models import AuditEvent, User
from tests.admin.accounts_support import ANNA, RITA, add_user, audit, login, outbox_mails, post_form, signed_in, user
from tests.helpers import csrf_from


@pytest.fixture
def anna(app):
    add_user(app, *ANNA)
    return signed_in(app, *ANNA)


@pytest.fixture
def rita_id(app):
    return add_user(app, *RITA, role="reviewer")


def test_users_page_lists_users(anna, rita_id):
    html = anna.get("/admin/users").get_data(as_text=True)
    assert "anna@example.com" in html and "rita@example.com" in html
    assert "never" in html  # rita never signed in
    assert re.search(r"anna@example\.com.*?\(you\)", html, re.S)
    assert "1 live session" in html


def test_users_page_is_for_admins_only(app, anna, rita_id, db_session):
    rita = signed_in(app, *RITA)
    assert rita.get("/admin/users").status_code == 403
    token = csrf_from(rita.get("/admin/").get_data(as_text=True))
    anna_id = user(db_session, ANNA[0]).id
    for url, data in [
        ("/admin/users", {"email": "new@example.com", "role": "admin"}),
        (f"/admin/users/{rita_id}/role", {"role": "admin"}),
        (f"/admin/users/{anna_id}/active", {"active": "0"}),
        (f"/admin/users/{anna_id}/sign-out", {}),
        (f"/admin/users/{anna_id}/two-factor-off", {}),
    ]:
        assert rita.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert user(db_session, RITA[0]).role == "reviewer"
    assert anna.get("/admin/").status_code == 200  # still signed in
    assert app.test_client().get("/admin/users").status_code == 302  # and nobody signed out sees it


def test_users_page_changes_need_a_csrf_token(anna, rita_id, db_session):
    before = db_session.scalar(select(func.count()).select_from(AuditEvent))
    for url, data in [
        ("/admin/users", {"email": "new@example.com", "role": "admin"}),
        (f"/admin/users/{rita_id}/role", {"role": "admin"}),
        (f"/admin/users/{rita_id}/active", {"active": "0"}),
        (f"/admin/users/{rita_id}/sign-out", {}),
    ]:
        assert anna.post(url, data=data).status_code == 400, url
    assert anna.post(f"/admin/users/{rita_id}/role", data={"role": "admin", "csrf_token": "forged"}).status_code == 400
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == before
    rita = user(db_session, RITA[0])
    assert rita.role == "reviewer" and rita.active


def test_admin_changes_a_role_deactivates_reactivates_and_signs_out(app, anna, rita_id, db_session):
    rita = signed_in(app, *RITA)
    assert post_form(anna, f"/admin/users/{rita_id}/role", {"role": "admin"}, "/admin/users").status_code == 302
    assert user(db_session, RITA[0]).role == "admin"
    assert rita.get("/admin/").status_code == 302  # the new role applies from a new sign-in
    rita = signed_in(app, *RITA)
    assert rita.get("/admin/destinations").status_code == 200

    assert post_form(anna, f"/admin/users/{rita_id}/sign-out", page="/admin/users").status_code == 302
    assert rita.get("/admin/").status_code == 302
    rita = signed_in(app, *RITA)

    assert post_form(anna, f"/admin/users/{rita_id}/active", {"active": "0"}, "/admin/users").status_code == 302
    assert rita.get("/admin/").status_code == 302
    assert login(app.test_client(), *RITA).status_code == 401  # deactivated: refused like a wrong password
    assert post_form(anna, f"/admin/users/{rita_id}/active", {"active": "1"}, "/admin/users").status_code == 302
    assert signed_in(app, *RITA).get("/admin/").status_code == 200

    events = {e.action: e for e in db_session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "user"))}
    for action in ("user.role_changed", "user.signed_out_everywhere", "user.deactivated", "user.reactivated"):
        assert events[action].actor == ANNA[0], action
        assert events[action].subject_id == rita_id and events[action].details["email"] == RITA[0]
    assert events["user.role_changed"].details["before"] == "reviewer"


def test_the_last_active_admin_cannot_demote_or_deactivate_themselves(anna, db_session):
    anna_id = user(db_session, ANNA[0]).id
    for url, data in [
        (f"/admin/users/{anna_id}/role", {"role": "reviewer"}),
        (f"/admin/users/{anna_id}/active", {"active": "0"}),
    ]:
        response = post_form(anna, url, data, "/admin/users")
        assert response.status_code == 302
        page = anna.get(response.headers["Location"]).get_data(as_text=True)
        assert "last active admin" in page
    me = user(db_session, ANNA[0])
    assert me.role == "admin" and me.active
    assert audit(db_session, "user.role_changed") == [] and audit(db_session, "user.deactivated") == []


def test_an_admin_may_step_down_when_another_admin_remains(app, anna, db_session):
    add_user(app, "omar@example.com", "second admin password", role="admin")
    anna_id = user(db_session, ANNA[0]).id
    assert post_form(anna, f"/admin/users/{anna_id}/role", {"role": "reviewer"}, "/admin/users").status_code == 302
    assert user(db_session, ANNA[0]).role == "reviewer"
    assert anna.get("/admin/").status_code == 302  # her own session ended with the change


def test_create_user_sends_a_link_to_set_their_password(app, anna, db_session):
    token = csrf_from(anna.get("/admin/users").get_data(as_text=True))
    with anna.post(
        "/admin/users", data={"email": " New.Person@Example.com ", "role": "reviewer", "csrf_token": token}
    ) as r:
        html = r.get_data(as_text=True)
        assert r.status_code == 200
    created = user(db_session, "new.person@example.com")
    assert created.role == "reviewer" and created.active
    link = re.search(r'id="invite-link"[^>]*>([^<]+)<', html).group(1)
    assert link.startswith(app.config["PUBLIC_BASE_URL"] + "/admin/reset/")
    (mail,) = outbox_mails(app)
    assert link in mail and "To: new.person@example.com" in mail
    event = audit(db_session, "user.created")[-1]
    assert event.actor == ANNA[0] and event.details == {"email": "new.person@example.com", "role": "reviewer"}
    again = post_form(anna, "/admin/users", {"email": "new.person@example.com", "role": "admin"}, "/admin/users")
    assert again.status_code == 400 and "already has an account" in again.get_data(as_text=True)
    bad = post_form(anna, "/admin/users", {"email": "not-an-address", "role": "admin"}, "/admin/users")
    assert bad.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(User)) == 2


def test_users_commands(app, rita_id, db_session):
    add_user(app, *ANNA)
    runner = app.test_cli_runner()
    rita = signed_in(app, *RITA)

    listing = runner.invoke(cli, ["users", "list"])
    assert listing.exit_code == 0, listing.output
    assert (
        "anna@example.com\tadmin\tactive" in listing.output and "rita@example.com\treviewer\tactive" in listing.output
    )
    assert "last sign-in never" in listing.output.splitlines()[0]  # anna never signed in; rita just did

    result = runner.invoke(cli, ["users", "set-role", "Rita@Example.com", "admin"])
    assert result.exit_code == 0 and "rita@example.com is now admin" in result.output
    assert rita.get("/admin/").status_code == 302
    rita = signed_in(app, *RITA)

    result = runner.invoke(cli, ["users", "sign-out", RITA[0]])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    assert rita.get("/admin/").status_code == 302
    rita = signed_in(app, *RITA)

    result = runner.invoke(cli, ["users", "deactivate", RITA[0]])
    assert result.exit_code == 0 and "deactivated" in result.output
    assert rita.get("/admin/").status_code == 302
    assert not user(db_session, RITA[0]).active
    result = runner.invoke(cli, ["users", "activate", RITA[0]])
    assert result.exit_code == 0 and user(db_session, RITA[0]).active

    # Two admins now; demoting both would leave none.
    assert runner.invoke(cli, ["users", "set-role", ANNA[0], "reviewer"]).exit_code == 0
    last = runner.invoke(cli, ["users", "deactivate", RITA[0]])
    assert last.exit_code == 1 and "last active admin" in last.output
    last = runner.invoke(cli, ["create-admin", "--email", RITA[0], "--role", "reviewer"])
    assert last.exit_code == 1 and "last active admin" in last.output
    assert user(db_session, RITA[0]).role == "admin"
    unknown = runner.invoke(cli, ["users", "sign-out", "nobody@example.com"])
    assert unknown.exit_code == 1 and "no user" in unknown.output

    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(AuditEvent.actor == "cli"))]
    assert {"user.role_changed", "user.signed_out_everywhere", "user.deactivated", "user.reactivated"} <= set(actions)


def test_create_admin_refuses_a_short_password(app, db_session):
    result = app.test_cli_runner().invoke(cli, ["create-admin", "--email", ANNA[0], "--password", "short"])
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    assert db_session.scalar(select(func.count()).select_from(User)) == 0
