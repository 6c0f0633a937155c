"""A worker process through what its host throws at it: Redis going away mid-job and coming back, and a
SIGKILL that must take its children with it. Real `python worker.py` processes, a real Redis the test stops."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from sqlalchemy import select

from app.models import Delivery
from tests.receivers import Reply
from tests.system.faults.conftest import add_webhook, descendants, wait_until
from tests.system.faults.test_faults import delivered_once, screened_once, statuses, submit


@pytest.fixture
def settings(settings, private_redis):
    """This test's own Redis, so it can be stopped and started again."""
    settings.update(
        REDIS_URL=private_redis.url,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_ENABLED=False,
        ALLOWED_PRIVATE_DESTINATIONS=["127.0.0.1"],
    )
    return settings


def running(pid: int) -> bool:
    """Still running (a zombie waiting for its reaper has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def registered_workers(url: str) -> int:
    """How many workers RQ lists in this Redis (what `rq info` and the metrics see)."""
    client = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return client.scard("rq:workers")
    finally:
        client.close()


def test_worker_rides_out_a_redis_outage_mid_job_then_works_on(
    app, client, db_session, workers, private_redis, http_receiver
):
    add_webhook(app, http_receiver.url())
    http_receiver.script(Reply(200, delay=1.5))  # Redis goes away while the first delivery is being sent
    worker = workers.start()
    submit(client, "pat@acme.com")
    wait_until(lambda: http_receiver.requests, timeout=30, message="no delivery started", logs=workers.logs)

    private_redis.stop()
    try:
        # The horse finishes its delivery without Redis (its result cannot be written) and exits.
        wait_until(
            lambda: delivery_statuses(db_session) == ["delivered"] and not descendants(worker.pid),
            timeout=30,
            message="the delivery under way did not finish",
            logs=workers.logs,
        )
        assert worker.poll() is None, workers.logs()  # and the worker waits for Redis
        wait_until(
            lambda: "Redis unavailable" in workers.logs(), timeout=30, message="outage not logged", logs=workers.logs
        )
        assert worker.poll() is None, workers.logs()
    finally:
        private_redis.start()  # empty, as after a restart without persistence

    # Back: it registers again (its state is visible in Redis) and takes new work.
    wait_until(lambda: registered_workers(private_redis.url) == 1, timeout=60, message="not back", logs=workers.logs)
    submit(client, "li@acme.com", ip="198.51.100.8")
    wait_until(
        lambda: statuses(db_session) == {"screened": 2} and delivery_statuses(db_session) == ["delivered"] * 2,
        timeout=60,
        message="work after the outage was not done",
        logs=workers.logs,
    )
    screened_once(db_session, 2)
    delivered_once(db_session, http_receiver, 2)
    assert worker.poll() is None, workers.logs()
    logs = workers.logs(tail=None)  # counted over the whole log, not its tail
    assert "quitting" not in logs, logs
    assert logs.count("Redis unavailable") == 1, logs  # once per change of state, not once per retry
    assert logs.count("Redis is back") == 1, logs

    # Where people look: /readyz counts the live worker again, and the metrics say it rode out one outage.
    assert client.get("/readyz").get_json()["workers"] == 1
    metrics = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
        for sample in family.samples
    }
    assert metrics[("leadsieve_worker_redis_outages", ())] == 1
    assert sum(value for (name, _), value in metrics.items() if name == "leadsieve_workers") == 1


def delivery_statuses(db_session) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(select(Delivery.status).order_by(Delivery.id)))


def test_a_worker_waiting_for_redis_stops_at_once_when_asked(workers, private_redis):
    worker = workers.start()
    wait_until(lambda: registered_workers(private_redis.url) == 1, timeout=30, message="never up", logs=workers.logs)
    private_redis.stop()
    try:
        wait_until(
            lambda: "Redis unavailable" in workers.logs(), timeout=30, message="outage not seen", logs=workers.logs
        )
        worker.terminate()  # SIGTERM, as systemd or Kubernetes would send
        wait_until(lambda: worker.poll() is not None, timeout=10, message="still waiting", logs=workers.logs)
        assert worker.returncode == 0, workers.logs()
    finally:
        private_redis.start()


def test_sigkill_of_a_worker_takes_its_children_with_it(app, client, db_session, workers, http_receiver):
    add_webhook(app, http_receiver.url())
    http_receiver.script(Reply(200, delay=2.0))  # a work horse is busy when its parent dies
    worker = workers.start()
    submit(client, "pat@acme.com")
    wait_until(lambda: http_receiver.requests, timeout=30, message="no delivery started", logs=workers.logs)
    children = descendants(worker.pid)
    assert children, "a busy worker has a work horse"

    os.kill(worker.pid, signal.SIGKILL)  # the parent alone, as the OOM killer or `kill -9` would
    worker.wait(10)
    wait_until(
        lambda: not any(running(pid) for pid in children),
        timeout=10,
        message=f"children outlived their worker: {[pid for pid in children if running(pid)]}",
        logs=workers.logs,
    )
