"""Every leadsieve setting, read from the environment, with its documented default.

`load_config()` picks the class named by LEADSIEVE_ENV and returns a plain dict
that `create_app()` hands to Flask. Development defaults are convenient
(SQLite, an embedded Redis, a secret generated once under `instance/`);
`ProductionConfig` refuses them and says what to set instead.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent


class ConfigError(RuntimeError):
    """A setting is missing or unsafe for the chosen environment."""


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _list(environ: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in (environ.get(name) or "").split(",") if item.strip()]


def _int_list(environ: Mapping[str, str], name: str, default: list[int]) -> list[int]:
    items = _list(environ, name)
    try:
        return [int(item) for item in items] if items else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be comma-separated integers, got {environ.get(name)!r}") from exc


def _json(environ: Mapping[str, str], name: str, default: Any) -> Any:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be JSON: {exc}") from exc


def instance_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where local state lives: SQLite file, dev secret, embedded Redis socket."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("LEADSIEVE_INSTANCE") or PROJECT_ROOT / "instance").resolve()


def embedded_redis_url(environ: Mapping[str, str] | None = None) -> str:
    """The unix socket of the Redis server `leadsieve run` starts when REDIS_URL is unset."""
    return f"unix://{instance_dir(environ) / 'redis.sock'}"


def dev_secret_key(directory: Path) -> str:
    """Generate the development secret once and keep it, so sessions survive restarts."""
    path = directory / "secret_key"
    if path.exists():
        return path.read_text().strip()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class Config:
    """Development defaults: nothing to install or configure."""

    ENV_NAME = "development"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Read every setting; the table in README.md lists the same names."""
        environ = os.environ if environ is None else environ
        instance = instance_dir(environ)
        redis_url = environ.get("REDIS_URL") or ""
        settings: dict[str, Any] = {
            "LEADSIEVE_ENV": cls.ENV_NAME,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": environ.get("SECRET_KEY") or "",
            # Former SECRET_KEYs, comma-separated, oldest first: still accepted for sessions, signed form
            # tokens and feedback links (never used to sign), so rotating SECRET_KEY breaks nothing issued.
            "SECRET_KEY_FALLBACKS": _list(environ, "SECRET_KEY_FALLBACKS"),
            "DATABASE_URL": environ.get("DATABASE_URL") or f"sqlite:///{instance / 'leadsieve.db'}",
            # SQLite only: how long a connection waits for another writer before "database is locked".
            "SQLITE_BUSY_TIMEOUT_SECONDS": float(environ.get("SQLITE_BUSY_TIMEOUT_SECONDS") or 30),
            "REDIS_URL": redis_url or embedded_redis_url(environ),
            "REDIS_EMBEDDED": not redis_url,
            "PUBLIC_BASE_URL": (environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
            # Bodies larger than this are refused with 413 before parsing.
            "MAX_CONTENT_LENGTH": _int(environ, "MAX_BODY_BYTES", 64 * 1024),
            # Per client IP on POST /f/<slug>; Flask-Limiter syntax.
            "RATELIMIT_CAPTURE": environ.get("RATELIMIT_CAPTURE") or "20 per minute;300 per hour",
            # Admin sign-in attempts, per client IP and per account.
            "RATELIMIT_LOGIN": environ.get("RATELIMIT_LOGIN") or "10 per minute;50 per hour",
            "RATELIMIT_ENABLED": _bool(environ, "RATELIMIT_ENABLED", True),
            # How long a signed form token stays valid (seconds).
            "FORM_TOKEN_MAX_AGE": _int(environ, "FORM_TOKEN_MAX_AGE", 7 * 24 * 3600),
            # Tokens printed into a pasted embed snippet (refreshed by embed.js when it runs).
            "STATIC_TOKEN_MAX_AGE": _int(environ, "STATIC_TOKEN_MAX_AGE", 400 * 24 * 3600),
            # Submissions still `received` after this many seconds are re-enqueued by the sweeper.
            "SWEEP_AFTER_SECONDS": _int(environ, "SWEEP_AFTER_SECONDS", 120),
            "SWEEP_INTERVAL_SECONDS": _int(environ, "SWEEP_INTERVAL_SECONDS", 60),
            # Longest a job may run; RQ stops it after that. A job still "started" longer than this
            # belongs to a worker that died (e.g. SIGKILL), so the sweeper enqueues the work again.
            "JOB_TIMEOUT_SECONDS": _int(environ, "JOB_TIMEOUT_SECONDS", 120),
            # Seconds the web process waits for Redis before giving up on an enqueue.
            "REDIS_TIMEOUT_SECONDS": float(environ.get("REDIS_TIMEOUT_SECONDS") or 2.0),
            # Lead scoring: MQL -> SQL hand-off threshold, and JSON overrides of the point tables
            # (see screening/scoring.py, e.g. {"actions": {"webinar": 20}, "risks": {"role.account": -5}}).
            "SCORE_SQL_THRESHOLD": _int(environ, "SCORE_SQL_THRESHOLD", 50),
            "SCORING_RULES": _json(environ, "SCORING_RULES", {}),
            # Screening (see README "Screening"). Nameservers as host[:port], comma-separated; empty = system's.
            "DNS_NAMESERVERS": _list(environ, "DNS_NAMESERVERS"),
            # A domain that surely receives mail: NXDOMAIN / no-mail answers count only while it resolves.
            "DNS_CANARY_DOMAIN": (environ.get("DNS_CANARY_DOMAIN", "gmail.com") or "").strip(),
            # Held only because DNS did not answer: screened again after this long, at most this often.
            "DNS_RETRY_AFTER_SECONDS": _int(environ, "DNS_RETRY_AFTER_SECONDS", 900),
            "DNS_RETRY_LIMIT": _int(environ, "DNS_RETRY_LIMIT", 3),
            "DNS_ENABLED": _bool(environ, "DNS_ENABLED", True),
            # Seconds one DNS query may take, and all look-ups of one screening together.
            "DNS_TIMEOUT_SECONDS": float(environ.get("DNS_TIMEOUT_SECONDS") or 2.0),
            "DNS_BUDGET_SECONDS": float(environ.get("DNS_BUDGET_SECONDS") or 4.0),
            # DNS blocklist zones asked about the submitter's IP, comma-separated; off when empty.
            "DNSBL_ZONES": _list(environ, "DNSBL_ZONES"),
            # Verdict policy overrides as JSON, e.g. {"actions": {"student": "mark"}, "hold_at": 60}.
            "SCREENING_POLICY": _json(environ, "SCREENING_POLICY", {}),
            # Velocity: more than N submissions from one IP / one e-mail within the window is a burst.
            "SCREENING_VELOCITY_WINDOW_SECONDS": _int(environ, "SCREENING_VELOCITY_WINDOW_SECONDS", 600),
            "SCREENING_IP_BURST": _int(environ, "SCREENING_IP_BURST", 10),
            "SCREENING_EMAIL_BURST": _int(environ, "SCREENING_EMAIL_BURST", 5),
            # How long a worker reuses the admin lists before reading them again (0: every job).
            "SCREENING_LISTS_TTL_SECONDS": float(environ.get("SCREENING_LISTS_TTL_SECONDS") or 5.0),
            # Delivery retries: seconds to wait before each retry (1 min -> 12 h); attempts = len + 1.
            "DELIVERY_BACKOFF": _int_list(environ, "DELIVERY_BACKOFF", [60, 300, 1800, 7200, 21600, 43200]),
            "DELIVERY_TIMEOUT_SECONDS": float(environ.get("DELIVERY_TIMEOUT_SECONDS") or 10.0),
            # Hosts/CIDRs destinations may use although private (SSRF guard), comma-separated.
            "ALLOWED_PRIVATE_DESTINATIONS": _list(environ, "ALLOWED_PRIVATE_DESTINATIONS"),
            # Unset: lead e-mails are written as .eml files to instance/outbox/ (nothing is sent);
            # production refuses that default (see ProductionConfig).
            "SMTP_URL": environ.get("SMTP_URL") or (instance / "outbox").as_uri(),
            "SMTP_FROM": environ.get("SMTP_FROM") or "leadsieve@localhost",
            # How long a sales feedback link in a forwarded lead stays valid (seconds).
            "FEEDBACK_LINK_MAX_AGE": _int(environ, "FEEDBACK_LINK_MAX_AGE", 180 * 24 * 3600),
            # How many reverse proxies in front of the web process to trust for X-Forwarded-For/Proto/Host.
            "TRUSTED_PROXY_COUNT": _int(environ, "TRUSTED_PROXY_COUNT", 0),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": _bool(environ, "SESSION_COOKIE_SECURE", False),
            "LOG_LEVEL": environ.get("LOG_LEVEL") or "INFO",
            # Observability (README "Observability"): log lines as text or one JSON object per line.
            "LOG_FORMAT": (environ.get("LOG_FORMAT") or "text").strip().lower(),
            # When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`.
            "METRICS_TOKEN": environ.get("METRICS_TOKEN") or "",
            # How long /readyz waits for the database and for Redis (seconds each).
            "READY_TIMEOUT_SECONDS": float(environ.get("READY_TIMEOUT_SECONDS") or 1.0),
            # Privacy (README "Privacy"): purge rejected submissions older than N days (0 = keep forever).
            "RETENTION_REJECTED_DAYS": _int(environ, "RETENTION_REJECTED_DAYS", 0),
            # Store client IPs truncated to /24 (IPv4) or /48 (IPv6).
            "IP_TRUNCATE": _bool(environ, "IP_TRUNCATE", False),
        }
        slowest = max(settings["DELIVERY_TIMEOUT_SECONDS"], settings["DNS_BUDGET_SECONDS"])
        if settings["JOB_TIMEOUT_SECONDS"] <= slowest:
            raise ConfigError(f"JOB_TIMEOUT_SECONDS ({settings['JOB_TIMEOUT_SECONDS']}) must be longer than "
                              f"DELIVERY_TIMEOUT_SECONDS and DNS_BUDGET_SECONDS ({slowest:g})")
        if not settings["SECRET_KEY"]:
            settings["SECRET_KEY"] = dev_secret_key(instance)
        if settings["LOG_FORMAT"] not in {"text", "json"}:
            raise ConfigError(f"LOG_FORMAT must be text or json, got {settings['LOG_FORMAT']!r}")
        return settings


class TestConfig(Config):
    """For the test suite: the fixtures pass DATABASE_URL and REDIS_URL explicitly."""

    ENV_NAME = "testing"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Like development, but never write a secret file; tests set what they need."""
        environ = dict(os.environ if environ is None else environ)
        environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
        settings = super().from_env(environ)
        settings["TESTING"] = True
        return settings


class ProductionConfig(Config):
    """Refuses every development default loudly."""

    ENV_NAME = "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Validate before reading, so no dev secret is ever generated in production."""
        environ = os.environ if environ is None else environ
        problems = []
        if len(environ.get("SECRET_KEY", "")) < 32:
            problems.append("SECRET_KEY: set a random value of at least 32 characters "
                            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        database_url = environ.get("DATABASE_URL", "")
        if not database_url or database_url.startswith("sqlite"):
            problems.append("DATABASE_URL: set a PostgreSQL URL, e.g. postgresql+psycopg://user:pass@host/leadsieve")
        if not environ.get("REDIS_URL"):
            problems.append("REDIS_URL: set the URL of a Redis server the web and worker processes share")
        if problems:
            raise ConfigError("leadsieve refuses to start in production with development defaults:\n  - "
                              + "\n  - ".join(problems))
        settings = super().from_env({"LOG_FORMAT": "json", **environ})
        settings["SESSION_COOKIE_SECURE"] = True
        if not environ.get("SMTP_URL"):  # no file outbox nobody reads: e-mail deliveries fail, saying why
            settings["SMTP_URL"] = ""
        return settings


CONFIGS: dict[str, type[Config]] = {
    "development": Config,
    "testing": TestConfig,
    "production": ProductionConfig,
}


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings for the environment named by LEADSIEVE_ENV (default: development)."""
    environ = os.environ if environ is None else environ
    name = environ.get("LEADSIEVE_ENV") or "development"
    if name not in CONFIGS:
        raise ConfigError(f"LEADSIEVE_ENV must be one of {', '.join(CONFIGS)}, got {name!r}")
    return CONFIGS[name].from_env(environ)
