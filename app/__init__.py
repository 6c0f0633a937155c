"""The Flask application factory. It assembles; it never migrates, connects or prompts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import load_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from `config` (a full settings mapping) or from the environment."""
    settings = dict(config) if config is not None else load_config()
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)  # every setting, the RATELIMIT_* ones included, comes from config.py

    from app import db, errors, i18n, observability, security
    from app.admin import bp as admin_bp
    from app.capture import bp as capture_bp
    from app.capture import form_cache, gate
    from app.consent.routes import bp as consent_bp
    from app.embed import bp as embed_bp
    from app.extensions import csrf, limiter
    from app.leads.routes import bp as feedback_bp
    from app.runtime import queues

    db.init_app(app)
    queues.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    form_cache.init_app(app)  # public forms cached per process, checked against a version in Redis
    gate.init_app(app, limiter)  # a form post's rate limit and that version, in one round trip
    errors.register(app)
    i18n.init_app(app)  # visitor-facing languages (Flask-Babel); the admin stays English
    security.init_app(app)
    observability.init_app(app)  # /healthz, /readyz, /metrics, request ids

    # Public forms are embedded cross-site: the signed form token replaces the session CSRF token.
    csrf.exempt(capture_bp)
    # Feedback links are authorised by their signed token, not by a session.
    csrf.exempt(feedback_bp)
    # So are the visitor's consent links (confirm, unsubscribe): they come from an e-mail.
    csrf.exempt(consent_bp)
    app.register_blueprint(capture_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(consent_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(admin_bp)

    return app
