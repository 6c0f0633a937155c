"""Outages survived with real processes: Redis down during a burst, a destination down for a while, and a
counting run with a worker SIGKILLed and Redis bounced. Visitors reach the app over real HTTP; the work is
done by `python worker.py` processes (whatever worker class it uses). Every test ends by counting."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.forwarding.deliveries import replay
from app.models import Delivery, DeliveryAttempt, Submission
from tests.conftest import free_port
from tests.receivers import HttpReceiver, Reply
from tests.system.faults.conftest import add_webhook, wait_until
from tests.system.faults.test_faults import delivered_once, screened_once, statuses


@pytest.fixture
def settings(settings, private_redis):
    """This test's own Redis (it gets stopped); visitors' addresses from X-Forwarded-For (one proxy)."""
    settings.update(
        REDIS_URL=private_redis.url,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_ENABLED=False,
        TRUSTED_PROXY_COUNT=1,
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
    )
    return settings


webhook = add_webhook


def burst(live_server, count, *, start=0, slug="newsletter"):
    """`count` visitors at once, each from an address of their own; every one must be answered 202."""

    def one(i):
        return live_server.post_json(
            f"/f/{slug}", {"email": f"lead{i}@acme.com", "first_name": "Pat"}, client_ip=f"198.51.100.{i + 1}"
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(one, range(start, start + count)))
    assert [status for status, _ in answers] == [202] * count, answers
    return [body["id"] for _, body in answers]


def count(db_session, model, *where):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_redis_down_during_a_burst_everything_stored_then_screened_once(
    app, db_session, workers, live_server, private_redis
):
    private_redis.stop()
    ids = burst(live_server, 20)  # the enqueue fails fast (REDIS_TIMEOUT_SECONDS); the visitor never waits
    assert len(set(ids)) == 20
    assert statuses(db_session) == {"received": 20}

    private_redis.start()  # empty: no job survived, nothing was ever queued
    workers.start()  # its sweeper finds the 20 rows still `received`
    wait_until(
        lambda: statuses(db_session) == {"screened": 20},
        timeout=60,
        message="the sweeper did not screen every stored submission",
        logs=workers.logs,
    )
    time.sleep(2.5)  # two more sweep intervals: nothing is screened a second time
    screened_once(db_session, 20)
    assert {s.verdict for s in db_session.scalars(select(Submission))} == {"accepted"}


def attempts(db_session):
    db_session.expire_all()
    return db_session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()


# Refused twice (nobody listens), then 500 twice, then two time-outs (the receiver answers 504 after the
# sender's DELIVERY_TIMEOUT_SECONDS), then a 200.
OUTAGE = (Reply(500), Reply(500), Reply(504, delay=1.6), Reply(504, delay=1.6))


def destination_down(app, client, db_session, workers, *, outage=OUTAGE, **worker_env):
    """A webhook on a port nobody listens on; one lead submitted; wait for two refused attempts, then start a
    receiver there that answers `outage` and then 200. Returns the receiver."""
    port = free_port()
    webhook(app, f"http://127.0.0.1:{port}/hook")
    workers.start(DELIVERY_TIMEOUT_SECONDS="1", **worker_env)
    response = client.post(
        "/f/newsletter", json={"email": "pat@acme.com"}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert response.status_code == 202
    wait_until(
        lambda: len(attempts(db_session)) >= 2 or count(db_session, Delivery, Delivery.status == "dead"),
        timeout=30,
        message="no refused attempts",
        logs=workers.logs,
    )
    refused = attempts(db_session)
    assert all(not a.ok and a.status_code is None for a in refused), [(a.status_code, a.error) for a in refused]
    http_receiver = HttpReceiver(port)
    http_receiver.script(*outage)
    return http_receiver.start()


def test_destination_down_then_up_delivered_exactly_once(app, client, db_session, workers):
    http_receiver = destination_down(app, client, db_session, workers, DELIVERY_BACKOFF="1,1,1,1,1,1,1,1")
    try:
        wait_until(
            lambda: db_session.expire_all() or db_session.scalars(select(Delivery.status)).one() == "delivered",
            timeout=60,
            message="not delivered after the outage",
            logs=workers.logs,
        )
        delivery = db_session.scalars(select(Delivery)).one()
        log = [(a.ok, a.status_code) for a in attempts(db_session)]
        assert log[:2] == [(False, None), (False, None)]  # connection refused
        assert log[2:] == [(False, 500), (False, 500), (False, None), (False, None), (True, 200)], log
        assert delivery.attempts == 7
        time.sleep(2)  # a sweep or two later: still one delivery, nothing sent again
        delivered_once(db_session, http_receiver, 1)
        assert len(http_receiver.requests) == 5 and http_receiver.duplicates == []
        assert {r.key for r in http_receiver.requests} == {delivery.idempotency_key}  # every retry: the same key
    finally:
        http_receiver.stop()


def test_destination_down_longer_than_the_retries_dead_then_replay_delivers(app, client, db_session, workers):
    # Three tries: refused, refused, 500 -> dead. The outage is over after that.
    http_receiver = destination_down(app, client, db_session, workers, outage=[Reply(500)], DELIVERY_BACKOFF="1,1")
    try:
        wait_until(
            lambda: count(db_session, Delivery, Delivery.status == "dead") == 1,
            timeout=30,
            message="not dead-lettered after the retries",
            logs=workers.logs,
        )
        delivery = db_session.scalars(select(Delivery)).one()
        assert delivery.attempts == 3 and http_receiver.effective == []
        time.sleep(2)  # dead stays dead: the sweeper does not retry it
        assert count(db_session, DeliveryAttempt) == 3

        with app.app_context(), session_scope() as session:
            assert replay(session, [delivery.id], actor="test") == [delivery.id]
            session.commit()
            session.commit()
        # Nothing enqueued by hand: the worker's sweeper finds the replayed delivery due.
        wait_until(
            lambda: count(db_session, Delivery, Delivery.status == "delivered") == 1,
            timeout=30,
            message="replay did not deliver",
            logs=workers.logs,
        )
        delivered_once(db_session, http_receiver, 1)
        assert {r.key for r in http_receiver.requests} == {delivery.idempotency_key}
    finally:
        http_receiver.stop()


def test_counting_worker_killed_and_redis_bounced_nothing_lost_nothing_twice(
    app, db_session, workers, live_server, private_redis, http_receiver
):
    total = 30
    webhook(app, http_receiver.url())
    http_receiver.script(*[Reply(200, delay=0.2)] * total)  # slow enough that a worker dies mid-delivery
    first = workers.start()
    workers.start()
    ids = burst(live_server, 10)
    wait_until(lambda: http_receiver.requests, timeout=30, message="no delivery started", logs=workers.logs)
    workers.kill(first)  # SIGKILL mid-run: its current job (screening or delivery) is abandoned

    private_redis.stop()  # Redis bounced while visitors keep coming
    ids += burst(live_server, 10, start=10)
    private_redis.start()
    ids += burst(live_server, 10, start=20)
    workers.start()  # a replacement; the survivor may or may not have outlived the Redis restart
    assert len(set(ids)) == total

    wait_until(
        lambda: count(db_session, Delivery, Delivery.status == "delivered") == total,
        timeout=120,
        message="not every lead was delivered",
        logs=workers.logs,
    )
    time.sleep(2)  # let any late duplicate show itself
    assert count(db_session, Submission) == total  # N stored
    screened_once(db_session, total)  # = N screened, once each
    delivered_once(db_session, http_receiver, total)  # = N delivered, each effective once at the receiver
    assert count(db_session, Delivery) == total
