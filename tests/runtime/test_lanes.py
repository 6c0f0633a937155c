"""Lanes: a demo request never waits behind a flood of downloads, and deliveries go out first."""

from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.models import Delivery, Destination, Submission
from app.runtime.queues import DELIVERY, QUEUE_NAMES, SALES_SCREENING, SCREENING, is_sales_request
from tests.helpers import valid_fields


def test_sales_kinds_take_the_sales_lane():
    assert is_sales_request("demo") and is_sales_request("contact_sales")
    assert not any(is_sales_request(kind) for kind in ("download", "webinar", "newsletter", "", None, "nope"))
    assert QUEUE_NAMES == (DELIVERY, SALES_SCREENING, SCREENING)  # the order every worker serves them in


def test_a_demo_request_is_screened_and_delivered_before_a_backlog_of_downloads(app, client, db_session, http_receiver):
    app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
    db_session.add(Destination(name="sales", kind="webhook", target=http_receiver.url(), secret="s", stages=["SQL"]))
    db_session.commit()
    downloads = 30
    for n in range(downloads):
        fields = valid_fields("whitepaper-lead-quality", email=f"reader{n}@acme.com")
        visitor = {"REMOTE_ADDR": f"127.0.1.{n + 1}"}  # one visitor each: no rate limit or burst in the way
        assert client.post("/f/whitepaper-lead-quality", json=fields, environ_base=visitor).status_code == 202
    demo = valid_fields("request-demo", consent=True)
    assert client.post("/f/request-demo", json=demo, environ_base={"REMOTE_ADDR": "127.0.2.1"}).status_code == 202

    # A worker as worker.py builds it, stopped after four jobs: the demo's screening and its delivery
    # must be among the very first, however long the download backlog.
    connection = Redis.from_url(app.config["REDIS_URL"])
    worker = SimpleWorker([Queue(name, connection=connection) for name in QUEUE_NAMES], connection=connection)
    with app.app_context():
        worker.work(burst=True, max_jobs=4)

    db_session.expire_all()
    request = db_session.scalars(select(Submission).where(Submission.email == demo["email"])).one()
    assert request.status == "screened"
    assert db_session.scalars(select(Delivery.status).where(Delivery.submission_id == request.id)).all() == [
        "delivered"
    ]
    screened_downloads = db_session.scalars(
        select(Submission.id).where(Submission.email.like("reader%"), Submission.status == "screened")
    ).all()
    assert len(screened_downloads) <= 2 < downloads  # the backlog waited, not the sales request
    assert [r.json()["email"] for r in http_receiver.requests] == [demo["email"]]
