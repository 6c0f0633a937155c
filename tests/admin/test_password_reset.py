"""Password-reset links: printed by `leadsieve users reset-link`, or e-mailed from "Forgot your
password?" (the same answer whether the address has an account); good once, expiring, ending sessions."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from werkzeug.security import check_password_hash

from app.accounts.reset import RESET_SALT, password_fingerprint
from app.cli import cli
from app.db import session_scope
from app.models import User
from tests.admin.accounts_support import ANNA, add_user, audit, copy_of, login, outbox_mails, signed_in, user
from tests.helpers import csrf_from

NEW = "a new and long password"


@pytest.fixture
def anna(app):
    app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    return add_user(app, *ANNA)


def reset_link_from_cli(app, email=ANNA[0]):
    result = app.test_cli_runner().invoke(cli, ["users", "reset-link", email])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def set_new_password(client, path, password=NEW, confirm=None):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(path, data={"password": password, "confirm": confirm or password, "csrf_token": token})


def test_a_reset_link_works_once_and_ends_every_session(app, anna, db_session):
    session_before = signed_in(app, *ANNA)
    link = reset_link_from_cli(app)
    assert link.startswith(app.config["PUBLIC_BASE_URL"] + "/admin/reset/")
    path = link.removeprefix(app.config["PUBLIC_BASE_URL"])

    visitor = app.test_client()
    assert ANNA[0] in visitor.get(path).get_data(as_text=True)
    response = set_new_password(visitor, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/login")
    assert check_password_hash(user(db_session, ANNA[0]).password_hash, NEW)
    assert session_before.get("/admin/").status_code == 302  # every session ended
    assert login(app.test_client(), *ANNA).status_code == 401  # the old password is gone
    assert signed_in(app, ANNA[0], NEW).get("/admin/").status_code == 200

    used = app.test_client().get(path)
    assert used.status_code == 400 and "expired or was already used" in used.get_data(as_text=True)
    again = app.test_client()
    assert again.post(path, data={"password": "x" * 20, "confirm": "x" * 20}).status_code == 400
    assert check_password_hash(user(db_session, ANNA[0]).password_hash, NEW)
    (event,) = [e for e in audit(db_session, "user.password_reset") if e.details.get("via") == "reset link"]
    assert event.actor == ANNA[0] and event.details["sessions_ended"] == 1
    assert audit(db_session, "user.reset_link_issued")[0].actor == "cli"


def test_a_reset_link_expires(app, anna):
    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600

    with app.app_context(), session_scope() as session:
        fingerprint = password_fingerprint(session.get(User, anna).password_hash)
    signed = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=RESET_SALT, signer=TwoHoursAgo)
    old = signed.dumps({"u": anna, "p": fingerprint})
    response = app.test_client().get(f"/admin/reset/{old}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    app.config["PASSWORD_RESET_LINK_MAX_AGE"] = 3 * 3600
    assert app.test_client().get(f"/admin/reset/{old}").status_code == 200  # within a longer limit


def test_a_forged_or_tampered_link_is_refused(app, anna):
    path = reset_link_from_cli(app).removeprefix(app.config["PUBLIC_BASE_URL"])
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert app.test_client().get(tampered).status_code == 400
    foreign = URLSafeTimedSerializer("another key", salt=RESET_SALT).dumps({"u": anna, "p": "x"})
    assert app.test_client().get(f"/admin/reset/{foreign}").status_code == 400


def test_a_new_password_must_be_long_and_typed_twice(app, anna, db_session):
    path = reset_link_from_cli(app).removeprefix(app.config["PUBLIC_BASE_URL"])
    client = app.test_client()
    short = set_new_password(client, path, "elevenchars")
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    differ = set_new_password(client, path, NEW, NEW + "!")
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    assert check_password_hash(user(db_session, ANNA[0]).password_hash, ANNA[1])  # unchanged, link still good
    assert set_new_password(client, path).status_code == 302


def test_a_deactivated_user_gets_no_link(app, anna):
    app.test_cli_runner().invoke(cli, ["create-admin", "--email", "omar@example.com", "--password", "x" * 16])
    app.test_cli_runner().invoke(cli, ["users", "deactivate", ANNA[0]])
    result = app.test_cli_runner().invoke(cli, ["users", "reset-link", ANNA[0]])
    assert result.exit_code == 1 and "deactivated" in result.output


def forgot(client, email):
    """POST the forgot-password form; the response, closed (so what runs after the answer has run)."""
    token = csrf_from(client.get("/admin/forgot").get_data(as_text=True))
    with client.post("/admin/forgot", data={"email": email, "csrf_token": token}) as response:
        response.get_data()
    return response


def test_forgot_password_answers_the_same_for_unknown_addresses(app, anna):
    client = app.test_client()
    known = forgot(client, "Anna@Example.com")
    unknown = forgot(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert "If that address has an active account" in known.get_data(as_text=True)
    assert {k: v for k, v in known.headers if k not in ("Date", "X-Request-ID")} == {
        k: v for k, v in unknown.headers if k not in ("Date", "X-Request-ID")
    }
    (mail,) = outbox_mails(app)
    assert "To: anna@example.com" in mail
    link = re.search(r"^(http\S+/admin/reset/\S+)$", mail, re.M).group(1)
    path = link.removeprefix(app.config["PUBLIC_BASE_URL"])
    copy = copy_of(app, signed_in(app, *ANNA))
    assert set_new_password(app.test_client(), path).status_code == 302
    assert copy.get("/admin/").status_code == 302
    assert signed_in(app, ANNA[0], NEW).get("/admin/").status_code == 200


def test_forgot_password_looks_the_address_up_only_after_answering(app, anna, db_session):
    """Nothing about the address is done before the answer is sent, so its timing cannot tell either."""
    client = app.test_client()
    token = csrf_from(client.get("/admin/forgot").get_data(as_text=True))
    response = client.post("/admin/forgot", data={"email": ANNA[0], "csrf_token": token})
    assert response.status_code == 200
    assert audit(db_session, "user.reset_link_sent") == [] and not outbox_mails(app)
    response.close()  # the server closes the answer once it is sent
    assert len(audit(db_session, "user.reset_link_sent")) == 1 and len(outbox_mails(app)) == 1


def test_forgot_password_mails_one_account_at_most_every_few_minutes(app, anna):
    client = app.test_client()
    answers = {forgot(client, ANNA[0]).get_data(as_text=True) for _ in range(3)}
    assert len(answers) == 1
    assert len(outbox_mails(app)) == 1


def test_forgot_password_link_ignores_a_forged_host_header(app, anna):
    client = app.test_client()
    token = csrf_from(client.get("/admin/forgot", base_url="http://evil.example").get_data(as_text=True))
    with client.post(
        "/admin/forgot", data={"email": ANNA[0], "csrf_token": token}, base_url="http://evil.example"
    ) as response:
        assert response.status_code == 200
    (mail,) = outbox_mails(app)
    assert "evil.example" not in mail and app.config["PUBLIC_BASE_URL"] + "/admin/reset/" in mail


def test_reset_email_over_real_smtp(app, anna):
    from tests.conftest import free_port
    from tests.receivers import SmtpReceiver

    receiver = SmtpReceiver(free_port()).start()
    try:
        app.config["SMTP_URL"] = receiver.url
        forgot(app.test_client(), ANNA[0])
        (message,) = receiver.messages
        assert message.rcpt_tos == [ANNA[0]]
        assert message.message["Subject"] == "Reset your leadsieve password"
        assert "/admin/reset/" in message.message.get_content()
    finally:
        receiver.stop()


def test_sign_in_pages_are_reachable_signed_out(client):
    for url in ("/admin/login", "/admin/forgot", "/admin/reset/not-a-token"):
        assert client.get(url).status_code in (200, 400), url
    assert client.get("/admin/login/code").status_code == 302  # no password checked yet: back to sign-in
    assert "Forgot your password?" in client.get("/admin/login").get_data(as_text=True)
