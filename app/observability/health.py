"""`/healthz`, `/readyz` and `/metrics`: no login, no CSRF, no rate limit (see `__init__.py`)."""

from __future__ import annotations

import hmac
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client.exposition import choose_encoder
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.db import engine
from app.observability.metrics import make_registry
from app.runtime.queues import QUEUE_NAMES, worker_census
from app.screening_context import dns_health

bp = Blueprint("observability", __name__)

NO_WORKERS = "No worker is running: submissions are stored, and screened and forwarded once one starts."

# One spare thread bounds how long a hung database can hold /readyz.
_probe_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="leadsieve-readyz")


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness: the process answers. Touches no dependency, so a database outage never restarts it."""
    return {"status": "ok"}


def _probe_redis(timeout: float) -> str | None:
    client = current_app.extensions.get("leadsieve.probe_redis")
    if client is None:
        client = Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=timeout, socket_connect_timeout=timeout)
        current_app.extensions["leadsieve.probe_redis"] = client
    try:
        client.ping()
    except RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _live_workers() -> int | None:
    """Workers that heartbeat within a minute (None if Redis stopped answering meanwhile)."""
    try:
        return worker_census(current_app.extensions["leadsieve.redis"]).live
    except RedisError:
        return None


def _select_one(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _probe_database(timeout: float) -> str | None:
    future = _probe_pool.submit(_select_one, engine())
    try:
        future.result(timeout=timeout)
    except FutureTimeout:
        return f"no answer within {timeout:g} s"
    except SQLAlchemyError as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@bp.get("/readyz")
def readyz() -> Any:
    """Readiness: the database answers `SELECT 1` and Redis answers PING; 503 naming what failed."""
    timeout = current_app.config["READY_TIMEOUT_SECONDS"]
    problems = {"database": _probe_database(timeout), "redis": _probe_redis(timeout)}
    checks = {name: ("ok" if error is None else "failed") for name, error in problems.items()}
    errors = {name: error for name, error in problems.items() if error is not None}
    body: dict[str, Any] = {"status": "ok" if not errors else "unavailable", "checks": checks}
    # DNS is reported, not required: capture works without it (screening holds and retries later).
    dns = dns_health.read(current_app.extensions["leadsieve.redis"]) if not errors.get("redis") else None
    body["dns"] = "unknown" if dns is None else "ok" if dns.ok else "unavailable"
    # Workers are reported, not required either: a submission is stored without them and screened later.
    body["workers"] = _live_workers() if not errors.get("redis") else None
    notices = []
    if dns is not None and not dns.ok:
        notices.append(f"{dns_health.NOTICE} ({dns.why})")
    if body["workers"] == 0:
        notices.append(NO_WORKERS)
    if notices:
        body["notices"] = notices
    if errors:
        body["errors"] = errors
    return jsonify(body), 200 if not errors else 503


@bp.get("/metrics")
def metrics() -> Any:
    """Prometheus exposition; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response(
                "metrics need a bearer token\n",
                401,
                {"WWW-Authenticate": 'Bearer realm="metrics"'},
                mimetype="text/plain",
            )
    registry = current_app.extensions.get("leadsieve.metrics_registry")
    if registry is None:
        registry = make_registry(
            engine=engine(), redis=current_app.extensions["leadsieve.redis"], queue_names=QUEUE_NAMES
        )
        current_app.extensions["leadsieve.metrics_registry"] = registry
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encoder(registry), 200, {"Content-Type": content_type, "Cache-Control": "no-store"})
