"""Sessions end when they should: logout, a new password, a new role, deactivation, time-outs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.cli import cli
from tests.admin.accounts_support import ANNA, RITA, add_user, audit, copy_of, post_form, sessions_of, signed_in, user


@pytest.fixture
def anna(app):
    """Anna, an admin, signed in."""
    add_user(app, *ANNA)
    return signed_in(app, *ANNA)


def test_a_cookie_copied_before_logout_opens_nothing(app, anna, db_session):
    copy = copy_of(app, anna)
    assert copy.get("/admin/").status_code == 200
    assert post_form(anna, "/admin/logout").status_code == 302
    assert anna.get("/admin/").status_code == 302
    refused = copy.get("/admin/")
    assert refused.status_code == 302 and "/admin/login" in refused.headers["Location"]
    assert copy.get("/admin/destinations").status_code == 302
    (row,) = sessions_of(db_session, user(db_session, ANNA[0]).id)
    assert row.revoked_at is not None


def test_a_new_password_from_the_command_line_ends_old_sessions(app, anna):
    copy = copy_of(app, anna)
    assert anna.get("/admin/destinations").status_code == 200
    result = app.test_cli_runner().invoke(
        cli, ["create-admin", "--email", ANNA[0], "--password", "a brand new password"]
    )
    assert result.exit_code == 0, result.output
    assert "their sessions ended" in result.output
    for client in (anna, copy):
        response = client.get("/admin/destinations")
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert signed_in(app, ANNA[0], "a brand new password").get("/admin/destinations").status_code == 200


def test_create_admin_with_a_role_changes_the_role_and_ends_sessions(app, db_session):
    add_user(app, *ANNA)
    add_user(app, *RITA, role="admin")
    rita = signed_in(app, *RITA)
    assert rita.get("/admin/destinations").status_code == 200
    result = app.test_cli_runner().invoke(cli, ["create-admin", "--email", RITA[0], "--role", "reviewer"])
    assert result.exit_code == 0, result.output
    assert "Changed the role of rita@example.com to reviewer" in result.output
    assert "Reset password" not in result.output  # the password stays as it was
    assert user(db_session, RITA[0]).role == "reviewer"
    assert rita.get("/admin/").status_code == 302  # signed out at once
    again = signed_in(app, *RITA)  # the same password still works
    assert again.get("/admin/destinations").status_code == 403
    (event,) = audit(db_session, "user.role_changed")
    assert event.actor == "cli" and event.details["before"] == "admin" and event.details["after"] == "reviewer"
    assert event.details["email"] == RITA[0] and event.details["sessions_ended"] == 1


def test_a_deactivated_users_session_ends(app, anna, db_session):
    add_user(app, *RITA, role="reviewer")
    rita = signed_in(app, *RITA)
    assert rita.get("/admin/").status_code == 200
    rita_id = user(db_session, RITA[0]).id
    response = post_form(anna, f"/admin/users/{rita_id}/active", {"active": "0"}, page="/admin/users")
    assert response.status_code == 302
    assert rita.get("/admin/").status_code == 302
    assert not user(db_session, RITA[0]).active
    assert all(row.revoked_at is not None for row in sessions_of(db_session, rita_id))


def _age(db_session, user_id, **moved):
    """Move a user's session times back (instead of waiting)."""
    for row in sessions_of(db_session, user_id):
        for column, delta in moved.items():
            setattr(row, column, getattr(row, column) - delta)
    db_session.commit()


def test_an_idle_session_ends(app, db_session):
    app.config["ADMIN_SESSION_IDLE_MINUTES"] = 5
    add_user(app, *ANNA)
    anna = signed_in(app, *ANNA)
    anna_id = user(db_session, ANNA[0]).id
    _age(db_session, anna_id, last_seen_at=timedelta(minutes=4))
    assert anna.get("/admin/").status_code == 200  # used within the time-out: still on, and seen now
    _age(db_session, anna_id, last_seen_at=timedelta(minutes=4))
    assert anna.get("/admin/").status_code == 200  # 4 minutes after the last use, not after sign-in
    _age(db_session, anna_id, last_seen_at=timedelta(minutes=6))
    ended = anna.get("/admin/")
    assert ended.status_code == 302 and "/admin/login" in ended.headers["Location"]
    page = anna.get(ended.headers["Location"]).get_data(as_text=True)
    assert "signed out after 5 minutes without activity" in page
    assert anna.get("/admin/").status_code == 302


def test_a_session_ends_at_its_time_limit_however_busy(app, db_session):
    app.config["ADMIN_SESSION_MAX_HOURS"] = 2
    add_user(app, *ANNA)
    anna = signed_in(app, *ANNA)
    _age(db_session, user(db_session, ANNA[0]).id, created_at=timedelta(hours=2, minutes=1))
    response = anna.get("/admin/")
    assert response.status_code == 302
    assert "time limit" in anna.get(response.headers["Location"]).get_data(as_text=True)


def test_activity_is_recorded_at_most_once_a_minute(app, anna, db_session):
    anna_id = user(db_session, ANNA[0]).id
    (row,) = sessions_of(db_session, anna_id)
    first_seen = row.last_seen_at
    for _ in range(3):
        assert anna.get("/admin/").status_code == 200
    (row,) = sessions_of(db_session, anna_id)
    assert row.last_seen_at == first_seen  # no write per request
    _age(db_session, anna_id, last_seen_at=timedelta(seconds=90))
    assert anna.get("/admin/").status_code == 200
    (row,) = sessions_of(db_session, anna_id)
    assert row.last_seen_at > first_seen - timedelta(seconds=1)


def test_the_session_cookie_expires_with_the_longest_session(app):
    assert app.permanent_session_lifetime == timedelta(hours=app.config["ADMIN_SESSION_MAX_HOURS"]) < timedelta(days=8)


def test_signing_in_again_gives_a_new_session_and_keeps_the_other_browser(app, anna, db_session):
    other = signed_in(app, *ANNA)
    assert post_form(other, "/admin/logout").status_code == 302
    assert anna.get("/admin/").status_code == 200  # logging out one browser leaves the other signed in
    assert len(sessions_of(db_session, user(db_session, ANNA[0]).id)) == 2
