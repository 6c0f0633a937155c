"""Optional two-factor sign-in: set up from "My account", a code after the password, recovery codes."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.admin.accounts_support import ANNA, add_user, audit, login, post_form, signed_in, user
from tests.helpers import csrf_from


@pytest.fixture
def anna(app):
    app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    add_user(app, *ANNA)
    return signed_in(app, *ANNA)


def current_code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def turn_on(client) -> tuple[str, list[str]]:
    """Set up two-factor from the account page; the secret and the recovery codes shown."""
    assert post_form(client, "/admin/account/two-factor", page="/admin/account").status_code == 302
    page = client.get("/admin/account").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert re.search(r"otpauth://totp/leadsieve:\w+%40example\.com\?secret=" + secret + "&amp;issuer=leadsieve", page)
    wrong = post_form(client, "/admin/account/two-factor/confirm", {"code": "000000"}, "/admin/account")
    assert wrong.status_code == 400 and "does not match" in wrong.get_data(as_text=True)
    done = post_form(client, "/admin/account/two-factor/confirm", {"code": current_code(secret)}, "/admin/account")
    assert done.status_code == 200
    codes = re.search(r'id="recovery-codes"[^>]*>([^<]+)<', done.get_data(as_text=True)).group(1).split()
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def second_step(client, code):
    token = csrf_from(client.get("/admin/login/code").get_data(as_text=True))
    return client.post("/admin/login/code", data={"code": code, "csrf_token": token})


def test_sign_in_asks_for_a_code_after_the_password(app, anna, db_session):
    secret, _ = turn_on(anna)
    me = user(db_session, ANNA[0])
    assert me.totp_enabled and me.totp_secret == secret
    assert all(code not in str(me.recovery_codes) for code in _)  # only digests are kept

    client = app.test_client()
    first = login(client, *ANNA, next="/admin/leads")
    assert first.status_code == 302 and first.headers["Location"].endswith("/admin/login/code")
    assert client.get("/admin/").status_code == 302  # the password alone opens nothing
    assert second_step(client, "123456").status_code == 401
    ok = second_step(client, current_code(secret, 1))
    assert ok.status_code == 302 and ok.headers["Location"] == "/admin/leads"
    assert client.get("/admin/").status_code == 200

    # A code is good once: the same one again, in a new sign-in, is refused.
    replay = app.test_client()
    login(replay, *ANNA)
    assert second_step(replay, current_code(secret, 1)).status_code == 401
    assert user(db_session, ANNA[0]).failed_sign_ins == 1  # the replay; the first wrong code was told at sign-in


def test_recovery_codes_work_once(app, anna, db_session):
    _, codes = turn_on(anna)
    client = app.test_client()
    login(client, *ANNA)
    assert second_step(client, codes[0].upper().replace("-", " ")).status_code == 302  # typed loosely
    again = app.test_client()
    login(again, *ANNA)
    assert second_step(again, codes[0]).status_code == 401
    assert second_step(again, codes[1]).status_code == 302
    assert len(user(db_session, ANNA[0]).recovery_codes) == 8
    assert [e.actor for e in audit(db_session, "user.recovery_code_used")] == [ANNA[0], ANNA[0]]


def test_wrong_codes_are_throttled_like_passwords(app, anna):
    secret, _ = turn_on(anna)
    client = app.test_client()
    login(client, *ANNA)
    valid = {current_code(secret, step) for step in (-1, 0, 1, 2)}
    wrong = [code for code in (f"{i:06d}" for i in range(10)) if code not in valid][:6]
    statuses = [second_step(client, code).status_code for code in wrong]
    assert statuses == [401] * 5 + [429]
    assert second_step(client, current_code(secret)).status_code == 429


def test_turning_it_off_takes_a_code(app, anna, db_session):
    secret, _ = turn_on(anna)
    refused = post_form(anna, "/admin/account/two-factor/off", {"code": "000000"}, "/admin/account")
    assert refused.status_code == 400 and user(db_session, ANNA[0]).totp_enabled
    done = post_form(anna, "/admin/account/two-factor/off", {"code": current_code(secret, 1)}, "/admin/account")
    assert done.status_code == 302
    me = user(db_session, ANNA[0])
    assert not me.totp_enabled and me.totp_secret is None and me.recovery_codes == []
    assert signed_in(app, *ANNA).get("/admin/").status_code == 200  # the password alone again


def test_an_admin_turns_it_off_for_someone_who_lost_their_phone(app, anna, db_session):
    add_user(app, "rita@example.com", "reviewer password", role="reviewer")
    rita = signed_in(app, "rita@example.com", "reviewer password")
    turn_on(rita)
    rita_id = user(db_session, "rita@example.com").id
    assert post_form(anna, f"/admin/users/{rita_id}/two-factor-off", page="/admin/users").status_code == 302
    assert not user(db_session, "rita@example.com").totp_enabled
    assert signed_in(app, "rita@example.com", "reviewer password").get("/admin/").status_code == 200
    assert audit(db_session, "user.two_factor_disabled")[-1].actor == ANNA[0]


def test_the_code_step_expires(app, anna):
    turn_on(anna)
    client = app.test_client()
    login(client, *ANNA)
    with client.session_transaction() as flask_session:
        flask_session["pending_2fa"] = {**flask_session["pending_2fa"], "at": int(time.time()) - 301}
    assert client.get("/admin/login/code").status_code == 302
