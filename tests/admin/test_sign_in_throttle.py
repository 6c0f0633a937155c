"""Nobody can lock an admin out: failures slow down the (account, client) pair that made them, the
per-IP limit stays, and the real user hears about the failures on their next sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.throttle import ThrottleRules, client_key, wait_seconds
from app.models import SignInFailures
from tests.admin.accounts_support import ANNA, add_user, login, user
from tests.helpers import csrf_from

STRANGER, ANNAS_LAPTOP = "198.51.100.66", "203.0.113.5"


@pytest.fixture
def anna(app):
    """Anna's account; a generous per-IP limit so that only the per-account-and-client waits show."""
    app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    return add_user(app, *ANNA)


def test_a_strangers_failures_do_not_stop_the_real_user(app, anna):
    stranger = app.test_client()
    statuses = [login(stranger, ANNA[0], f"guess {i}", STRANGER).status_code for i in range(12)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    # Even the right password from the stranger's address waits now...
    assert login(stranger, *ANNA, ip=STRANGER).status_code == 429
    # ...but Anna, from her own address, signs in at once and is told.
    laptop = app.test_client()
    response = login(laptop, *ANNA, ip=ANNAS_LAPTOP)
    assert response.status_code == 302
    page = laptop.get(response.headers["Location"]).get_data(as_text=True)
    assert "5 failed sign-in attempts since your last visit" in page
    # Told once: the count starts again after a sign-in.
    again = app.test_client()
    response = login(again, *ANNA, ip=ANNAS_LAPTOP)
    assert "failed sign-in" not in again.get(response.headers["Location"]).get_data(as_text=True)


def test_waits_grow_and_are_answered_with_retry_after(app, anna, db_session):
    client = app.test_client()
    for i in range(5):
        assert login(client, ANNA[0], f"guess {i}", STRANGER).status_code == 401
    first = login(client, ANNA[0], "guess 5", STRANGER)
    assert first.status_code == 429 and 0 < int(first.headers["Retry-After"]) <= 15
    assert "Too many sign-in attempts" in first.get_data(as_text=True)
    token = csrf_from(client.get("/admin/login", environ_base={"REMOTE_ADDR": STRANGER}).get_data(as_text=True))
    as_json = client.post(
        "/admin/login",
        data={"email": ANNA[0], "password": "x", "csrf_token": token},
        headers={"Accept": "application/json"},
        environ_base={"REMOTE_ADDR": STRANGER},
    )
    assert as_json.status_code == 429 and "Too many sign-in attempts" in as_json.get_json()["message"]
    assert int(as_json.headers["Retry-After"]) > 0

    _wait_over(db_session)
    assert login(client, ANNA[0], "guess 6", STRANGER).status_code == 401  # one more try after the wait
    second = login(client, ANNA[0], "guess 7", STRANGER)
    assert second.status_code == 429 and 15 < int(second.headers["Retry-After"]) <= 30  # doubled
    _wait_over(db_session)
    assert login(client, *ANNA, ip=STRANGER).status_code == 302  # the right password, once the wait is over
    assert db_session.scalars(select(SignInFailures)).all() == []  # and that client's slate is clean


def _wait_over(db_session):
    """Move every recorded failure back past the longest wait (instead of sleeping)."""
    db_session.expire_all()
    for row in db_session.scalars(select(SignInFailures)):
        row.last_failure_at -= timedelta(seconds=901)
    db_session.commit()


def test_unknown_accounts_are_throttled_the_same_way(app, anna):
    client = app.test_client()
    known = [login(client, ANNA[0], f"guess {i}", STRANGER).status_code for i in range(7)]
    unknown = [login(client, "nobody@example.com", f"guess {i}", STRANGER).status_code for i in range(7)]
    assert known == unknown == [401] * 5 + [429] * 2


def test_one_ipv6_subscriber_counts_as_one_client(app, anna):
    client = app.test_client()
    for i in range(5):
        assert login(client, ANNA[0], "nope", f"2001:db8:1:2::{i + 1:x}").status_code == 401
    assert login(client, ANNA[0], "nope", "2001:db8:1:2:ffff::1").status_code == 429  # same /64
    assert login(client, *ANNA, ip="2001:db8:1:3::1").status_code == 302  # another /64


def test_the_per_ip_limit_still_holds_across_accounts(app, anna):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    client = app.test_client()
    assert [login(client, f"guess{i}@example.com", "x", STRANGER).status_code for i in range(3)] == [401] * 3
    assert login(client, *ANNA, ip=STRANGER).status_code == 429


def test_failed_count_reaches_the_user_row(app, anna, db_session):
    for i in range(3):
        login(app.test_client(), ANNA[0], "nope", f"192.0.2.{i + 1}")
    assert user(db_session, ANNA[0]).failed_sign_ins == 3


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 0), (4, 0), (5, 15), (6, 30), (7, 60), (10, 480), (11, 900), (60, 900), (10**6, 900)],
)
def test_wait_seconds(failures, expected):
    assert wait_seconds(failures, ThrottleRules(free=5, base=15, cap=900)) == expected


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:a:b:c:d:e:f", "2001:db8:a:b::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        (None, "unknown"),
        ("not an address", "not an address"),
    ],
)
def test_client_key(address, key):
    assert client_key(address) == key
