"""Observability: health and readiness probes, Prometheus metrics, request ids and JSON logs.

`init_app()` binds it all to one app: the probe/metrics blueprint (no login, no
CSRF, no rate limit) and the request-id hooks. Logging itself is configured per
process (`configure_logging`), by the CLI, the worker, or `create_app` when
LOG_FORMAT=json (gunicorn).
"""

from __future__ import annotations

from flask import Flask

from app.observability.context import install_request_id
from app.observability.logs import configure_logging


def init_app(app: Flask) -> None:
    """Register the probes, /metrics and the request-id hooks on `app`."""
    from app.extensions import csrf, limiter
    from app.observability.health import bp

    install_request_id(app)
    csrf.exempt(bp)
    limiter.exempt(bp)
    app.register_blueprint(bp)
    if app.config.get("LOG_FORMAT") == "json" and not app.config.get("TESTING"):
        # gunicorn imports `app:create_app()` without our CLI: switch its root logger to JSON lines.
        configure_logging(level=app.config.get("LOG_LEVEL", "INFO"), fmt="json")


__all__ = ["init_app", "configure_logging"]
