"""Probes, Prometheus metrics, request ids and JSON logs, on the real app, Redis and database."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq.job import Job

from app import create_app
from app.db import session_scope
from app.models import Destination, Submission
from app.observability import configure_logging
from app.observability.context import sane_request_id
from app.observability.health import NO_WORKERS
from app.observability.logs import JsonFormatter
from app.observability.metrics import SCREENING_KEY, attempt_outcome, observe_screening, screening_histogram
from config import ConfigError, load_config
from tests.conftest import make_settings
from tests.helpers import valid_fields
from tests.receivers import HttpReceiver


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Route every log line of this test through leadsieve's JSON handler into a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(level="INFO", fmt="json", stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def no_redis(tmp_path) -> str:
    """A unix socket nobody listens on."""
    return f"unix://{tmp_path / 'no-redis.sock'}"


def log_entries(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# --- probes ---------------------------------------------------------------------------------------


def test_healthz_answers_without_login_and_echoes_a_request_id(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert len(response.headers["X-Request-ID"]) == 32


def test_readyz_ok_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok"},
        "dns": "unknown",
        "workers": 0,  # reported, not required: capture stores submissions without a worker
        "notices": [NO_WORKERS],
    }


def test_readyz_503_names_redis_when_redis_is_down(tmp_path, database_url):
    settings = make_settings(tmp_path, database_url=database_url, redis_url=no_redis(tmp_path))
    app = create_app(settings)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "redis": "failed"}
    assert "ConnectionError" in body["errors"]["redis"]
    app.extensions["leadsieve.engine"].dispose()


def test_readyz_503_names_the_database_when_it_cannot_be_opened(tmp_path, redis_server):
    (tmp_path / "a-directory").mkdir()
    settings = make_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'a-directory'}", redis_url=redis_server.url)
    app = create_app(settings)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "failed", "redis": "ok"}
    assert "OperationalError" in response.get_json()["errors"]["database"]
    app.extensions["leadsieve.engine"].dispose()


def test_probes_answer_every_time_and_leave_the_capture_limit_alone(app, client):
    """No limit applies to the probes (their blueprint is exempt); hammering them costs visitors nothing.

    (Flask-Limiter keeps default limits on its module-level object, so a test must not set them.)"""
    app.config["RATELIMIT_CAPTURE"] = "2 per minute"
    assert [client.get(path).status_code for path in ["/healthz", "/readyz", "/metrics"] * 10] == [200] * 30
    assert client.post("/f/newsletter", json=valid_fields("newsletter")).status_code == 202


# --- request ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("req-123", True),
        ("3f2a9c1e-4b5d-4e6f-8a7b-9c0d1e2f3a4b", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("", False),
        ("has space", False),
        ("line\nbreak", False),
        ("<script>", False),
        ("-leading-dash", False),
    ],
)
def test_incoming_request_ids_are_honoured_only_when_sane(client, given, kept):
    assert (sane_request_id(given) == given) is kept
    if "\n" in given:
        return  # Werkzeug's test client refuses newlines in headers itself
    echoed = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert (echoed == given) is kept
    if not kept:
        assert len(echoed) == 32 and echoed != given


def test_request_id_is_stored_and_follows_the_submission_into_its_jobs(app, client, db_session, run_worker, json_log):
    receiver = HttpReceiver().start()
    try:
        app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
        with app.app_context(), session_scope() as session:
            session.add(Destination(name="crm", kind="webhook", target=receiver.url(), secret="s"))
            session.commit()
        response = client.post(
            "/f/request-demo", json=valid_fields("request-demo"), headers={"X-Request-ID": "req-demo-42"}
        )
        assert response.status_code == 202
        assert response.headers["X-Request-ID"] == "req-demo-42"
        submission = db_session.get(Submission, response.get_json()["id"])
        assert submission.request_id == "req-demo-42"
        job = Job.fetch(f"screen-{submission.id}", connection=Redis.from_url(app.config["REDIS_URL"]))
        assert job.meta == {"request_id": "req-demo-42"}
        run_worker()
    finally:
        receiver.stop()
    assert len(receiver.requests) == 1
    entries = log_entries(json_log)
    screened = [e for e in entries if e["logger"] == "app.jobs" and e["message"].startswith("screened")]
    delivered = [e for e in entries if e["logger"] == "app.jobs" and e["message"].startswith("delivery")]
    assert screened and delivered, entries
    assert {e["request_id"] for e in screened + delivered} == {"req-demo-42"}
    assert screened[0]["verdict"] == "accepted" and screened[0]["submission_id"] == submission.id
    assert delivered[0]["status"] == "delivered"


def test_jobs_enqueued_by_the_sweeper_adopt_the_stored_request_id(app, client, run_worker, json_log):
    response = client.post("/f/newsletter", json=valid_fields("newsletter"), headers={"X-Request-ID": "req-swept"})
    submission_id = response.get_json()["id"]
    redis = Redis.from_url(app.config["REDIS_URL"])
    redis.flushdb()  # as if Redis lost the job: only the sweeper can bring it back
    with app.app_context(), session_scope() as session:
        from app.runtime.sweeper import sweep

        assert sweep(session, older_than_seconds=0) == 1
    run_worker()
    expected = f"screened submission {submission_id}: accepted"
    screened = [e for e in log_entries(json_log) if e["message"] == expected]
    assert [e["request_id"] for e in screened] == ["req-swept"]


# --- logs -----------------------------------------------------------------------------------------


def test_json_formatter_writes_one_object_per_line_with_extras():
    record = logging.LogRecord("leadsieve.test", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.request_id = "req-1"
    record.submission_id = 7
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["message"], entry["level"], entry["logger"]) == ("hello world", "WARNING", "leadsieve.test")
    assert entry["request_id"] == "req-1" and entry["submission_id"] == 7
    assert entry["time"].endswith("Z")


def test_web_log_lines_carry_the_request_id(app, client, json_log):
    @app.get("/_log_probe")
    def _log_probe():
        logging.getLogger("leadsieve.probe").info("inside a request", extra={"answer": 42})
        return "ok"

    client.get("/_log_probe", headers={"X-Request-ID": "req-web"})
    [entry] = [e for e in log_entries(json_log) if e["logger"] == "leadsieve.probe"]
    assert entry["request_id"] == "req-web" and entry["answer"] == 42


def test_log_format_setting():
    base = {"LEADSIEVE_ENV": "testing"}
    assert load_config(base)["LOG_FORMAT"] == "text"
    assert load_config({**base, "LOG_FORMAT": "JSON"})["LOG_FORMAT"] == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_config({**base, "LOG_FORMAT": "xml"})
    production = load_config(
        {
            "LEADSIEVE_ENV": "production",
            "SECRET_KEY": "x" * 40,
            "REDIS_URL": "redis://r",
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
        }
    )
    assert production["LOG_FORMAT"] == "json"


# --- metrics --------------------------------------------------------------------------------------


def test_metrics_count_submissions_deliveries_queues_and_screening_time(app, client, run_worker):
    receiver = HttpReceiver().start()
    try:
        app.config["ALLOWED_PRIVATE_DESTINATIONS"] = ["127.0.0.1"]
        app.config["DELIVERY_BACKOFF"] = []  # one failure is final: a dead letter
        with app.app_context(), session_scope() as session:
            session.add(Destination(name="crm", kind="webhook", target=receiver.url(), secret="s", stages=["SQL"]))
            session.commit()
        receiver.script(500)
        for slug in ("request-demo", "contact-sales", "newsletter"):
            assert client.post(f"/f/{slug}", json=valid_fields(slug)).status_code == 202
        before = samples(client.get("/metrics").get_data(as_text=True))
        assert before[("leadsieve_queue_depth", (("queue", "screening"),))] == 1  # the newsletter
        assert before[("leadsieve_queue_depth", (("queue", "screening-sales"),))] == 2  # demo, contact sales
        assert (
            before[("leadsieve_submissions", (("form", "newsletter"), ("status", "received"), ("verdict", "none")))]
            == 1
        )
        run_worker()
    finally:
        receiver.stop()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    after = samples(response.get_data(as_text=True))
    for slug in ("request-demo", "contact-sales", "newsletter"):
        labels = (("form", slug), ("status", "screened"), ("verdict", "accepted"))
        assert after[("leadsieve_submissions", labels)] == 1
    assert after[("leadsieve_queue_depth", (("queue", "screening"),))] == 0
    assert after[("leadsieve_queue_depth", (("queue", "screening-sales"),))] == 0
    assert after[("leadsieve_deliveries", (("status", "dead"),))] == 1
    assert after[("leadsieve_deliveries", (("status", "delivered"),))] == 1
    assert after[("leadsieve_dead_letters", ())] == 1
    assert after[("leadsieve_delivery_attempts_total", (("outcome", "http_5xx"),))] == 1
    assert after[("leadsieve_delivery_attempts_total", (("outcome", "ok"),))] == 1
    assert after[("leadsieve_screening_duration_seconds_count", ())] == 3
    assert after[("leadsieve_screening_duration_seconds_bucket", (("le", "+Inf"),))] == 3
    assert after[("leadsieve_screening_duration_seconds_sum", ())] > 0
    assert after[("leadsieve_held_submissions", ())] == 0
    assert after[("leadsieve_metrics_source_up", (("source", "database"),))] == 1
    assert after[("leadsieve_metrics_source_up", (("source", "redis"),))] == 1


def test_held_queue_size_and_age(app, client, db_session):
    from datetime import timedelta

    from app.models import utcnow

    response = client.post("/f/newsletter", json=valid_fields("newsletter"))
    submission = db_session.get(Submission, response.get_json()["id"])
    submission.status, submission.verdict = "screened", "held"
    submission.received_at = utcnow() - timedelta(hours=2)
    db_session.commit()
    after = samples(client.get("/metrics").get_data(as_text=True))
    assert after[("leadsieve_held_submissions", ())] == 1
    assert 7100 < after[("leadsieve_held_oldest_age_seconds", ())] < 7300


def test_screening_histogram_is_shared_through_redis(app):
    redis = Redis.from_url(app.config["REDIS_URL"])
    for seconds in (0.003, 0.2, 0.2, 30.0):  # as if from four different worker processes
        observe_screening(redis, seconds)
    buckets, total = screening_histogram(redis)
    cumulative = dict(buckets)
    assert cumulative["0.005"] == 1 and cumulative["0.25"] == 3 and cumulative["10.0"] == 3
    assert cumulative["+Inf"] == 4 and total == pytest.approx(30.403)
    assert redis.exists(SCREENING_KEY)


def test_observe_screening_never_fails_when_redis_is_down(tmp_path):
    observe_screening(Redis.from_url(f"unix://{tmp_path / 'none.sock'}", socket_connect_timeout=0.2), 0.1)


@pytest.mark.parametrize(
    ("ok", "code", "outcome"),
    [
        (True, 200, "ok"),
        (False, 404, "http_4xx"),
        (False, 429, "http_4xx"),
        (False, 503, "http_5xx"),
        (False, 302, "http_other"),
        (False, None, "error"),
    ],
)
def test_attempt_outcomes(ok, code, outcome):
    assert attempt_outcome(ok, code) == outcome


def test_metrics_token_when_set(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-scrape"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert response.status_code == 200 and b"leadsieve_submissions" in response.data


def test_metrics_still_answer_when_redis_is_down(tmp_path, database_url):
    settings = make_settings(tmp_path, database_url=database_url, redis_url=no_redis(tmp_path))
    app = create_app(settings)
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    after = samples(response.get_data(as_text=True))
    assert after[("leadsieve_metrics_source_up", (("source", "redis"),))] == 0
    assert after[("leadsieve_metrics_source_up", (("source", "database"),))] == 1
    app.extensions["leadsieve.engine"].dispose()
